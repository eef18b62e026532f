"""The fault matrix: every failure the edge-tts service is known for, one test each.

Each test builds a real episode with the REAL edge_tts client talking to the
fake server (digest_testing.fake_edge), with one fault injected into some
request(s), and checks that

* the build succeeds and the MP3 is byte-identical to a fault-free build of the
  same article and date (the fake's audio is deterministic per text, so a
  truncated or otherwise damaged response that slipped through would change the
  bytes);
* the request log shows the fault really happened and was retried;
* every chunk ended with exactly one good response and nothing else is left in
  the output or cache folders.

Faults that cannot clear up (an unknown voice, a permanent outage) must fail
loudly, quickly and without a retry storm.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import edge_tts.communicate
import edge_tts.drm
import mutagen.id3
import pytest
from typer.testing import CliRunner

from digest.cli import app, exit_code
from digest.errors import SynthesisError
from digest.pipeline import BuildOptions, BuildResult, build_episode, prepare_script
from digest.synthesis import MAX_CONCURRENCY, RetryPolicy
from digest_testing.audio import decode_errors
from digest_testing.fake_edge import (
    FakeEdgeServer,
    audio_frames_for,
    default_voices,
    patch_edge_tts_with_monkeypatch,
    point_edge_tts_at,
)

ARTICLE = """晨间简报：城市交通新政

一、地铁延长运营

市交通委员会昨天宣布，从下月起，地铁一号线和二号线将在周五和周六延长运营一小时。官方表示，这项措施是为了方便夜间出行的市民。不少上班族对此表示欢迎。

二、公交线路调整

与此同时，十二条公交线路将重新规划走向，以减少与地铁线路的重复。部分站点会合并，乘客需要留意站牌上的最新信息。交通部门提醒，调整初期可能会有短暂的不便。

三、共享单车管理

