"""Article -> Script: what will be spoken, normalized and cut into chunks.

Each chapter of the script is one section of the article.  Its heading is
spoken first (the numbering is dropped: "01" read aloud sounds like a
robot), and the episode opens with the article title.  Chunks end at
sentence ends, because edge-tts does not split Chinese text itself and
a cut mid-sentence is audible.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from digest.article import Article
from digest.sentences import CLOSERS, SENTENCE_END, is_speakable, sentence_spans, split_sentences

# About 0.22 s of speech per character: 500 characters is under two minutes of
# audio and about 1,500 bytes of UTF-8, far below edge-tts's 4,096-byte limit.
# Smaller chunks also parallelize better and make a retry cheaper.
MAX_CHUNK_CHARS = 500
MAX_CHUNK_BYTES = 3000

_CLAUSE_END = re.compile(r"(?<=[，、：,:])")
_TERMINAL = SENTENCE_END + "：:"  # a heading ending in a colon needs no full stop either


@dataclass(frozen=True)
class Line:
    """One sentence as the article writes it and as the voice says it (for transcripts)."""

    written: str  # the article's own wording and script: digits as written, URLs kept
    spoken: str  # its normalized form, as it appears in the chunks


@dataclass(frozen=True)
class ScriptChapter:
    title: str  # shown in podcast apps, in the article's own script
    chunks: tuple[str, ...]  # normalized text, each one request to the engine
    lines: tuple[Line, ...] = ()  # the chapter's sentences, in chunk order
    url: str | None = None  # a link for the chapter (a briefing story's source)


@dataclass(frozen=True)
class Script:
    title: str
    locale: str
    chapters: tuple[ScriptChapter, ...]
    # What normalization could not make speakable (a digit left for a zh-CN voice), one line each.
    warnings: tuple[str, ...] = ()

    @property
    def chunk_count(self) -> int:
        return sum(len(c.chunks) for c in self.chapters)


def build_script(
    article: Article,
    locale: str,
    lexicon: Mapping[str, str] | None = None,
    max_chars: int = MAX_CHUNK_CHARS,
    vocabulary: str = "keep",
) -> Script:
    # Imported here: a build whose script is remembered (digest.script_cache) never needs it.
    from digest.normalization import is_mainland, normalize

    chapters = []
    warnings: list[str] = []
    for index, section in enumerate(article.sections):
        spoken: list[str] = []
        if index == 0 and not _opens_with(section.paragraphs, article.title):
            spoken.append(article.title)
        if section.kind != "lead":
            spoken.append(section.title)
        spoken.extend(p for p in section.paragraphs if p not in spoken)  # a title-only file
        # Split before normalizing, so each written sentence keeps its spoken twin.
        lines = [
            Line(written, normalize(as_sentence(written), locale, lexicon, vocabulary))
            for paragraph in spoken
            for written in split_written(paragraph)
        ]
        if is_mainland(locale):
            warnings.extend(_leftovers(lines))
        sentences = [s for line in lines for s in split_sentences(line.spoken)]
        chunks = chunk_sentences(sentences, max_chars)
        if chunks:
            chapters.append(
                ScriptChapter(title=section.title, chunks=tuple(chunks), lines=tuple(lines))
            )
    return Script(
        title=article.title, locale=locale, chapters=tuple(chapters), warnings=tuple(warnings)
    )


def _leftovers(lines: list[Line]) -> list[str]:
    """One warning per sentence whose spoken form still holds digits or symbols (contract §1.2)."""
    from digest.normalization.contract import leftover_warning

    found = (leftover_warning(line.spoken, line.written) for line in lines)
    return [warning for warning in found if warning]


def _opens_with(paragraphs: tuple[str, ...], title: str) -> bool:
    """Is `title` the opening sentence or clause of the text (a title taken from it)?

    Then speaking the title first would say the same words twice.
    """
    first = paragraphs[0].strip() if paragraphs else ""
    title = title.strip()
    if not title or not first.startswith(title):
        return False
    rest = first[len(title) :]
    return not rest or unicodedata.category(rest[0]).startswith("P") or rest[0].isspace()


def as_sentence(text: str) -> str:
    """Give a heading or title a full stop, so the voice pauses after it."""
    text = text.strip()
    if text and text.rstrip(CLOSERS)[-1:] not in tuple(_TERMINAL):
        return text + "。"
    return text


_URL = re.compile(r"(?:https?://|www\.)[!-~]+", re.I)


def split_written(text: str) -> list[str]:
    """Sentences as written, for transcripts: a URL's "?" or "!" does not end a sentence."""
    masked = _URL.sub(lambda m: "x" * len(m.group()), text)
    return [text[s.start : s.end].strip() for s in sentence_spans(masked)]


def _fits(text: str, max_chars: int) -> bool:
    return len(text) <= max_chars and len(text.encode("utf-8")) <= MAX_CHUNK_BYTES


def _split_long(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than a chunk: cut at commas, and only then anywhere."""
    if _fits(sentence, max_chars):
        return [sentence]
    pieces: list[str] = []
    current = ""
    for clause in _CLAUSE_END.split(sentence):
        while clause and not _fits(clause, max_chars):  # a clause without any comma
            if current:
                pieces.append(current)
                current = ""
            pieces.append(clause[:max_chars])
            clause = clause[max_chars:]
        if current and not _fits(current + clause, max_chars):
            pieces.append(current)
            current = ""
        current += clause
    if current:
        pieces.append(current)
    return pieces


def _join(before: str, after: str) -> str:
    """Sentences were stripped when split: Latin text needs its space back, Chinese none."""
    if before and before[-1].isascii() and after[:1].isascii() and after[:1].isalnum():
        return before + " " + after
    return before + after


def chunk_sentences(sentences: list[str], max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Pack whole sentences into chunks of similar size, each at most `max_chars`.

    The number of chunks is the fewest that can hold the text; sizes are then
    balanced so a section of 600 characters becomes 300 + 300, not 500 + 100.
    """
    units = [piece for s in sentences for piece in _split_long(s, max_chars)]
    total = sum(len(u) for u in units)
    if total == 0:
        return []
    target = total / math.ceil(total / max_chars)
    chunks: list[str] = []
    current = ""
    for unit in units:
        if current and (not _fits(current + unit, max_chars) or len(current) >= target):
            chunks.append(current)
            current = ""
        current = _join(current, unit)
    chunks.append(current)
    merged: list[str] = []
    for chunk in chunks:
        # Punctuation-only pieces ("……") get no audio from the service: keep them
        # with a neighbour instead of sending them alone.
        if merged and (not is_speakable(chunk)) and _fits(merged[-1] + chunk, max_chars):
            merged[-1] += chunk
        else:
            merged.append(chunk)
    return [c for c in merged if is_speakable(c)]
