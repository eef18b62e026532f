"""Script -> Clips: every chunk spoken once, concurrently, cached, verified.

The engine is trusted for nothing.  Each request runs under an overall
deadline, failures that can clear up are retried with exponential backoff and
jitter, and audio shorter than its own last sentence boundary (a stream cut
short, which edge-tts reports as success) counts as a failure.  A 429 halves
the number of requests in flight for the rest of the run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from digest.cache import ClipCache, clip_key
from digest.checks import clip_fields
from digest.clips import (  # re-exported: the names callers of synthesis use
    MAX_CONCURRENCY,
    Clip,
    Progress,
    RetryPolicy,
    SynthesisStats,
    cached_clip,
    check_complete,
    check_duration,
    parse_clip,
)
from digest.coverage import check_covered
from digest.engines.base import Engine, EngineError, Speaker
from digest.errors import SynthesisError
from digest.frame_stream import FRAMES_FIELD, ClipAudio, frames_field, stored_frames
from digest.loudness import Blocks
from digest.mp3 import Mp3Error
from digest.script import Script

__all__ = [
    "MAX_CONCURRENCY",
    "Clip",
    "ClipChecker",
    "Progress",
    "RetryPolicy",
    "SynthesisStats",
    "check_complete",
    "check_duration",
    "describe_chunk",
    "parse_clip",
    "synthesize_script",
]

# Measures a clip (unless its blocks are known: the third argument) and raises a
# retryable EngineError if it is not speech (digest.checks.ClipCheck).
ClipChecker = Callable[[str, ClipAudio, Blocks | None], Awaitable[Blocks]]


class _AdaptiveLimit:
    """A semaphore whose limit can shrink while tasks wait on it.

    Waiters queue first come, first served, and a release hands its slot to the
    first waiter only: waking every waiter on each release made n chunks cost
    O(n^2) (8,000 chunks took 26 s of scheduling alone).  After `halve`, releases
    hand nothing on until fewer than `limit` requests are in flight.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.wakeups = 0  # waiters handed a slot; at most one per release
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self._active < self.limit:  # then nobody is waiting: releases hand slots out
            self._active += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # the slot is counted as ours when the future is set
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot while being cancelled: pass it on
            raise  # a cancelled future left in the queue is skipped by `_release`

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        self._active -= 1
        while self._waiters and self._active < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter gives its turn to the next
                self._active += 1
                self.wakeups += 1
                waiter.set_result(None)

    def halve(self) -> None:
        self.limit = max(1, self.limit // 2)


def describe_chunk(script: Script, chapter: int, text: str) -> str:
    words = text[:20] + ("…" if len(text) > 20 else "")
    return (
        f"section {chapter + 1} ({script.chapters[chapter].title[:30]}), chunk starting “{words}”"
    )


async def _settle(tasks: list[asyncio.Future]) -> None:
    """Wait until every task has finished, however often the caller is cancelled meanwhile."""
    pending = [task for task in tasks if not task.done()]
    while pending:
        try:
            await asyncio.wait(pending)
        except asyncio.CancelledError:
            pass  # the interrupt is already being acted on; the tasks are winding down
        pending = [task for task in pending if not task.done()]
    for task in tasks:  # retrieve every outcome, so none is logged as never retrieved
        if not task.cancelled():
            task.exception()


async def synthesize_script(
    script: Script,
    engine: Engine,
    speaker: Speaker,
    cache: ClipCache,
    *,
    concurrency: int = 6,
    retry: RetryPolicy = RetryPolicy(),
    progress: Progress | None = None,
    stats: SynthesisStats | None = None,
    check: ClipChecker | None = None,
) -> list[list[Clip]]:
    """Speak every chunk of `script`; clips come back grouped by chapter, in order.

    Raises SynthesisError when a chunk fails for good or the engine looks down.
    `check` measures each clip and refuses one that is not speech (see digest.checks).
    """
    run = _Run(script, engine, speaker, cache, concurrency, retry, progress, stats, check)
    chunks = [
        _Chunk(c, i, text)
        for c, chapter in enumerate(script.chapters)
        for i, text in enumerate(chapter.chunks)
    ]
    # Longest chunks first (tasks start in the order they are made, and the limiter
    # is first come, first served): a long chunk started last would finish alone
    # after all the others.  The clips still come back in script order.
    longest_first = sorted(range(len(chunks)), key=lambda k: -len(chunks[k].text))
    clips = await _all_or_nothing([run.clip(chunks[k]) for k in longest_first], longest_first)
    return _by_chapter(script, clips)


@dataclass(frozen=True)
class _Chunk:
    chapter: int
    index: int  # position within the chapter
    text: str


class _Run:
    """The state one synthesis run shares across its chunks: the limit on requests in
    flight, the run of failures in a row, the progress count."""

    def __init__(
        self,
        script: Script,
        engine: Engine,
        speaker: Speaker,
        cache: ClipCache,
        concurrency: int,
        retry: RetryPolicy,
        progress: Progress | None,
        stats: SynthesisStats | None,
        check: ClipChecker | None,
    ):
        self.script, self.engine, self.speaker, self.cache = script, engine, speaker, cache
        self.retry, self.progress, self.check = retry, progress, check
        self.stats = stats if stats is not None else SynthesisStats()
        self.limit = _AdaptiveLimit(max(1, min(concurrency, MAX_CONCURRENCY)))
        self.checking = asyncio.Semaphore(self.limit.limit)  # answers awaiting their check
        self.done = 0
        # Scattered failures are retried chunk by chunk; a long unbroken run of them
        # means the service is down, and retrying every chunk would only hammer it.
        self.failures_in_a_row = 0
        self.give_up_after = max(10, 2 * self.limit.limit)

    def key(self, chunk: _Chunk) -> str:
        return clip_key(self.engine.name, self.engine.version, self.speaker, chunk.text)

    def tick(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.script.chunk_count)

    async def clip(self, chunk: _Chunk) -> Clip:
        """The chunk's clip: from the cache when a sound entry is there, else spoken."""
        return await self.from_cache(chunk) or await self.speak(chunk)

    async def from_cache(self, chunk: _Chunk) -> Clip | None:
        """A cached clip that passes every check a fresh one must pass; None if there is none."""
        key = self.key(chunk)
        found = cached_clip(self.cache, key)
        if found is None:
            return None
        try:
            blocks = await self.check(chunk.text, found.frames, found.known) if self.check else None
        except (EngineError, Mp3Error):
            return None  # a damaged cache entry: synthesize it again
        if found.outdated(blocks):
            # An entry from an earlier version: stored again, with the same audio,
            # so the next build reads what it needs without parsing or measuring.
            self.cache.put(key, found.speech, fields=_fields(blocks, found.frames_field))
        self.stats.cached += 1
        self.tick()
        return Clip(chunk.chapter, chunk.index, found.frames, found.speech.boundaries, True, blocks)

    async def speak(self, chunk: _Chunk) -> Clip:
        """Ask the engine, retrying what can clear up, until a clip passes every check."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return await self.request(chunk)
            except EngineError as error:
                await self.after_failure(chunk, error, attempt)
        raise AssertionError("after_failure raises on the last attempt")

    async def request(self, chunk: _Chunk) -> Clip:
        """One request under the limit and the deadline; the answer checked and cached.

        The answer is checked after its slot is handed on: the speech check is an
        ffmpeg run per clip, and holding the slot meanwhile left the service idle.
        The slot is released only once the answer has a place among those waiting
        for their check (as many as requests may be in flight), so checks slower
        than the service hold the requests back instead of piling up audio.
        """
        async with self.limit:
            self.stats.requests += 1
            deadline = self.retry.deadline(chunk.text)
            try:
                speech = await asyncio.wait_for(
                    self.engine.synthesize(chunk.text, self.speaker), deadline
                )
            except asyncio.TimeoutError:
                raise EngineError(
                    f"no complete answer within {deadline:.0f} s", retryable=True
                ) from None
            await self.checking.acquire()
        try:
            start, frames = parse_clip(speech.audio, speech.boundaries)
            check_covered(chunk.text, speech.boundaries)
            known = speech.blocks  # the engine's own measurement, if it made one
            blocks = await self.check(chunk.text, frames, known) if self.check else None
        finally:
            self.checking.release()
        self.failures_in_a_row = 0
        field = frames_field(start, frames)
        stored = self.cache.put(self.key(chunk), speech, fields=_fields(blocks, field))
        # From here on the clip is read from the cache when the episode is written,
        # so memory does not grow with the episode; uncached, it stays in memory.
        audio = stored_frames(stored, speech.audio, field, frames.format) if stored else frames
        self.tick()
        return Clip(
            chunk.chapter, chunk.index, audio, speech.boundaries, cached=False, blocks=blocks
        )

    async def after_failure(self, chunk: _Chunk, error: EngineError, attempt: int) -> None:
        """Slow down if throttled; give up on an outage or a last attempt; else back off."""
        self.failures_in_a_row += 1
        if error.throttled:
            self.stats.throttled += 1
            self.limit.halve()
        where = describe_chunk(self.script, chunk.chapter, chunk.text)
        if self.failures_in_a_row >= self.give_up_after:
            raise SynthesisError(
                f"the {self.engine.name} engine looks down: {self.failures_in_a_row} requests"
                f" in a row failed, giving up (the last, {where}: {error})"
            )
        if not error.retryable or attempt == self.retry.attempts:
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise SynthesisError(f"{where} failed{tries}: {error}")
        self.stats.retries += 1
        await asyncio.sleep(self.retry.delay(attempt))


def _fields(blocks: Blocks | None, frames: dict[str, int]) -> dict:
    """The clip-cache fields of a clip: where its frames are, and its loudness blocks."""
    return {**(clip_fields(blocks) or {}), FRAMES_FIELD: frames}


async def _all_or_nothing(work: list[Awaitable[Clip]], order: list[int]) -> list[Clip]:
    """Run `work` concurrently (started in list order); results by `order`'s positions.

    The first failure stops the run: every other task is cancelled exactly once
    and awaited before the failure is raised, so no request outlives the loop.
    """
    started = [asyncio.ensure_future(w) for w in work]
    tasks: list[asyncio.Future[Clip]] = [started[0]] * len(started)
    for task, position in zip(started, order):
        tasks[position] = task
    first: set[asyncio.Future] = set()
    try:
        # Not gather(): a cancelled gather cancels every task and returns as soon
        # as the first one has finished cancelling; cancelling the others a
        # second time then cut short their own cleanup (wait_for's wait for the
        # engine's request), leaving requests running after the loop closed.
        # asyncio.wait cancels nothing: each task below is cancelled exactly once.
        first, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await _settle(tasks)
    # the failure that stopped the run (the first to happen), as gather would raise it
    for task in [t for t in tasks if t in first] + tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return [task.result() for task in tasks]


def _by_chapter(script: Script, clips: list[Clip]) -> list[list[Clip]]:
    grouped: list[list[Clip]] = [[] for _ in script.chapters]
    for clip in clips:
        grouped[clip.chapter].append(clip)
    return grouped
