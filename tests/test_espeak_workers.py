"""The offline engine's espeak workers: same bytes as in-process espeak, renewed after N
utterances, never left behind, replaced when one dies or hangs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import digest
from digest.engines import espeak_binding
from digest.engines.base import EngineError, Speaker
from digest.engines.espeak_pool import WORKER_FILE, WorkerLost, WorkerPool
from digest.engines.espeak_voices import flat_voice_file
from digest.engines.offline import OfflineEngine, speak_in_process
from digest.synthesis import RetryPolicy

pytestmark = pytest.mark.skipif(
    not OfflineEngine().available(), reason="espeak-ng library not loadable"
)

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "今天天气很好，我们去公园散步吧！你觉得怎么样？",
    "這個軟體的語音合成品質很好。颱風明天會帶來豪雨嗎？",
    "人工智能正在改变我们的生活和工作方式。科学家们表示，前景非常广阔。",
]
SPEAKERS = [
    Speaker("cmn"),
    Speaker("cmn", pitch="-10Hz"),
    Speaker("cmn", rate="+20%", pitch="+15Hz", volume="-10%"),
]
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def workers_of(parent: int) -> list[int]:
    """Live espeak workers started by process `parent` (the pid is in their command line),
    wherever they were re-parented to."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if WORKER_FILE.encode() in argv and str(parent).encode() in argv[2:3] and state != "Z":
            found.append(int(entry))
    return found


def wait_until(condition, seconds: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def request(text: str = TEXTS[0]) -> tuple:
    voice_file = flat_voice_file(espeak_binding.data_path(), "cmn", 0)
    return text, "cmn", voice_file, 220, 55


# -- bytes -----------------------------------------------------------------------------


def test_clips_from_workers_are_the_bytes_espeak_gives_in_process():
    async def in_workers():
        engine = OfflineEngine()
        try:
            jobs = [engine.synthesize(t, s) for t in TEXTS for s in SPEAKERS]
            return await asyncio.gather(*jobs)
        finally:
            engine.close()

    from_workers = asyncio.run(in_workers())
    in_process = [speak_in_process(t, s) for t in TEXTS for s in SPEAKERS]
    assert [c.audio for c in from_workers] == [c.audio for c in in_process]
    assert [c.boundaries for c in from_workers] == [c.boundaries for c in in_process]
    assert [c.blocks for c in from_workers] == [c.blocks for c in in_process]
    assert len({c.audio for c in in_process}) == len(in_process)  # the settings mattered


def test_a_worker_renews_itself_after_n_utterances_and_speaks_the_same_bytes():
    pool = WorkerPool(1, recycle_after=2)
    try:
        first = pool.speak(*request())
        (pid,) = pool.pids()
        seen = []
        for _ in range(4):
            assert pool.speak(*request()).pcm == first.pcm
            (worker,) = pool._running
            seen.append(worker.renewals)
        # renewed after utterances 2 and 4; its hello is read before the next request
        assert seen == [0, 1, 1, 2]
        assert pool.pids() == [pid] and pool.started == 1
        # a renewal is a new process image (exec) with the count in its command line
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[1:4] == [WORKER_FILE.encode(), str(os.getpid()).encode(), b"2"]
    finally:
        pool.close()
    assert not Path(f"/proc/{pid}").exists()  # ended and reaped


def test_espeak_refusals_are_not_retryable_and_leave_the_worker_usable():
    pool = WorkerPool(1)
    try:
        with pytest.raises(espeak_binding.EspeakError, match="unknown espeak voice"):
            pool.speak("你好。", "no-such-voice-xyz", None, 220, 55)
        assert pool.speak(*request()).pcm
        assert pool.started == 1
    finally:
        pool.close()


# -- never left behind -------------------------------------------------------------------


def test_a_build_leaves_no_worker_behind(tmp_path):
    before = set(workers_of(os.getpid()))  # other tests' engines, not yet collected
    engine = OfflineEngine()
    options = digest.BuildOptions(engine=engine, output_dir=tmp_path, use_cache=False)
    result = digest.build_episode_from_text("标题\n\n第一段。第二句话！\n\n第二段。", options)
    assert result.files.mp3.exists()
    assert engine.workers is None  # the build closed the engine
    assert set(workers_of(os.getpid())) <= before


def test_an_engine_nobody_closes_ends_its_workers_when_it_goes():
    engine = OfflineEngine()
    asyncio.run(engine.synthesize(TEXTS[0], SPEAKERS[0]))
    (pid,) = engine.workers.pids()
    assert pid in workers_of(os.getpid())
    del engine
    assert not Path(f"/proc/{pid}").exists()


def start_cli_build(article: Path, out: Path) -> subprocess.Popen:
    argv = ["build", str(article), "--engine", "offline", "--quiet", "--no-cache", "-o", str(out)]
    return subprocess.Popen(
        [sys.executable, "-m", "digest", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,  # its own process group, as a terminal would give it
    )


def test_ctrl_c_reaches_the_workers_too_and_none_is_left(tmp_path):
    process = start_cli_build(DATA / "meta-talent-war.txt", tmp_path / "out")
    try:
        wait_until(lambda: workers_of(process.pid) or process.poll() is not None, what="a worker")
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)  # the whole group, like Ctrl-C in a terminal
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert stderr.splitlines() == [
        "digest: error: interrupted; finished clips are cached, run the same command to resume"
    ] or stderr.startswith("digest: error: interrupted"), stderr
    assert workers_of(process.pid) == []


def test_workers_die_with_a_killed_build(tmp_path):
    process = start_cli_build(DATA / "meta-talent-war.txt", tmp_path / "out")
    try:
        wait_until(lambda: workers_of(process.pid) or process.poll() is not None, what="a worker")
        assert process.poll() is None, process.communicate()
        process.kill()  # SIGKILL to the build alone: no cleanup runs in it
        process.communicate(timeout=30)
        wait_until(lambda: not workers_of(process.pid), seconds=10, what="the workers to die")
    finally:
        if process.poll() is None:
            process.kill()


def test_workers_ignore_sigint():
    pool = WorkerPool(1)
    try:
        first = pool.speak(*request())
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGINT)
        time.sleep(0.05)
        assert pool.speak(*request()).pcm == first.pcm
        assert pool.pids() == [pid]
    finally:
        pool.close()


