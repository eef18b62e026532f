"""The service is never kept waiting by our own checks (issue 14, pacing).

Measuring a clip (`digest.checks.ClipCheck`, an ffmpeg run) used to happen
while the clip still held its request slot, so a slot sat idle for every
check.  These tests pin the order of events with the in-memory engine and a
check that waits on the test, not on a clock: the next request goes out while
a clip is being checked, a failed check is still retried, and answers waiting
for their check are bounded so slow checks hold requests back.  The wall-time
figure is measured by benchmarks/scale.py.
"""

from __future__ import annotations

import asyncio

from digest.cache import ClipCache
from digest.engines.base import EngineError, Speaker
from digest.loudness import Blocks
from digest.script import Script, ScriptChapter
from digest.synthesis import RetryPolicy, SynthesisStats, synthesize_script
from digest_testing.fake_engine import FakeEngine

VOICE = Speaker(voice="fake-voice")
BLOCKS = Blocks(energies=(1.0,), peaks=(0.5,))


def script_of(*texts: str) -> Script:
    return Script("title", "zh-CN", (ScriptChapter("c", tuple(texts)),))


async def until(condition, turns: int = 1000) -> bool:
    """Let other tasks run (no clock involved) until `condition()` holds; False if it never does."""
    for _ in range(turns):
        if condition():
            return True
        await asyncio.sleep(0)
    return condition()


def test_the_next_request_goes_out_while_a_clip_is_being_checked():
    # One request at a time.  The longest chunk goes first; its check waits
    # until the engine has been asked for the next chunk, which only happens if
    # the check does not hold the request slot.
    engine = FakeEngine()
    seen_during_check: dict[str, list[str]] = {}

    async def check(text: str, frames, known) -> Blocks:
        await until(lambda: engine.calls[-1] != text or len(engine.calls) == 3)
        seen_during_check[text] = list(engine.calls)
        return BLOCKS

    script = script_of("第一句比较长一些。", "第二句短。", "第三。")
    clips = asyncio.run(
        synthesize_script(script, engine, VOICE, ClipCache(None), concurrency=1, check=check)
    )

    assert seen_during_check["第一句比较长一些。"][:2] == ["第一句比较长一些。", "第二句短。"]
    assert seen_during_check["第二句短。"] == ["第一句比较长一些。", "第二句短。", "第三。"]
    assert [clip.index for clip in clips[0]] == [0, 1, 2]
    assert all(clip.blocks == BLOCKS for clip in clips[0])


def test_a_clip_that_fails_its_check_is_requested_again():
    engine = FakeEngine()
    verdicts = iter([EngineError("dead air", retryable=True)])

    async def check(text: str, frames, known) -> Blocks:
        verdict = next(verdicts, None)
        if verdict is not None:
            raise verdict
        return BLOCKS

    stats = SynthesisStats()
    clips = asyncio.run(
        synthesize_script(
            script_of("只有一句。"),
            engine,
            VOICE,
            ClipCache(None),
            concurrency=2,
            check=check,
            stats=stats,
            retry=RetryPolicy(base_delay=0.0),
        )
    )

    assert engine.calls == ["只有一句。", "只有一句。"]
    assert stats.requests == 2 and stats.retries == 1
    assert clips[0][0].blocks == BLOCKS


def test_answers_waiting_for_their_check_are_bounded_by_the_concurrency():
    # Checks stall until the test lets them go: `concurrency` answers wait for
    # their check, `concurrency` more hold their slots, and no further request
    # goes out meanwhile (audio does not pile up behind a slow check).
    concurrency = 2
    engine = FakeEngine()
    checks_may_finish = asyncio.Event()
    checking = 0
    most_checking = 0

    async def check(text: str, frames, known) -> Blocks:
        nonlocal checking, most_checking
        checking += 1
        most_checking = max(most_checking, checking)
        await checks_may_finish.wait()
        checking -= 1
        return BLOCKS

    texts = [f"第{n}句。" + "好" * n for n in range(10)]

    async def scenario() -> tuple[int, int, list]:
        run = asyncio.ensure_future(
            synthesize_script(
                script_of(*texts),
                engine,
                VOICE,
                ClipCache(None),
                concurrency=concurrency,
                check=check,
            )
        )
        await until(lambda: False, turns=200)  # everything that can happen, happens
        requested_while_stalled = len(engine.calls)
        checking_while_stalled = checking
        checks_may_finish.set()
        return requested_while_stalled, checking_while_stalled, await run

    requested, waiting, clips = asyncio.run(scenario())

    assert requested == 2 * concurrency
    assert waiting == concurrency == most_checking
    assert len(engine.calls) == len(texts)
    assert [clip.index for clip in clips[0]] == list(range(len(texts)))
