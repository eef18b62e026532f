"""Clips: what synthesis hands on to the episode, and a script's clips read back from the cache.

`digest.synthesis` speaks a script concurrently on an event loop.  Everything a
build needs from it that is not the speaking lives here, without asyncio: the
`Clip` value, how hard to try (`RetryPolicy`), what a run counted
(`SynthesisStats`), the checks every clip passes (frames parse, audio not cut
short), and `cached_clip`, the one way a cache entry becomes a clip.

A warm re-run finds every clip in the cache.  `cached_clips` then gives them
all without starting an event loop, so such a build imports neither asyncio
nor the scheduler nor an engine's client (issue 14: a warm re-run pays for every
import).  Anything it cannot settle (a missing clip, an entry from an earlier
version, blocks to measure) makes it return None, and the build goes through
`synthesis.synthesize_script`, which uses `cached_clip` for the same checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.cache import CacheEntry, ClipCache, clip_key
from digest.checks import LOUDNESS_FIELD, stored_blocks
from digest.engines.base import Boundary, Engine, EngineError, Speaker, Speech
from digest.frame_stream import FRAMES_FIELD, ClipAudio, frames_field, stored_frames
from digest.loudness import Blocks
from digest.mp3 import EPISODE_FORMAT, Frames, Mp3Error, locate_frames
from digest.script import Script

if TYPE_CHECKING:
    from digest.checks import ClipCheck

MAX_CONCURRENCY = 16  # more parallel connections than this gets a client throttled
_TRUNCATION_TOLERANCE = 0.05  # seconds

Progress = Callable[[int, int], None]  # (chunks done, chunks total)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per chunk, backoff between them, and each request's deadline."""

    attempts: int = 5
    base_delay: float = 1.0  # seconds before the first retry; doubles each time
    max_delay: float = 30.0
    timeout: float = 60.0  # overall deadline of one request ...
    timeout_per_char: float = 0.25  # ... plus this much per character of text

    def deadline(self, text: str) -> float:
        """Seconds one request for `text` may take in all."""
        return self.timeout + self.timeout_per_char * len(text)

    def delay(self, attempt: int) -> float:
        """Full jitter: a random wait up to the exponential bound (attempt counts from 1)."""
        import random  # (here: a build whose clips are all cached never waits)

        return random.uniform(0.5, 1.0) * min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Clip:
    chapter: int
    index: int  # position within the chapter
    frames: ClipAudio  # still in the clip cache, unless it could not be cached
    boundaries: tuple[Boundary, ...]
    cached: bool
    blocks: Blocks | None = None  # loudness blocks, when the clip was checked


@dataclass
class SynthesisStats:
    requests: int = 0
    retries: int = 0
    cached: int = 0
    throttled: int = 0


def check_complete(speech_audio: bytes, boundaries: tuple[Boundary, ...]) -> Frames:
    """Parse the clip's frames and refuse audio that ends before its last sentence does."""
    return parse_clip(speech_audio, boundaries)[1]


def parse_clip(speech_audio: bytes, boundaries: tuple[Boundary, ...]) -> tuple[int, Frames]:
    """`check_complete`, and the byte offset where the frames start in `speech_audio`."""
    try:
        start, frames = locate_frames(speech_audio)
    except Mp3Error as exc:
        raise EngineError(f"unusable audio: {exc}", retryable=True) from None
    check_duration(frames.duration, boundaries)
    return start, frames


def check_duration(duration: float, boundaries: tuple[Boundary, ...]) -> None:
    """Refuse audio that ends before its last sentence does (a stream cut short)."""
    if boundaries and boundaries[-1].end > duration + _TRUNCATION_TOLERANCE:
        raise EngineError(
            f"audio cut short: {duration:.2f} s of audio, "
            f"the last sentence ends at {boundaries[-1].end:.2f} s",
            retryable=True,
        )


@dataclass(frozen=True)
class CachedClip:
    """A cache entry that passed the checks a fresh clip must pass, up to the speech check."""

    speech: Speech
    frames: ClipAudio
    frames_field: dict[str, int]  # where its frames are (FRAMES_FIELD)
    known: Blocks | None  # its stored loudness blocks, if any
    recorded: bool  # False: stored by an earlier version, without its frame record
    packed: bool  # False: without loudness blocks, or with them as JSON lists (earlier versions)

    def outdated(self, blocks: Blocks | None) -> bool:
        """Should the entry be stored again (with `blocks`, if the clip has them), so the
        next build neither parses nor measures nor repacks it?"""
        return not self.recorded or (blocks is not None and not self.packed)


def cached_clip(cache: ClipCache, key: str) -> CachedClip | None:
    """The clip stored under `key`, its frames located and checked; None on a miss or
    a damaged entry (which is then spoken again)."""
    entry: CacheEntry | None = cache.get_entry(key)
    if entry is None:
        return None
    speech = entry.speech
    field = entry.fields.get(FRAMES_FIELD)
    try:
        if field is None:  # an entry from before frame records: parse it once
            field = frames_field(*parse_clip(speech.audio, speech.boundaries))
        frames = stored_frames(entry.stored, speech.audio, field, EPISODE_FORMAT)
        check_duration(frames.duration, speech.boundaries)
    except (EngineError, Mp3Error):
        return None
    return CachedClip(
        speech,
        frames,
        field,
        known=stored_blocks(entry.fields),
        recorded=FRAMES_FIELD in entry.fields,
        packed=LOUDNESS_FIELD in entry.fields,
    )


def cached_clips(
    script: Script,
    engine: Engine,
    speaker: Speaker,
    cache: ClipCache,
    *,
    check: ClipCheck | None = None,
    progress: Progress | None = None,
    stats: SynthesisStats | None = None,
) -> list[list[Clip]] | None:
    """Every clip of `script`, grouped by chapter, when the cache holds them all in their
    current form and `check` can judge each one from its stored blocks; else None."""
    clips: list[list[Clip]] = []
    for c, chapter in enumerate(script.chapters):
        clips.append([])
        for i, text in enumerate(chapter.chunks):
            found = cached_clip(cache, clip_key(engine.name, engine.version, speaker, text))
            if found is None or found.outdated(found.known if check else None):
                return None
            try:
                blocks = check.judge_known(text, found.frames, found.known) if check else None
            except EngineError:
                return None  # refused: spoken again, where the failure can be reported
            if check and blocks is None:
                return None  # the blocks do not cover the clip: it must be measured
            clips[c].append(Clip(c, i, found.frames, found.speech.boundaries, True, blocks))
    if stats is not None:
        stats.cached += script.chunk_count
    if progress is not None:
        progress(script.chunk_count, script.chunk_count)
    return clips
