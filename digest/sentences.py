"""The one sentence splitter: chunking, the offline engine's boundaries and the
fake service all cut text into sentences the same way.

A sentence runs to a run of end marks (。！？；!?;…) and takes the closing
quotes and brackets after it; a line break ends one too.  A piece with nothing
speakable in it ("……", a lone quote) joins the sentence before it, because a
voice gives it no time of its own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

SENTENCE_END = "。！？；!?;…"
CLOSERS = "」』”’\"')）》〉】]"


@dataclass(frozen=True)
class Sentence:
    start: int  # code-point offset of its first non-blank character
    end: int  # exclusive, after any closers
    text: str  # text[start:end] without surrounding blanks


def is_speakable(text: str) -> bool:
    """True when the text holds a letter or a digit: punctuation alone gets no audio."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def sentence_spans(text: str) -> list[Sentence]:
    """Split `text` into sentences with their offsets; blank pieces are dropped."""
    pieces: list[tuple[int, int]] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        if text[i] in SENTENCE_END or text[i] == "\n":
            j = i + 1
            while j < n and (text[j] in SENTENCE_END or text[j] in CLOSERS):
                j += 1
            pieces.append((start, j))
            start = i = j
        else:
            i += 1
    if start < n:
        pieces.append((start, n))
    sentences: list[Sentence] = []
    for a, b in pieces:
        piece = text[a:b]
        if not piece.strip():
            continue
        if sentences and not is_speakable(piece):
            previous = sentences.pop()
            a = previous.start
        a += len(text[a:b]) - len(text[a:b].lstrip())
        sentences.append(Sentence(a, b, text[a:b].strip()))
    return sentences


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, punctuation kept, blanks around them stripped."""
    return [s.text for s in sentence_spans(text)]
