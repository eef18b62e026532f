"""Scheduling of chunks (issue 14): one wake-up per release, longest chunks first.

The 1-second figure for 8,000 chunks is measured by benchmarks/scale.py; these
tests check the properties that make it linear: a release wakes exactly one
waiter, the limit can be halved while tasks wait, and requests go out longest
first while clips come back in script order.
"""

from __future__ import annotations

import asyncio

from digest.cache import ClipCache
from digest.engines.base import Boundary, Speaker, Speech
from digest.script import Script, ScriptChapter
from digest.synthesis import SynthesisStats, _AdaptiveLimit, synthesize_script
from digest_testing.fake_engine import FakeEngine, tone_speech

VOICE = Speaker(voice="fake-voice")


async def crowd(limit: _AdaptiveLimit, count: int, body) -> list[int]:
    """`count` tasks through `limit`; returns the order in which they got in."""
    entered: list[int] = []

    async def one(number: int) -> None:
        async with limit:
            entered.append(number)
            await body(number)

    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(count))), 30)
    return entered


def test_each_release_wakes_exactly_one_waiter():
    limit = _AdaptiveLimit(6)
    in_flight = peak = 0

    async def work(number: int) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1

    entered = asyncio.run(crowd(limit, 8000, work))
    assert peak == 6
    # the first six get in at once; every other task is woken once, and only once
    assert limit.wakeups == 8000 - 6
    assert entered == list(range(8000))  # first come, first served


def test_halving_while_tasks_wait_lowers_the_limit_for_later_entries():
    limit = _AdaptiveLimit(6)
    in_flight = 0
    seen: list[int] = []  # requests in flight as each task gets in

    async def work(number: int) -> None:
        nonlocal in_flight
        in_flight += 1
        seen.append(in_flight)
        if number == 5:
            limit.halve()  # a 429 with six in flight and 24 tasks waiting
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1

    entered = asyncio.run(crowd(limit, 30, work))
    assert sorted(entered) == list(range(30))
    assert seen[:6] == [1, 2, 3, 4, 5, 6]
    assert max(seen[6:]) <= 3  # after the halving, never more than three at once
    assert limit.limit == 3 and limit.wakeups == 30 - 6


def test_a_cancelled_waiter_passes_its_turn_on():
    async def scenario() -> list[str]:
        limit = _AdaptiveLimit(1)
        got_in: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with limit:
                got_in.append("holder")
                await release.wait()

        async def waiter(name: str) -> None:
            async with limit:
                got_in.append(name)

        tasks = [asyncio.ensure_future(holder())]
        await asyncio.sleep(0)
        tasks += [asyncio.ensure_future(waiter(n)) for n in ("early", "handed", "last")]
        await asyncio.sleep(0)  # all three wait
        tasks[1].cancel()  # cancelled while queued: skipped
        await asyncio.sleep(0)
        release.set()
        await asyncio.sleep(0)  # the holder leaves and hands its slot to "handed" ...
        tasks[2].cancel()  # ... which is cancelled before it runs: "last" must get in
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        assert tasks[1].cancelled() and tasks[2].cancelled()
        return got_in

    assert asyncio.run(scenario()) == ["holder", "last"]


class YieldingEngine(FakeEngine):
    """FakeEngine at near-zero cost that yields once per request, as a network engine does."""

    def __init__(self) -> None:
        audio = tone_speech("短句。").audio  # 0.6 s: one short clip serves every chunk
        super().__init__(handler=lambda text, voice: Speech(audio, (Boundary(0.0, 0.5, text),)))
        self.in_flight = self.peak = 0

    async def synthesize(self, text, voice):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0)
            return await super().synthesize(text, voice)
        finally:
            self.in_flight -= 1


def test_8000_chunks_go_out_longest_first_and_come_back_in_script_order():
    texts = [f"第{n}句" + "好" * (n * 7919 % 13) + "。" for n in range(8000)]
    chapters = tuple(
        ScriptChapter(f"c{c}", tuple(texts[c * 800 : (c + 1) * 800])) for c in range(10)
    )
    script = Script("title", "zh-CN", chapters)
    engine = YieldingEngine()
    stats = SynthesisStats()

    clips = asyncio.run(
        synthesize_script(script, engine, VOICE, ClipCache(None), concurrency=6, stats=stats)
    )

    assert stats.requests == 8000 and engine.peak == 6
    # requests: longest first; chunks of one length keep their script order
    assert engine.calls == sorted(texts, key=len, reverse=True)
    assert [len(chapter) for chapter in clips] == [800] * 10
    assert [(clip.chapter, clip.index) for chapter in clips for clip in chapter] == [
        (c, i) for c in range(10) for i in range(800)
    ]
