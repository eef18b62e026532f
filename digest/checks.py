"""Is it speech?  Checks on each clip before stitching, and on the episode after.

An engine can answer "success" with audio that is not the text spoken: a clip
of silence the right length, or one far shorter or longer than the text can
take to read.  `ClipCheck` measures every clip (the same 100 ms loudness
blocks the episode's loudness is computed from) and raises a retryable
EngineError for such a clip, so it is treated like a truncated one: retried,
then reported.

The speaking-rate bounds are deliberately wide, 3x either side of the measured
rate of the offline engine (about 0.21 s per character at +0%) and of published
rates for the edge voices (4 to 5 characters a second), plus a fixed allowance
for lead-in, pauses and short chunks, so that they never fire on normal speech.
A preset may set its own (`seconds_per_char = [low, high]`).

After assembly, silences longer than 3 s and clipped audio are reported as
warnings with their time (`find_problems`).
"""

from __future__ import annotations

import binascii
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from digest.cache import register_field
from digest.engines.base import EngineError
from digest.frame_stream import ClipAudio
from digest.loudness import BLOCK_SECONDS, Blocks, analyze

if TYPE_CHECKING:
    import asyncio

# Seconds per speakable character at rate +0%: (fastest, slowest) believable.
DEFAULT_SECONDS_PER_CHAR = {"edge": (0.07, 0.7), "offline": (0.07, 0.65)}
DURATION_ALLOWANCE = 2.0  # seconds on top of the slowest rate: lead-in, trailing pause, short texts

SILENCE_LUFS = -60.0  # a 100 ms block quieter than this is silence
DEAD_AIR_SHARE = 0.8  # a clip silent for more than this share of its length is dead air
LONG_SILENCE = 3.0  # seconds of silence in an episode worth a warning
CLIPPING_DBTP = 0.0  # a block whose true peak reaches full scale is clipped
CLIPPING_BRIDGE = 2.0  # seconds: clipped stretches closer than this are one report


@dataclass(frozen=True)
class Problem:
    """Something a producer should hear before publishing, with where it is."""

    kind: str  # "silence" or "clipping"
    start: float  # seconds
    end: float
    detail: str = ""

    def describe(self) -> str:
        return f"{self.kind} at {clock(self.start)}–{clock(self.end)}" + (
            f" ({self.detail})" if self.detail else ""
        )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "start": round(self.start, 1),
            "end": round(self.end, 1),
            "detail": self.detail,
        }


def clock(seconds: float) -> str:
    """`h:mm:ss.s` or `m:ss.s`."""
    tenths = round(seconds * 10)
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    text = f"{minutes:02d}:{rest / 10:04.1f}" if hours else f"{minutes}:{rest / 10:04.1f}"
    return f"{hours}:{text}" if hours else text


def speakable_characters(text: str) -> int:
    """Characters that take time to say: letters and digits of any script."""
    return sum(map(str.isalnum, text))


def rate_factor(rate: str) -> float:
    """How much faster than +0% a voice speaks at `rate` ("+25%" -> 1.25)."""
    match = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)%\s*", rate or "")
    return max(0.1, 1 + float(match.group(1)) / 100) if match else 1.0


def expected_duration(
    text: str, seconds_per_char: tuple[float, float], speed: float = 1.0
) -> tuple[float, float]:
    """The shortest and longest believable duration of `text` spoken."""
    n = speakable_characters(text)
    low, high = seconds_per_char
    return n * low / speed, n * high / speed + DURATION_ALLOWANCE


# A block is silence below SILENCE_LUFS: compared as energy, with no logarithm per block.
_SILENCE_ENERGY = 10 ** ((SILENCE_LUFS + 0.691) / 10)


def silent_share(blocks: Blocks) -> float:
    """The share of the audio's 100 ms blocks that are silence."""
    if not blocks.energies:
        return 1.0
    quiet = sum(map(_SILENCE_ENERGY.__gt__, blocks.energies))
    return quiet / len(blocks.energies)


def judge_clip(
    text: str,
    frames: ClipAudio,
    blocks: Blocks,
    seconds_per_char: tuple[float, float] | None,
    speed: float = 1.0,
) -> None:
    """Raise a retryable EngineError if the clip is dead air or implausibly long or short.

    Without speaking-rate bounds (an engine digest knows nothing about) only dead
    air is checked.
    """
    if not speakable_characters(text):
        return  # nothing to say: silence is the right answer
    share = silent_share(blocks)
    if share > DEAD_AIR_SHARE:
        raise EngineError(
            f"dead air: {share:.0%} of the {frames.duration:.1f} s of audio is silence",
            retryable=True,
        )
    if seconds_per_char is None:
        return
    low, high = expected_duration(text, seconds_per_char, speed)
    if not low <= frames.duration <= high:
        raise EngineError(
            f"{frames.duration:.1f} s of audio for {speakable_characters(text)} characters "
            f"(expected {low:.1f} to {high:.1f} s)",
            retryable=True,
        )


MEASURING_AT_ONCE = 1


