"""A killed or interrupted run loses no finished work and leaves nothing broken.

The build runs as a real `digest build` process (the CLI, in a subprocess)
against the fake edge-tts server in this process, paced so that it takes a
few seconds.  Halfway through, it is killed (SIGKILL) or interrupted (SIGINT,
as Ctrl-C sends); the request log tells what the re-run asked for.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cache import clip_key
from digest.cli import app
from digest.engines.edge import EdgeEngine
from digest.voices import resolve_voice
from digest_testing.fake_edge import (
    FakeEdgeServer,
    fake_audio,
    patch_edge_tts_with_monkeypatch,
    point_edge_tts_at,
)

SECTIONS = 36
ARTICLE = "\n\n".join(
    ["长篇测试：一周要闻回顾"]
    + [
        f"第{n}节\n\n本周第{n}条要闻。记者在现场看到，许多市民正在排队等候办理业务。"
        f"有关部门表示，第{n}项新措施将在下周正式落实，并会根据反馈继续调整。"
        f"专家认为，这一变化对普通家庭的日常生活影响不小，值得持续关注。"
        for n in range(1, SECTIONS + 1)
    ]
)
DATE = "2025-03-04"
CONCURRENCY = 2
SPEED = 150.0  # audio seconds per wall-clock second: ~0.13 s per chunk

RUNNER = """
import sys
from digest_testing.fake_edge import point_edge_tts_at
from digest.cli import app
with point_edge_tts_at(sys.argv[1]):
    app(sys.argv[2:], prog_name="digest")
"""


def cli_args(article: Path, root: Path, cache: str = "cache") -> list[str]:
    return [
        "build",
        str(article),
        "--engine",
        "edge",
        "--date",
        DATE,
        "--quiet",
        "--concurrency",
        str(CONCURRENCY),
        "-o",
        str(root / "out"),
        "--cache-dir",
        str(root / cache),
    ]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The article, its chunks and the bytes of an uninterrupted build."""
    root = tmp_path_factory.mktemp("uninterrupted")
    article = root / "week.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    with FakeEdgeServer() as server, point_edge_tts_at(server):
        result = CliRunner().invoke(app, cli_args(article, root))
        texts = server.texts()
    assert result.exit_code == 0, result.output
    mp3 = Path(result.stdout.strip())
    assert len(texts) == len(set(texts)) >= SECTIONS
    return article, texts, mp3.name, mp3.read_bytes()