# -- failures ----------------------------------------------------------------------------


def test_a_hung_worker_is_killed_and_replaced():
    pool = WorkerPool(1, reply_timeout=0.3)
    try:
        first = pool.speak(*request())
        (hung,) = pool.pids()
        os.kill(hung, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(WorkerLost, match="did not answer in time"):
            pool.speak(*request())
        assert time.monotonic() - started < 10
        assert pool.speak(*request()).pcm == first.pcm
        assert pool.pids() != [hung] and pool.started == 2
        assert not Path(f"/proc/{hung}").exists()  # killed and reaped
    finally:
        pool.close()


def test_a_worker_killed_while_idle_is_replaced_unnoticed():
    engine = OfflineEngine()
    try:
        first = asyncio.run(engine.synthesize(TEXTS[0], SPEAKERS[0]))
        (pid,) = engine.workers.pids()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z")
        assert asyncio.run(engine.synthesize(TEXTS[0], SPEAKERS[0])).audio == first.audio
        assert engine.workers.pids() != [pid]
    finally:
        engine.close()


def test_a_worker_killed_while_speaking_fails_its_clip_as_retryable():
    engine = OfflineEngine()
    try:
        first = asyncio.run(engine.synthesize(TEXTS[0], SPEAKERS[0]))
        (pid,) = engine.workers.pids()
        os.kill(pid, signal.SIGSTOP)  # it takes the next request, and never answers...
        threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()  # ... it dies instead
        with pytest.raises(EngineError, match="espeak worker exited") as caught:
            asyncio.run(engine.synthesize(TEXTS[0], SPEAKERS[0]))
        assert caught.value.retryable
        assert asyncio.run(engine.synthesize(TEXTS[0], SPEAKERS[0])).audio == first.audio
    finally:
        engine.close()


def test_a_worker_killed_mid_build_costs_a_retry_not_the_episode(tmp_path):
    article = (DATA / "meta-talent-war.txt").read_text(encoding="utf-8")

    def build(engine, out: Path) -> bytes:
        options = digest.BuildOptions(
            engine=engine, output_dir=out, use_cache=False, date="2026-11-30", retry=FAST_RETRY
        )
        return digest.build_episode_from_text(article, options).files.mp3.read_bytes()

    reference = build("offline", tmp_path / "reference")

    engine = OfflineEngine()
    killed: list[int] = []

    def kill_a_worker():
        wait_until(lambda: engine.workers is not None, what="the engine to start")
        pool = engine.workers
        wait_until(
            lambda: pool.pids() and pool._running and max(w.spoken for w in pool._running) >= 2
        )
        victim = pool.pids()[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    episode = build(engine, tmp_path / "killed")
    killer.join()
    assert killed
    assert episode == reference
    assert engine.workers is None
