"""Clips -> Episode: one frame stream with exact chapter times and subtitle cues.

Clips are joined at the MP3 frame level (no re-encoding) with encoded silence
between them: a short pause between chunks, a longer one between sections.
Every time here is counted in frames, so the chapters are exact: they are
contiguous, the first starts at 0 and the last ends at the file's duration.
A section's pause belongs to the end of the section before it, so skipping to
a chapter lands on its first word.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from dataclasses import dataclass, replace

from digest.checks import Problem, find_problems
from digest.clips import Clip
from digest.frame_stream import ClipAudio, FrameStream
from digest.loudness import BLOCK_SECONDS, Adjustment, Blocks, adjust, analyze
from digest.mp3 import silence
from digest.script import Script
from digest.transcripts import TimedChunk, time_lines

# A briefing profile (podcast-standards.md §3.3): edge-tts pauses between the
# sentences of one request itself; digest adds the longer pauses.
LEAD_IN = 0.5  # seconds before the first word, so players do not clip it
CHUNK_PAUSE = 0.4  # seconds between two chunks of one section
SECTION_PAUSE = 1.5  # seconds between sections
TAIL = 0.5  # seconds after the last word


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float  # seconds
    end: float
    url: str | None = None  # the source a story's headline chapter links to


@dataclass(frozen=True)
class Cue:
    """One subtitle: a sentence in the article's own wording, timed as spoken."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Episode:
    title: str
    audio: FrameStream  # planned, not joined: clips stay in the cache until written
    chapters: tuple[Chapter, ...]
    cues: tuple[Cue, ...]
    blocks: Blocks | None = None  # loudness blocks of `audio`, when its clips were measured
    loudness: Adjustment | None = None  # set by `set_loudness`
    problems: tuple[Problem, ...] = ()  # silences and clipping found in the assembled audio
    pauses: tuple[tuple[float, float], ...] = ()  # (start, end) of the silences digest inserted

    @property
    def duration(self) -> float:
        return self.audio.duration


def assemble(
    script: Script, clips: list[list[Clip]], gaps: Sequence[float] | None = None
) -> Episode:
    """Plan the clips as one frame stream with exact chapter times (nothing is copied).

    `gaps[i]` is the silence after chapter i (default: SECTION_PAUSE between
    chapters, TAIL after the last); a briefing passes longer ones between stories.
    """
    parts: list[ClipAudio] = []
    chapters: list[Chapter] = []
    cues: list[Cue] = []
    placed: list[tuple[float, Blocks]] = []  # each clip's loudness blocks at its start time
    pauses: list[tuple[float, float]] = []
    position = 0  # in frames
    fmt = clips[0][0].frames.format
    seconds_per_frame = fmt.samples_per_frame / fmt.sample_rate

    def add(frames: ClipAudio) -> None:
        nonlocal position
        parts.append(frames)
        position += frames.count

    def pause(seconds: float) -> None:
        start = position * seconds_per_frame
        add(silence(seconds, fmt))
        pauses.append((start, position * seconds_per_frame))

    for number, (chapter, chapter_clips) in enumerate(zip(script.chapters, clips)):
        start = position
        if number == 0:
            pause(LEAD_IN)
        timed: list[TimedChunk] = []
        for index, clip in enumerate(chapter_clips):
            if index:
                pause(CHUNK_PAUSE)
            offset = position * seconds_per_frame
            text = chapter.chunks[index]
            timed.append(TimedChunk(text, offset, clip.frames.duration, clip.boundaries))
            if not chapter.lines:  # a script without written lines: the spoken sentences
                cues.extend(Cue(offset + b.start, offset + b.end, b.text) for b in clip.boundaries)
            if clip.blocks is not None:
                placed.append((offset, clip.blocks))
            add(clip.frames)
        lines = ((line.written, line.spoken) for line in chapter.lines)
        cues.extend(Cue(t.start, t.end, t.text) for t in time_lines(lines, timed))
        last = number == len(script.chapters) - 1
        gap = gaps[number] if gaps is not None else (TAIL if last else SECTION_PAUSE)
        pause(gap)
        chapters.append(
            Chapter(
                chapter.title,
                start * seconds_per_frame,
                position * seconds_per_frame,
                chapter.url,
            )
        )
    audio = FrameStream(tuple(parts))
    measured = len(placed) == sum(len(c) for c in clips)
    blocks = place_blocks(placed, audio.duration) if measured else None
    return Episode(script.title, audio, tuple(chapters), tuple(cues), blocks, pauses=tuple(pauses))


def place_blocks(placed: list[tuple[float, Blocks]], duration: float) -> Blocks:
    """The blocks of a whole episode from its clips' blocks and start times.

    Each clip's blocks land on the episode's 100 ms grid at its own start time
    (so times stay right to 50 ms however many clips there are); the pauses
    between clips are digital silence and add nothing.
    """
    count = round(duration / BLOCK_SECONDS) + 1
    energies = array.array("d", bytes(8 * count))
    peaks = array.array("d", bytes(8 * count))
    filled = 0  # blocks before this index may already hold a clip's blocks
    for start, blocks in placed:
        first = round(start / BLOCK_SECONDS)
        end = min(count, first + len(blocks.energies))
        if first >= filled:  # the usual case: a pause lies between clips
            energies[first:end] = array.array("d", blocks.energies[: end - first])
            peaks[first:end] = array.array("d", blocks.peaks[: end - first])
        else:  # rounded onto the same block as the clip before: add up
            for i, (energy, peak) in enumerate(zip(blocks.energies, blocks.peaks)):
                if first + i < count:
                    energies[first + i] += energy
                    peaks[first + i] = max(peaks[first + i], peak)
        filled = max(filled, end)
    return Blocks(energies, peaks)


def set_loudness(episode: Episode, target: float | None, mode: str = "lossless") -> Episode:
    """The episode at `target` LUFS (None: as it is), measured, with its problems found.

    Uses the clips' blocks when every clip was measured; otherwise measures the
    assembled audio (streamed through ffmpeg, never decoded into memory).
    """
    blocks = episode.blocks or analyze(episode.audio, "the episode")
    # As the voice delivered it, before any gain; the pauses digest inserted are meant.
    problems = tuple(find_problems(blocks, intended=episode.pauses))
    audio, blocks, adjustment = adjust(episode.audio, blocks, target, mode)
    return replace(episode, audio=audio, blocks=blocks, loudness=adjustment, problems=problems)