共享单车的停放问题也有了新规定。企业必须在高峰时段派人整理车辆，违规停放的车辆会被集中清理。市民可以通过热线电话反映问题。
"""
CHAPTERS = ["晨间简报：城市交通新政", "公交线路调整", "共享单车管理"]
DATE = dt.date(2025, 1, 2)
IDLE = 0.5  # seconds of silence before a stream counts as stalled
FAST = RetryPolicy(attempts=5, base_delay=0.02, max_delay=0.1, timeout=10.0)


def options(root: Path, **overrides) -> BuildOptions:
    base = dict(
        engine="edge",
        date=DATE,
        output_dir=root / "out",
        cache_dir=root / "cache",
        chunk_chars=60,  # six chunks from this small article
        concurrency=1,  # one chunk at a time: each injected fault hits one known chunk
        retry=FAST,
        idle_timeout=IDLE,
    )
    base.update(overrides)
    return BuildOptions(**base)


@dataclass(frozen=True)
class Reference:
    article: Path
    mp3: bytes
    name: str
    texts: tuple[str, ...]  # the chunks, in script order
    seconds: float  # wall time of the fault-free build


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    """One fault-free build of ARTICLE, checked for real properties once."""
    root = tmp_path_factory.mktemp("reference")
    article = root / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    with FakeEdgeServer() as server, point_edge_tts_at(server):
        prepared = prepare_script(article, options(root))
        started = time.monotonic()
        result = build_episode(article, options(root))
        seconds = time.monotonic() - started
        assert server.count() == server.count(outcome="ok") == prepared.script.chunk_count
    texts = tuple(t for chapter in prepared.script.chapters for t in chapter.chunks)
    assert len(texts) >= 5
    mp3 = result.files.mp3
    assert decode_errors(str(mp3)) == ""
    tag = mutagen.id3.ID3(mp3)
    chapters = sorted(tag.getall("CHAP"), key=lambda c: c.start_time)
    assert [c.sub_frames["TIT2"].text[0] for c in chapters] == [
        ch.title for ch in prepared.script.chapters
    ]
    # the audio is exactly the fake's frames for every chunk (no gaps dropped, no extra clip)
    assert result.episode.audio.to_frames().data.count(b"\xff\xf3\x64\xc4") >= sum(
        map(audio_frames_for, texts)
    )
    return Reference(article, mp3.read_bytes(), mp3.name, texts, seconds)


def build(reference: Reference, root: Path, **overrides) -> tuple[BuildResult, float, list[str]]:
    warnings: list[str] = []
    started = time.monotonic()
    result = build_episode(reference.article, options(root, **overrides), warn=warnings.append)
    return result, time.monotonic() - started, warnings


def assert_same_episode(
    result: BuildResult, reference: Reference, server: FakeEdgeServer, root: Path
) -> None:
    """Complete and correct: same bytes as the fault-free run, one good answer per chunk, no debris."""
    assert result.files.mp3.name == reference.name
    assert result.files.mp3.read_bytes() == reference.mp3
    assert sorted(server.texts(outcome="ok")) == sorted(reference.texts)
    out = sorted(p.name for p in (root / "out").iterdir())
    assert len(out) == 4 and all(not n.endswith(".tmp") for n in out)  # mp3, json, srt, vtt
    assert not list((root / "cache").rglob("*.tmp"))
    assert len(list((root / "cache").rglob("*.mp3"))) == len(reference.texts)


def middle(reference: Reference):
    target = reference.texts[len(reference.texts) // 2]
    return target, (lambda r: r.text == target)


# --------------------------------------------------------------------------- 403


def test_403_clock_skew_is_corrected_by_the_client(monkeypatch, reference, tmp_path):
    """A host clock 15 minutes behind: the service answers 403 with its Date;
    edge-tts corrects the skew and retries once, and every later chunk is fine."""
    with FakeEdgeServer(check_token=True, clock_offset=900.0) as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        result, _, _ = build(reference, tmp_path)
        outcomes = [r.outcome for r in server.requests]
        assert outcomes[0] == "403_token"  # the fault really happened ...
        assert outcomes[1:] == ["ok"] * len(reference.texts)  # ... exactly once
        assert result.stats.retries == 0  # the client's own retry was enough
        assert edge_tts.drm.DRM.clock_skew_seconds == pytest.approx(900.0, abs=5.0)
        assert_same_episode(result, reference, server, tmp_path)


def test_403_twice_is_retried_by_digest(fake_edge, reference, tmp_path):
    """A 403 on edge-tts's own skew retry too: the client gives up, digest retries."""
    fake_edge.fail_next("403_skew", times=2)
    result, _, _ = build(reference, tmp_path)
    assert fake_edge.count(outcome="403_skew") == 2
    assert result.stats.retries == 1 and result.stats.requests == len(reference.texts) + 1
    assert_same_episode(result, reference, fake_edge, tmp_path)


# --------------------------------------------------------------------------- 429 / 503


def test_429_is_retried_and_counted_as_throttling(fake_edge, reference, tmp_path):
    fake_edge.fail_next("429")
    result, _, warnings = build(reference, tmp_path)
    assert fake_edge.count(outcome="429") == 1
    assert result.stats.throttled == 1 and result.stats.retries == 1
    assert any("throttled 1 request" in w for w in warnings)
    assert_same_episode(result, reference, fake_edge, tmp_path)


def test_503_is_retried(fake_edge, reference, tmp_path):
    fake_edge.fail_next("503", times=2)
    result, _, _ = build(reference, tmp_path)
    assert fake_edge.count(outcome="503") == 2
    assert result.stats.retries == 2 and result.stats.throttled == 0
    assert_same_episode(result, reference, fake_edge, tmp_path)


