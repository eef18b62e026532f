"""Choosing the engine: auto falls back to offline quickly, edge never does, offline stays off the network."""

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import edge_tts.communicate
import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from digest.cli import app
from digest.pipeline import BuildOptions, build_episode
from digest.synthesis import RetryPolicy
from digest_testing.audio import decode_errors, decode_mp3

DATA = Path(__file__).parent / "data"
ARTICLE = DATA / "typhoon-traditional.txt"


@pytest.fixture
def closed_port(monkeypatch):
    """Point edge-tts at a local port nobody listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", f"ws://127.0.0.1:{port}/edge/v1?X=1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return port


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_auto_falls_back_to_offline_within_seconds_and_says_so(closed_port, tmp_path):
    warnings = []
    started = time.monotonic()
    result = build_episode(
        ARTICLE,
        BuildOptions(
            engine="auto",
            output_dir=tmp_path / "out",
            cache_dir=tmp_path / "c",
            date=dt.date(2026, 1, 1),
        ),
        warn=warnings.append,
    )
    assert time.monotonic() - started < 10
    assert result.engine == "offline"
    assert len(warnings) == 1 and "offline" in warnings[0]
    tag = ID3(result.files.mp3)
    assert tag.getall("TXXX:digest:engine")[0].text[0] == "offline"
    assert len(tag.getall("CHAP")) == 5


def test_auto_uses_edge_when_the_service_answers(fake_edge, tmp_path):
    result = build_episode(
        ARTICLE, BuildOptions(engine="auto", output_dir=tmp_path / "o", cache_dir=tmp_path / "c")
    )
    assert result.engine == "edge"
    assert len(fake_edge.requests) == result.stats.requests > 0


def test_edge_never_falls_back_and_fails_cleanly(closed_port, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "build",
            str(ARTICLE),
            "--engine",
            "edge",
            "-o",
            str(out),
            "--no-cache",
            "--quiet",
            "--retries",
            "2",
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: ") and result.stderr.count("\n") == 1
    assert "connection failed" in result.stderr
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []


def test_offline_episode_end_to_end_without_any_network(no_network, tmp_path):
    article = DATA / "ev-market-simplified.txt"
    result = build_episode(
        article,
        BuildOptions(
            engine="offline",
            output_dir=tmp_path / "out",
            cache_dir=tmp_path / "c",
            retry=RetryPolicy(attempts=1),
        ),
    )
    assert no_network == []
    mp3 = result.files.mp3
    assert decode_errors(str(mp3)) == ""
    audio = decode_mp3(mp3.read_bytes())
    assert len(audio) / 1000 == pytest.approx(result.episode.duration, abs=0.05)
    spoken_chars = sum(len(c) for ch in build_script_for(article) for c in ch.chunks)
    # espeak at 220 wpm speaks roughly 3 to 7 characters a second, plus the pauses.
    assert spoken_chars / 7 < result.episode.duration < spoken_chars / 3 + 10
    assert audio.dBFS > -35  # audible, not silence
    assert audio.max_dBFS < -1  # and not clipping
    chapters = ID3(mp3).getall("CHAP")
    assert len(chapters) == 5
    assert max(c.end_time for c in chapters) / 1000 == pytest.approx(len(audio) / 1000, abs=0.05)


def build_script_for(article):
    from digest.article import parse_article
    from digest.script import build_script

    return build_script(parse_article(article.read_text(encoding="utf-8")), "zh-CN").chapters


def test_offline_and_edge_clips_never_share_cache_entries(fake_edge, tmp_path):
    cache = tmp_path / "c"
    offline = build_episode(
        ARTICLE, BuildOptions(engine="offline", output_dir=tmp_path / "a", cache_dir=cache)
    )
    edge = build_episode(
        ARTICLE, BuildOptions(engine="edge", output_dir=tmp_path / "b", cache_dir=cache)
    )
    assert offline.stats.requests > 0 and edge.stats.cached == 0
    assert edge.stats.requests == len(fake_edge.requests) == offline.stats.requests


def test_an_offline_preset_refuses_engine_edge(tmp_path):
    result = CliRunner().invoke(
        app, ["build", str(ARTICLE), "--voice", "offline", "--engine", "edge", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "offline voice" in result.stderr


def test_the_probe_goes_through_the_proxy_the_environment_names(monkeypatch):
    from digest.engines.edge import probe_address

    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", "wss://speech.example.com/edge/v1?X=1")
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "WSS_PROXY",
        "wss_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    assert probe_address() == ("speech.example.com", 443)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert probe_address() == ("proxy.corp", 3128)
    monkeypatch.setenv("NO_PROXY", "example.com")
    assert probe_address() == ("speech.example.com", 443)


PLUGIN_CHECK = """
import sys
from digest.engines import engine_class, engine_names
assert engine_class("offline").name == "offline"
print("metadata read for a built-in:", "importlib.metadata" in sys.modules)
print("plugin:", engine_class("echo").name)
print("names:", ",".join(engine_names()))
print("edge still built in:", engine_class("edge").__module__)
"""


def test_a_plugin_engine_is_found_by_its_entry_point_and_built_ins_need_none(tmp_path):
    """Entry points are read for a name that is not built in (and for the full list),
    never for a built-in one; a plugin cannot take a built-in name."""
    (tmp_path / "echo_engine.py").write_text(
        "class EchoEngine:\n    name = 'echo'\n\nclass FakeEdge:\n    name = 'edge'\n"
    )
    info = tmp_path / "echo_engine-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-engine\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[digest.engines]\necho = echo_engine:EchoEngine\nedge = echo_engine:FakeEdge\n"
    )
    printed = subprocess.run(
        [sys.executable, "-c", PLUGIN_CHECK],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    ).stdout.splitlines()
    assert printed == [
        "metadata read for a built-in: False",
        "plugin: echo",
        "names: echo,edge,offline",
        "edge still built in: digest.engines.edge",
    ]
