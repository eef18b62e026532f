"""Sentence-level transcripts: the article's own wording, timed by the spoken sentences.

The voice reads normalized text ("二零三五年"), but a reader wants the article's
words ("2035 年", URLs intact, its own script).  `script.py` keeps each written
sentence beside its spoken form; here each written sentence is timed by the
speakable characters (letters and digits) of its spoken form, located in the
chunks the engine timed with its sentence boundaries.  Counting only letters
and digits makes the match immune to the spaces and punctuation that chunking
and the engines add or drop.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from digest.engines.base import Boundary


class TimedText(Protocol):
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class TimedChunk:
    """One chunk as spoken: its text, where its audio starts in the episode, how long it is."""

    text: str
    offset: float
    duration: float
    boundaries: tuple[Boundary, ...]


@dataclass(frozen=True)
class TimedLine:
    start: float
    end: float
    text: str


# Is a character one the voice says, whatever spaces or marks surround it: a letter or
# a digit (Unicode categories L and N).  `str.isalnum` is exactly that, at C speed: a
# warm build of the seed asks about 20,000 times (tests/test_transcripts.py checks
# every code point).
is_speakable_char = str.isalnum


def char_times(chunk: TimedChunk) -> list[tuple[float, float]]:
    """(start, end) in episode seconds of each speakable character of the chunk, in order.

    Characters inside a boundary share its time span evenly; characters no
    boundary covers (an engine that timed nothing, or text it rewrote) are
    spread over the gap between their timed neighbours.
    """
    text = chunk.text
    times: list[tuple[float, float] | None] = [None] * len(text)
    cursor = 0
    for boundary in chunk.boundaries:
        sentence = boundary.text.strip()
        at = text.find(sentence, cursor) if sentence else -1
        if at < 0:
            continue
        span = [i for i in range(at, at + len(sentence)) if is_speakable_char(text[i])]
        step = (boundary.end - boundary.start) / max(1, len(span))
        for k, i in enumerate(span):
            times[i] = (boundary.start + k * step, boundary.start + (k + 1) * step)
        cursor = at + len(sentence)
    indices = [i for i, ch in enumerate(text) if is_speakable_char(ch)]
    result: list[tuple[float, float]] = []
    k = 0
    while k < len(indices):
        known = times[indices[k]]
        if known is not None:
            result.append(known)
            k += 1
            continue
        run_end = k
        while run_end < len(indices) and times[indices[run_end]] is None:
            run_end += 1
        before = result[-1][1] if result else 0.0
        after = times[indices[run_end]][0] if run_end < len(indices) else chunk.duration  # type: ignore[index]
        after = max(after, before)
        step = (after - before) / (run_end - k)
        result.extend((before + j * step, before + (j + 1) * step) for j in range(run_end - k))
        k = run_end
    return [(chunk.offset + a, chunk.offset + b) for a, b in result]


def time_lines(lines: Iterable[tuple[str, str]], chunks: Sequence[TimedChunk]) -> list[TimedLine]:
    """Time each (written, spoken) sentence of a chapter by its spoken characters.

    A sentence with nothing speakable ("……") joins the one before it, so no
    cue is empty and no written text is lost.
    """
    clock = [t for chunk in chunks for t in char_times(chunk)]
    position = 0
    timed: list[TimedLine] = []
    for written, spoken in lines:
        written = written.strip()
        count = sum(map(is_speakable_char, spoken))
        if count and position < len(clock):
            first = clock[position]
            last = clock[min(position + count, len(clock)) - 1]
            timed.append(TimedLine(first[0], last[1], written))
            position += count
        elif timed and written:
            previous = timed[-1]
            timed[-1] = TimedLine(previous.start, previous.end, previous.text + written)
    return timed


def _stamp(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    return (
        f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{separator}"
        f"{ms % 1000:03d}"
    )


def _usable(cues: Iterable[TimedText]) -> list[TimedText]:
    return [c for c in cues if c.text.strip() and c.end > c.start]


def _one_line(text: str) -> str:
    # A blank line ends a cue in both formats, and "-->" would start a new one;
    # control characters (a BEL in a title) would show as boxes.
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(text.split()).replace("-->", "→")


def srt(cues: Iterable[TimedText]) -> str:
    """SubRip subtitles, one numbered block per cue."""
    blocks = [
        f"{n}\n{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}\n{_one_line(cue.text)}\n"
        for n, cue in enumerate(_usable(cues), 1)
    ]
    return "\n".join(blocks)


def vtt(cues: Iterable[TimedText]) -> str:
    """WebVTT captions (what Apple Podcasts ingests), one cue per sentence."""
    blocks = ["WEBVTT\n"]
    for n, cue in enumerate(_usable(cues), 1):
        text = _one_line(cue.text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{n}\n{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}\n{text}\n")
    return "\n".join(blocks)


def plain_text(cues: Iterable[TimedText]) -> str:
    """The whole transcript, one sentence a line (the MP3's USLT frame)."""
    return "\n".join(_one_line(c.text) for c in _usable(cues))


def parse_vtt(text: str) -> list[TimedLine]:
    """Read cues back from a WebVTT file this module wrote (for the page and the feed)."""
    cues: list[TimedLine] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        rows = [r for r in block.strip().split("\n") if r.strip()]
        for k, row in enumerate(rows):
            if "-->" in row:
                start, _, end = row.partition("-->")
                body = " ".join(rows[k + 1 :])
                body = body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                try:
                    cues.append(TimedLine(_seconds(start), _seconds(end.split()[0]), body))
                except (ValueError, IndexError):
                    pass
                break
    return cues


def _seconds(stamp: str) -> float:
    parts = stamp.strip().replace(",", ".").split(":")
    value = 0.0
    for part in parts:
        value = value * 60 + float(part)
    return value