def test_permanent_outage_fails_loudly_after_the_configured_attempts(
    fake_edge, reference, tmp_path
):
    """Not every fault clears up: then the run fails with a clear error, no file is written."""
    fake_edge.fail_next("503", times=None)
    with pytest.raises(SynthesisError) as failure:
        build(reference, tmp_path, retry=RetryPolicy(attempts=3, base_delay=0.01, timeout=5.0))
    message = str(failure.value)
    # Either a chunk used its 3 attempts, or 10 failures in a row ended the run first.
    assert "HTTP 503" in message
    assert re.search(r"after 3 attempts|looks down: 10 requests in a row failed", message)
    assert exit_code(failure.value) == 1
    # Either a chunk used its 3 attempts or 10 failures in a row ended the run
    # first; never more than chunks x attempts requests.
    assert 3 <= fake_edge.count(outcome="503") <= 3 * len(reference.texts)
    assert fake_edge.count(outcome="ok") == 0
    assert list((tmp_path / "out").iterdir()) == []


# --------------------------------------------------------------------------- connection refused / reset

_refusals = {"port": None, "seen": 0, "refuse": 0, "then": None}


def _watch_connects(event: str, args: tuple) -> None:
    """Audit hook: notice connection attempts to the closed port (observes, changes nothing
    about the attempt itself); after `refuse` of them, point edge_tts at the live server."""
    if event != "socket.connect" or _refusals["port"] is None:
        return
    address = args[1]
    if isinstance(address, tuple) and len(address) >= 2 and address[1] == _refusals["port"]:
        _refusals["seen"] += 1
        if _refusals["seen"] >= _refusals["refuse"]:
            # this attempt still goes to the closed port (its address is fixed); the next uses the fake
            edge_tts.communicate.WSS_URL = _refusals["then"]


_hook_installed = False


def test_connection_refused_is_retried(fake_edge, reference, tmp_path, monkeypatch):
    """Nothing listening at first (service restarting): the kernel refuses the
    connection; after two refused attempts the service is back."""
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_watch_connects)  # audit hooks cannot be removed; it is inert when idle
        _hook_installed = True
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections to it are refused
    port = closed.getsockname()[1]
    monkeypatch.setattr(
        edge_tts.communicate,
        "WSS_URL",
        fake_edge.wss_url.replace(str(fake_edge.port), str(port), 1),
    )
    _refusals.update(port=port, seen=0, refuse=2, then=fake_edge.wss_url)
    try:
        result, _, _ = build(reference, tmp_path)
    finally:
        _refusals["port"] = None
        closed.close()
    assert _refusals["seen"] == 2  # two real, refused connection attempts ...
    assert result.stats.retries == 2  # ... each retried by digest ...
    assert fake_edge.count() == len(reference.texts)  # ... and none of them reached the server
    assert_same_episode(result, reference, fake_edge, tmp_path)


@pytest.mark.parametrize("times", [2, 3])
def test_connection_reset_before_the_upgrade(fake_edge, reference, tmp_path, times):
    """aiohttp silently repeats a GET once after a reset, so it takes two resets
    in a row to reach digest's retry loop."""
    fake_edge.fail_next("reset", times=times)
    result, _, _ = build(reference, tmp_path)
    assert fake_edge.count(outcome="reset") == times
    assert result.stats.retries == times // 2
    assert_same_episode(result, reference, fake_edge, tmp_path)


# --------------------------------------------------------------------------- no audio


def test_no_audio_received_is_retried(fake_edge, reference, tmp_path):
    target, when = middle(reference)
    fake_edge.fail_next("no_audio", times=2, when=when)
    result, _, _ = build(reference, tmp_path)
    assert [r.outcome for r in fake_edge.requests if r.text == target] == [
        "no_audio",
        "no_audio",
        "ok",
    ]
    assert result.stats.retries == 2
    assert len(fake_edge.voice_list_requests) == 1  # the voice was checked once, and is offered
    assert_same_episode(result, reference, fake_edge, tmp_path)


# --------------------------------------------------------------------------- silent truncation


