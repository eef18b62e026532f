"""How long a script will take to speak, before any synthesis; and cutting it to fit.

A chunk's duration is estimated from what is spoken in it (pure; no I/O):
seconds = a·hanzi + b·Latin words + c·digits + d·clause marks + e·sentence
marks + f, divided by the voice's rate (+10% speaks 10% faster).

* offline (espeak-ng): the figures are least-squares fits on the offline
  engine's real output for the sample articles, measured by
  `benchmarks/budget.py --fit`; the same script reports the error on held-out
  chunks (see the README).
* edge: the service is unreachable where digest is developed, so the figures
  are published speaking rates, not measurements: Mandarin news reading runs
  at about 240-300 characters a minute (4-5 a second); 270 a minute (0.222 s a
  character) is used, with pauses of 0.15 s at a comma and 0.35 s at a full
  stop, as neural voices make them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CLAUSE = frozenset("，、；：,;:")
_SENTENCE = frozenset("。！？!?…")

# seconds per: hanzi, Latin word, digit, clause mark, sentence mark, chunk
SECONDS_PER_UNIT = {
    "offline": (0.1889, 0.2139, 0.2000, 0.2468, 0.3595, -0.0691),  # digits: never in zh-CN text
    "edge": (0.2222, 0.3500, 0.2500, 0.1500, 0.3500, 0.1000),
}
CHUNK_PAUSE = 0.4  # digest.episode.CHUNK_PAUSE; kept here to stay free of audio imports


def speech_units(text: str) -> tuple[int, int, int, int, int, int]:
    """What takes time to say: hanzi, Latin words, digits, clause and sentence marks, 1."""
    hanzi = sum(1 for ch in text if unicodedata.category(ch) == "Lo")
    latin = len(_LATIN_WORD.findall(text))
    digits = sum(1 for ch in text if ch.isdigit())
    clauses = sum(1 for ch in text if ch in _CLAUSE)
    sentences = sum(1 for ch in text if ch in _SENTENCE)
    return hanzi, latin, digits, clauses, sentences, 1


def rate_factor(rate: str) -> float:
    """`+10%` -> 1.1: how much faster than the voice's normal pace."""
    match = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s*%\s*", rate or "+0%")
    percent = float(match.group(1)) if match else 0.0
    return max(0.1, 1 + percent / 100)


def estimate_chunk(text: str, engine: str, rate: str = "+0%") -> float:
    """Estimated seconds of speech for one chunk on `engine` ("edge" or "offline")."""
    weights = SECONDS_PER_UNIT["offline" if engine == "offline" else "edge"]
    seconds = sum(w * n for w, n in zip(weights, speech_units(text)))
    return max(0.0, seconds) / rate_factor(rate)


def estimate_chunks(chunks: Sequence[str], engine: str, rate: str = "+0%") -> float:
    """A chapter: its chunks and the pauses between them."""
    if not chunks:
        return 0.0
    return sum(estimate_chunk(c, engine, rate) for c in chunks) + CHUNK_PAUSE * (len(chunks) - 1)


@dataclass(frozen=True)
class Fit:
    keep: tuple[int, ...]  # chapters each story keeps (at least 1: its headline and lead)
    total: float  # estimated seconds after cutting
    fits: bool  # False when even the leads alone exceed the limit


def fit_stories(stories: Sequence[Sequence[float]], fixed: float, limit: float) -> Fit:
    """Drop whole chapters from the end of the longest stories until the total fits.

    `stories[i][j]` is the estimate for chapter j of story i (chapter 0, the
    headline with its lead, is never dropped); `fixed` is everything else
    (intro, outro, pauses).
    """
    keep = [len(s) for s in stories]
    lengths = [sum(s) for s in stories]
    total = fixed + sum(lengths)
    while total > limit:
        candidates = [i for i, n in enumerate(keep) if n > 1]
        if not candidates:
            return Fit(tuple(keep), total, False)
        longest = max(candidates, key=lambda i: lengths[i])
        keep[longest] -= 1
        dropped = stories[longest][keep[longest]]
        lengths[longest] -= dropped
        total -= dropped
    return Fit(tuple(keep), total, True)