def start_build(server: FakeEdgeServer, article: Path, root: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, server.base_url, *cli_args(article, root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_ok(
    server: FakeEdgeServer, process: subprocess.Popen, n: int, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while server.count(outcome="ok") < n:
        assert process.poll() is None, f"the build ended early: {process.communicate()}"
        assert time.monotonic() < deadline, "the build made no progress"
        time.sleep(0.01)


def cached_texts(texts: list[str], cache: Path) -> dict[str, bytes]:
    """The chunks whose clips are in the cache (a clip is complete when its .mp3 exists)."""
    voice = resolve_voice(None).speaker
    found = {}
    for text in texts:
        key = clip_key("edge", EdgeEngine.version, voice, text)
        path = cache / key[:2] / f"{key}.mp3"
        if path.exists():
            found[text] = path.read_bytes()
    return found


def interrupt_and_resume(sig, uninterrupted, tmp_path, monkeypatch):
    article, texts, name, reference = uninterrupted
    with FakeEdgeServer(speed=SPEED) as server:
        process = start_build(server, article, tmp_path)
        try:
            wait_for_ok(server, process, len(texts) // 2)
            process.send_signal(sig)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        first_ok = set(server.texts(outcome="ok"))
        cache = tmp_path / "cache"
        kept = cached_texts(texts, cache)
        # finished work is kept, every kept clip is complete and exactly what the service sent
        assert 0 < len(kept) < len(texts)
        assert set(kept) <= first_ok
        # At most the clips in flight are lost: the requests, and the answers waiting for
        # their check (one place each, synthesis._Run.request), neither checked nor cached.
        assert len(kept) >= len(first_ok) - 2 * CONCURRENCY
        assert all(audio == fake_audio(text) for text, audio in kept.items())
        # nothing broken or half-written where a podcast host could pick it up
        out = tmp_path / "out"
        assert not out.exists() or list(out.iterdir()) == []
        outcome = (process.returncode, stdout, stderr, sorted(p.name for p in cache.rglob("*.tmp")))

        # the re-run asks only for what was not finished, and ends with the same bytes
        server.clear()
        server.speed = None
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        result = CliRunner().invoke(app, cli_args(article, tmp_path))
        assert result.exit_code == 0, result.output
        asked = server.texts()
    assert sorted(asked) == sorted(set(texts) - set(kept))
    mp3 = Path(result.stdout.strip())
    assert mp3.name == name and mp3.read_bytes() == reference
    return outcome


def test_sigkill_halfway_then_resume_synthesizes_only_the_rest(
    uninterrupted, tmp_path, monkeypatch
):
    returncode, _, _, _ = interrupt_and_resume(signal.SIGKILL, uninterrupted, tmp_path, monkeypatch)
    assert returncode == -signal.SIGKILL


def test_ctrl_c_stops_cleanly_keeps_clips_and_leaves_no_temporary_files(
    uninterrupted, tmp_path, monkeypatch
):
    returncode, stdout, stderr, temporaries = interrupt_and_resume(
        signal.SIGINT, uninterrupted, tmp_path, monkeypatch
    )
    assert returncode == 130
    assert stderr.splitlines() == [
        "digest: error: interrupted; finished clips are cached, run the same command to resume"
    ], stderr
    assert stdout == ""
    assert temporaries == []


# --------------------------------------------------------------------------- SIGTERM, a second Ctrl-C (issue 9.15)


def test_sigterm_stops_like_ctrl_c_with_one_line_and_exit_143(uninterrupted, tmp_path, monkeypatch):
    returncode, stdout, stderr, temporaries = interrupt_and_resume(
        signal.SIGTERM, uninterrupted, tmp_path, monkeypatch
    )
    assert returncode == 143
    assert stderr.splitlines() == [
        "digest: error: terminated; finished clips are cached, run the same command to resume"
    ], stderr
    assert stdout == ""
    assert temporaries == []


@pytest.mark.parametrize("gap", [0.0, 0.05])
def test_a_second_ctrl_c_during_the_cleanup_prints_no_traceback(uninterrupted, tmp_path, gap):
    article, texts, _, _ = uninterrupted
    with FakeEdgeServer(speed=SPEED) as server:
        process = start_build(server, article, tmp_path)
        try:
            wait_for_ok(server, process, len(texts) // 3)
            process.send_signal(signal.SIGINT)
            time.sleep(gap)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130, stderr
    assert stderr.splitlines() == [
        "digest: error: interrupted; finished clips are cached, run the same command to resume"
    ], stderr
    assert not list(tmp_path.rglob("*.tmp"))


def test_sigterm_during_an_offline_build_removes_the_espeak_folder(uninterrupted, tmp_path):
    article = uninterrupted[0]
    # espeak needs a short temporary path (<= 28 characters), so not tmp_path
    temp = Path(tempfile.mkdtemp(prefix="dgt", dir="/tmp"))
    try:
        env = {**os.environ, "TMPDIR": str(temp), "PYTHONUNBUFFERED": "1"}
        argv = ["build", str(article), "--engine", "offline", "--quiet", "--no-cache"]
        argv += ["-o", str(tmp_path / "out")]
        process = subprocess.Popen(
            [sys.executable, "-m", "digest", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 60
        while not list(temp.glob("dgst*")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # well inside the synthesis
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
        assert process.returncode == 143, stderr
        assert stderr.splitlines()[-1].startswith("digest: error: terminated"), stderr
        assert len(stderr.splitlines()) == 1, stderr
        assert list(temp.iterdir()) == []  # the espeak voice folder went with the process
        assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    finally:
        shutil.rmtree(temp, ignore_errors=True)