@pytest.mark.parametrize("fault", ["truncate", "reset_midstream"])
def test_stream_cut_short_is_detected_and_never_stitched(fake_edge, reference, tmp_path, fault):
    """The connection ends halfway through the audio; edge-tts reports success.
    digest must notice from the sentence boundaries and ask again."""
    target, when = middle(reference)
    fake_edge.fail_next(fault, when=when)
    result, _, _ = build(reference, tmp_path)
    cut, good = [r for r in fake_edge.requests if r.text == target]
    assert cut.outcome == fault and good.outcome == "ok"
    assert 0 < cut.audio_bytes_sent < cut.audio_bytes_total  # half the audio really was delivered
    assert result.stats.retries == 1
    # byte identity proves the half clip was thrown away, not stitched in
    assert_same_episode(result, reference, fake_edge, tmp_path)


# --------------------------------------------------------------------------- stalls


@pytest.mark.parametrize("fault", ["stall", "stall_silent", "handshake_stall"])
def test_stalled_stream_times_out_within_the_idle_bound(fake_edge, reference, tmp_path, fault):
    """The service stops sending (after some frames, before any, or before the
    upgrade) and holds the connection open for two minutes: digest must give up
    after `idle_timeout` and retry."""
    if fault == "handshake_stall":
        fake_edge.fail_next(fault, times=2)  # handshake faults hit the next connections
    else:
        target, when = middle(reference)
        fake_edge.fail_next(fault, times=2, when=when)
    result, seconds, _ = build(reference, tmp_path)
    stalled = [r for r in fake_edge.requests if r.outcome == fault]
    assert len(stalled) == 2 and result.stats.retries == 2
    if fault == "stall":
        assert all(r.audio_bytes_sent > 0 for r in stalled)  # it stalled after the first frames
    # two stalls cost two idle timeouts, plus a little slack for everything else
    assert seconds < reference.seconds + 2 * IDLE + 2.0
    assert seconds >= 2 * IDLE * 0.9
    assert_same_episode(result, reference, fake_edge, tmp_path)


# --------------------------------------------------------------------------- malformed frames


@pytest.mark.parametrize("fault", ["malformed", "bad_binary", "bad_metadata", "oversize"])
def test_malformed_frames_are_retried(fake_edge, reference, tmp_path, fault):
    target, when = middle(reference)
    fake_edge.fail_next(fault, when=when)
    result, _, _ = build(reference, tmp_path)
    assert [r.outcome for r in fake_edge.requests if r.text == target] == [fault, "ok"]
    assert result.stats.retries == 1
    assert_same_episode(result, reference, fake_edge, tmp_path)


# --------------------------------------------------------------------------- unknown voice

NOT_SERVED = "zh-CN-XiaoyiNeural"  # a name digest knows, which this service does not offer


@pytest.fixture
def service_without_voice(monkeypatch):
    voices = [v for v in default_voices() if v["ShortName"] != NOT_SERVED]
    with FakeEdgeServer(voices=voices) as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        yield server


def test_unknown_voice_fails_fast_without_a_retry_storm(service_without_voice, reference, tmp_path):
    server = service_without_voice
    with pytest.raises(SynthesisError) as failure:
        build(
            reference,
            tmp_path,
            voice=NOT_SERVED,
            concurrency=3,
            retry=RetryPolicy(attempts=5, base_delay=0.05),
        )
    message = str(failure.value)
    assert f"voice '{NOT_SERVED}' is not offered by the service" in message and "\n" not in message
    # at most one request per chunk in flight, none retried; one look at the voice list
    assert 1 <= server.count() <= 3
    assert server.count() == server.count(outcome="unknown_voice")
    assert len(server.voice_list_requests) == 1
    assert list((tmp_path / "out").iterdir()) == []