class ClipCheck:
    """Measures each clip (off the event loop) and judges it; returns its loudness blocks."""

    def __init__(self, seconds_per_char: tuple[float, float] | None, speed: float = 1.0):
        self.seconds_per_char = seconds_per_char
        self.speed = speed
        self._slots: asyncio.Semaphore | None = None  # made on the event loop that uses it

    async def __call__(self, text: str, frames: ClipAudio, known: Blocks | None = None) -> Blocks:
        """The clip's blocks (measured unless `known`: from the cache or the engine), once judged.

        Known blocks that do not cover the clip (more than a block too many or
        too few) are not trusted: the clip is measured.
        """
        judged = self.judge_known(text, frames, known)
        if judged is not None:
            return judged
        import asyncio  # (here: a warm build judges known blocks only, with no event loop)

        if self._slots is None:
            # One measuring ffmpeg at a time: each is about 30 MB of memory for 0.1 s of
            # CPU, while an answer from the service takes seconds; memory stays flat.
            self._slots = asyncio.Semaphore(MEASURING_AT_ONCE)
        async with self._slots:
            blocks = await asyncio.to_thread(analyze, frames.read_data(), "a clip")
        judge_clip(text, frames, blocks, self.seconds_per_char, self.speed)
        return blocks

    def judge_known(self, text: str, frames: ClipAudio, known: Blocks | None) -> Blocks | None:
        """`known` once judged (EngineError if the clip is refused), without measuring;
        None when there are no known blocks or they do not cover the clip."""
        if known is None or not fits(known, frames):
            return None
        judge_clip(text, frames, known, self.seconds_per_char, self.speed)
        return known


def fits(blocks: Blocks, frames: ClipAudio) -> bool:
    """Do `blocks` cover `frames`: as many 100 ms blocks as the clip lasts, give or take one?"""
    return abs(len(blocks.energies) - frames.duration / BLOCK_SECONDS) <= 1.0


# The clip cache keeps each clip's blocks, so a warm build measures nothing.
LOUDNESS_FIELD = "loudness"  # packed (Blocks.to_packed)
LISTED_LOUDNESS_FIELD = "loudness_blocks"  # as JSON lists, by earlier versions: still read


def clip_fields(blocks: Blocks | None) -> dict | None:
    """The clip-cache fields that carry `blocks` (None: nothing to store)."""
    return {LOUDNESS_FIELD: blocks.to_packed()} if blocks is not None else None


def stored_blocks(fields: Mapping[str, Any]) -> Blocks | None:
    """A cache entry's blocks, in either form; None if it has none."""
    return fields.get(LOUDNESS_FIELD) or fields.get(LISTED_LOUDNESS_FIELD)


def _validated(unpack: Callable[[dict], Blocks]) -> Callable[[object], Blocks]:
    def validate(value: object) -> Blocks:
        if not isinstance(value, dict):
            raise ValueError("loudness blocks are not an object")
        try:
            return unpack(value)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise ValueError(f"unusable loudness blocks: {exc}") from None

    return validate


register_field(LOUDNESS_FIELD, _validated(Blocks.from_packed))
register_field(LISTED_LOUDNESS_FIELD, _validated(Blocks.from_dict))


def _runs(flags: Sequence[int], bridge: int = 0) -> list[tuple[int, int]]:
    """(start, end) of every run of true flags, runs less than `bridge` apart joined into one."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, flag in enumerate(itertools.chain(flags, (0,))):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if runs and start - runs[-1][1] < bridge:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((start, i))
            start = None
    return runs


def find_problems(blocks: Blocks, intended: Sequence[tuple[float, float]] = ()) -> list[Problem]:
    """Silences longer than 3 s and clipped stretches, in time order.

    `intended` silences (the pauses digest inserts between chunks and
    sections, as (start, end) seconds) do not count toward a silence's length:
    only the silence the voice itself left does.
    """
    problems = []
    # Flags a byte each: a 3-hour episode has 108,000 blocks.
    silent = bytes(map(_SILENCE_ENERGY.__gt__, blocks.energies))
    meant = bytearray(len(silent))
    for start, end in intended:
        # Only blocks wholly inside the pause: a block shared with speech is the voice's.
        for i in range(math.ceil(start / BLOCK_SECONDS), math.floor(end / BLOCK_SECONDS)):
            if 0 <= i < len(meant):
                meant[i] = True
    for start, end in _runs(silent):
        seconds = sum(1 for i in range(start, end) if not meant[i]) * BLOCK_SECONDS
        if seconds > LONG_SILENCE:
            problems.append(
                Problem("silence", start * BLOCK_SECONDS, end * BLOCK_SECONDS, f"{seconds:.1f} s")
            )
    ceiling = 10 ** (CLIPPING_DBTP / 20)
    clipped = bytes(map(ceiling.__le__, blocks.peaks))
    for start, end in _runs(clipped, bridge=round(CLIPPING_BRIDGE / BLOCK_SECONDS)):
        peak = max(blocks.peaks[start:end])
        problems.append(
            Problem(
                "clipping",
                start * BLOCK_SECONDS,
                end * BLOCK_SECONDS,
                f"peak {20 * math.log10(peak):+.1f} dBTP",
            )
        )
    return sorted(problems, key=lambda p: p.start)