def test_unknown_voice_through_the_cli_exits_1_with_one_line(
    service_without_voice, reference, tmp_path
):
    result = CliRunner().invoke(
        app,
        [
            "build",
            str(reference.article),
            "--engine",
            "edge",
            "--voice",
            NOT_SERVED,
            "-o",
            str(tmp_path / "out"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--date",
            "2025-01-02",
        ],
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("digest: error: ") and NOT_SERVED in lines[0]
    assert "Traceback" not in result.output
    assert (
        service_without_voice.count() <= 6
    )  # default concurrency: one try per chunk in flight at most
    assert list((tmp_path / "out").iterdir()) == []


# --------------------------------------------------------------------------- rate limiting

LONG_ARTICLE = "\n\n".join(
    ["长篇测试：每日简报"]
    + [
        f"第{n}节\n\n这是第{n}节的内容。记者在现场看到，许多市民正在排队等候。"
        f"有关部门表示，第{n}项措施将在下周落实。专家认为，这一变化值得关注。"
        for n in range(1, 25)
    ]
)


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory) -> Reference:
    root = tmp_path_factory.mktemp("long-reference")
    article = root / "long.txt"
    article.write_text(LONG_ARTICLE, encoding="utf-8")
    with FakeEdgeServer() as server, point_edge_tts_at(server):
        result = build_episode(article, options(root, concurrency=4))
        texts = tuple(server.texts())
    assert len(texts) >= 24
    return Reference(article, result.files.mp3.read_bytes(), result.files.mp3.name, texts, 0.0)


def test_429_lowers_concurrency_for_the_rest_of_the_run(monkeypatch, long_reference, tmp_path):
    """A service that throttles more than 3 parallel connections; digest starts
    with 12.  After the first 429s it must slow down for good: with halving, the
    429s stay confined to the first wave instead of recurring all run long."""
    with FakeEdgeServer(max_concurrent=3, latency=0.05) as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        result, _, warnings = build(long_reference, tmp_path, concurrency=12)
        log = server.requests
    throttled = [r.index for r in log if r.outcome == "429_concurrency"]
    assert throttled and result.stats.throttled == len(throttled)
    assert len(throttled) <= 12  # only the opening burst was too busy
    assert max(throttled) < len(log) // 2  # and nothing was throttled in the second half of the run
    assert any("concurrency was lowered" in w for w in warnings)
    assert result.files.mp3.read_bytes() == long_reference.mp3


def test_concurrency_above_16_is_capped_with_a_warning(monkeypatch, long_reference, tmp_path):
    with FakeEdgeServer(latency=0.3) as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        result = CliRunner().invoke(
            app,
            [
                "build",
                str(long_reference.article),
                "--engine",
                "edge",
                "--concurrency",
                "40",
                "-o",
                str(tmp_path / "out"),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--date",
                "2025-01-02",
            ],
        )
        peak = server.peak_concurrency
        chunks = server.count(outcome="ok")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("digest: warning:")]
    assert warnings == [
        f"digest: warning: --concurrency 40 is capped at {MAX_CONCURRENCY}: the service throttles busier clients"
    ]
    assert chunks > MAX_CONCURRENCY  # enough work to exceed the cap if it were not enforced
    assert MAX_CONCURRENCY // 2 < peak <= MAX_CONCURRENCY


def test_an_outage_stops_the_run_early_instead_of_retrying_every_chunk(
    fake_edge, long_reference, tmp_path
):
    """Every request fails: after a run of failures with no success the build gives
    up, long before each of the 24+ chunks has used its own five attempts."""
    fake_edge.fail_next("503", times=None)
    with pytest.raises(SynthesisError) as failure:
        build(
            long_reference,
            tmp_path,
            concurrency=4,
            retry=RetryPolicy(attempts=5, base_delay=0.01, timeout=5.0),
        )
    assert "requests in a row failed, giving up" in str(failure.value)
    give_up_after, in_flight = 10, 4
    assert fake_edge.count() <= give_up_after + in_flight < len(long_reference.texts)
    assert list((tmp_path / "out").iterdir()) == []
