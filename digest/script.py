"""Article -> Script: what will be spoken, normalized and cut into chunks.

Each chapter of the script is one section of the article.  Its heading is
spoken first (the numbering is dropped: "01" read aloud sounds like a
robot), and the episode opens with the article title.  Chunks end at
sentence ends, because edge-tts does not split Chinese text itself and
a cut mid-sentence is audible.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from digest.article import Article
from digest.lazy_patterns import lazy_re
from digest.sentences import CLOSERS, SENTENCE_END, is_speakable, sentence_spans, split_sentences

# About 0.22 s of speech per character: 500 characters is under two minutes of
# audio and about 1,500 bytes of UTF-8, far below edge-tts's 4,096-byte limit.
# Smaller chunks also parallelize better and make a retry cheaper.
MAX_CHUNK_CHARS = 500
MAX_CHUNK_BYTES = 3000

_CLAUSE_END = lazy_re(r"(?<=[，、：,:])")
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


_URL = lazy_re(r"(?:https?://|www\.)[!-~]+", re.I)


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
        if current and (not _fits(_join(current, unit), max_chars) or len(current) >= target):
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


# A script of at least this many rounds of requests (chunks per request slot) is
# left as chunked: its last, partly filled round is then a small share of the whole.
BALANCED_ROUNDS = 4
# Latencies per request, in characters of speech, at which a balanced plan must end
# no later than the plan it replaces (the last stands for "latency only"): the
# service's latency is not known here, so the plan must not lose at any of them.
_LATENCIES = (0, 25, 50, 100, 200, 400, 800, 1_000_000)
# The shortest chunk balancing makes: each cut adds a pause between clips
# (episode.CHUNK_PAUSE, 0.4 s) and saves at most half the chunk's synthesis time,
# so a short article is not chopped into a string of one-sentence requests.
MIN_BALANCED_CHARS = 60


def balance_chunks(script: Script, slots: int, max_chars: int = MAX_CHUNK_CHARS) -> Script:
    """The script re-chunked so that `slots` concurrent request slots finish together.

    Chunks are synthesized longest first on `slots` slots, each request costing a
    latency plus time per character.  A short script leaves slots idle: 10 chunks on
    6 slots are a full round and a round of 4, and the episode waits for the last
    round's longest chunk.  So the script is re-planned into `rounds * slots` chunks
    (rounds = ceil(chunks / slots)), the same number of rounds as before, so the
    latency a slot pays does not grow; the extra chunks go one at a time to the
    chapter whose chunks are longest on average (ties: the earlier one).  A chapter
    given more chunks is cut anew at sentence ends, as evenly as its sentences allow
    (the longest piece as short as possible, then the sum of squared lengths as
    small as possible).  A chapter keeping its count keeps its chunks exactly (their
    clips are in the cache), unless it holds the script's longest chunk and an even
    cut shortens that.  Then each cut between two chunks of a chapter is moved, one
    at a time, to the sentence end where the longest-first schedule ends soonest
    (`_tuned`): slots finish together when their chunks pair up, not when every
    chunk is the same length.  Chunks never cross chapters, every new chunk fits
    `max_chars` and is at least `MIN_BALANCED_CHARS` long, and none is mostly
    punctuation ("他停了很久" before a long run of "……" is mostly silence, and
    refused as dead air); the chapter's text, joined as `chunk_sentences` joins
    sentences, stays the same.

    A plan is kept only if its longest-first schedule ends no later than the old
    one's at every latency in `_LATENCIES` (longest first is not an exact
    balancer: 4 chunks on 2 slots can still land 3 on one), and sooner at one.
    Failing that, the plan without the re-cut of the longest chunk is tried, then
    plans with one extra chunk fewer at a time.  If none passes, and for scripts of `BALANCED_ROUNDS`
    rounds or more (whose last round is a small share), for fewer than 2 slots and
    for an empty script, the same script object is returned.  Pure and
    deterministic, so a re-run hits the clip cache.
    """
    count = script.chunk_count
    if slots < 2 or count == 0:
        return script
    rounds = -(-count // slots)
    if rounds >= BALANCED_ROUNDS:
        return script
    chapters = [_ChapterText(chapter.chunks) for chapter in script.chapters]
    before = [chapter.chunks for chapter in chapters]
    limits = _schedule_ends(_lengths(before), slots)
    for planned in _plans(chapters, rounds * slots - count, max_chars):
        plan = _tuned(chapters, planned, slots, max_chars, limits)
        ends = _schedule_ends(_lengths(plan), slots)
        # No later at any latency, and sooner at one: a plan that gains nothing would
        # only cost the clips of the chunks it changes.
        if all(map(float.__le__, ends, limits)) and any(map(float.__lt__, ends, limits)):
            return replace(
                script,
                chapters=tuple(
                    replace(chapter, chunks=chunks)
                    for chapter, chunks in zip(script.chapters, plan)
                ),
            )
    return script


def rechunked(script: Script, plan: Sequence[Sequence[str]], max_chars: int) -> Script | None:
    """`script` with each chapter's chunks replaced by the plan's, if the plan is a
    re-cut of the same text (as `balance_chunks` makes: every chapter's chunks joined
    as `chunk_sentences` joins them give its text, and each fits `max_chars`); else None.
    For a plan remembered from an earlier build (digest.memo)."""
    if len(plan) != len(script.chapters):
        return None
    chapters = []
    for chapter, chunks in zip(script.chapters, plan):
        if not isinstance(chunks, (list, tuple)) or not chunks:
            return None  # a string would pass below as one-character chunks
        if not all(isinstance(c, str) and c and _fits(c, max_chars) for c in chunks):
            return None
        if _joined(chunks) != _joined(chapter.chunks):
            return None
        chapters.append(replace(chapter, chunks=tuple(chunks)))
    return replace(script, chapters=tuple(chapters))


def _joined(chunks: Sequence[str]) -> str:
    text = ""
    for chunk in chunks:
        text = _join(text, chunk)
    return text


def _plans(
    chapters: list[_ChapterText], extra: int, max_chars: int
) -> Iterator[list[tuple[str, ...]]]:
    """The chapters' chunks re-planned with `extra` more chunks, then with one fewer
    extra chunk each time down to none; each plan first with the longest chunk
    shortened by `_recut_longest`, then without."""
    steps = _apportion(chapters, extra, max_chars)
    for counts in reversed(steps):
        apportioned = [
            chapter.chunks if wanted == len(chapter.chunks) else chapter.cut(wanted, max_chars)
            for chapter, wanted in zip(chapters, counts)
        ]
        yield _recut_longest(chapters, apportioned, counts, max_chars)
        yield apportioned


def _apportion(chapters: list[_ChapterText], extra: int, max_chars: int) -> list[list[int]]:
    """How many chunks each chapter gets as up to `extra` chunks are handed out one at
    a time, each to the chapter whose chunks are longest on average (ties: the earlier
    one) among those whose sentences can make one more piece: the counts before the
    first and after each."""
    counts = [len(chapter.chunks) for chapter in chapters]
    totals = [sum(len(chunk) for chunk in chapter.chunks) for chapter in chapters]
    steps = [list(counts)]
    open_ = list(range(len(chapters)))
    while open_ and len(steps) <= extra:
        # Exact enough: equal ratios of small integers divide to equal floats.
        index = max(open_, key=lambda i: (totals[i] / counts[i], -i))
        if chapters[index].cut(counts[index] + 1, max_chars) is None:
            open_.remove(index)  # one sentence, or no more cuts that fit and are speech
            continue
        counts[index] += 1
        steps.append(list(counts))
    return steps


def _recut_longest(
    chapters: list[_ChapterText],
    plan: list[tuple[str, ...]],
    counts: list[int],
    max_chars: int,
) -> list[tuple[str, ...]]:
    """`plan` with the chapters that kept their count re-cut evenly while one of them
    holds the script's longest chunk and the even cut makes that chunk shorter."""
    plan = list(plan)
    recut = {i for i, chapter in enumerate(chapters) if counts[i] != len(chapter.chunks)}
    while True:
        longest = max(_lengths(plan))
        holders = [i for i, chunks in enumerate(plan) if max(map(len, chunks)) == longest]
        if any(i in recut for i in holders):
            return plan  # already cut as evenly as its sentences allow
        even = {i: chapters[i].cut(counts[i], max_chars) for i in holders}
        if any(chunks is None or max(map(len, chunks)) >= longest for chunks in even.values()):
            return plan
        for i, chunks in even.items():
            plan[i] = chunks
            recut.add(i)


def _tuned(
    chapters: list[_ChapterText],
    plan: list[tuple[str, ...]],
    slots: int,
    max_chars: int,
    limits: list[float],
) -> list[tuple[str, ...]]:
    """`plan` with the cuts inside its chapters moved to where the schedule ends soonest.

    Coordinate descent: each cut between two chunks of a chapter is tried at every
    sentence end between its neighbouring cuts (each side a run `_ChapterText` allows),
    and a move is kept when it lowers the schedule's end summed over `_LATENCIES`, each
    relative to the plan before balancing (`limits`).  Passes repeat until none moves
    a cut (at most `_TUNING_PASSES`).  The result is deterministic: the same plan in,
    the same plan out.
    """
    spans: list[list[tuple[int, int]]] = []
    for chapter, chunks in zip(chapters, plan):
        bounds = chapter.bounds_of(chunks)
        if bounds is None:
            return plan
        spans.append(bounds)
    runs = [chapter._runs(max_chars) for chapter in chapters]

    def cost(lengths: list[int]) -> float:
        ends = _schedule_ends(lengths, slots)
        return sum(end / max(limit, 1.0) for end, limit in zip(ends, limits))

    def all_lengths() -> list[int]:
        return [
            chapters[c].units[b - 1][1] - chapters[c].units[a][0]
            for c, chapter in enumerate(spans)
            for a, b in chapter
        ]

    best = cost(all_lengths())
    for _ in range(_TUNING_PASSES):
        moved = False
        for c, chapter in enumerate(spans):
            for i in range(len(chapter) - 1):
                start, end = chapter[i][0], chapter[i + 1][1]
                for cut in range(start + 1, end):
                    if cut == chapter[i][1] or (start, cut) not in runs[c]:
                        continue
                    if (cut, end) not in runs[c]:
                        continue
                    kept = chapter[i], chapter[i + 1]
                    chapter[i], chapter[i + 1] = (start, cut), (cut, end)
                    trial = cost(all_lengths())
                    if trial < best:
                        best, moved = trial, True
                    else:
                        chapter[i], chapter[i + 1] = kept
        if not moved:
            break
    tuned = []
    for chapter, chapter_spans in zip(chapters, spans):
        pieces = chapter.pieces(chapter_spans)
        if pieces is None:
            return plan
        tuned.append(pieces)
    return tuned


# Enough for a short script's cuts to settle (each pass moves every cut once at most).
_TUNING_PASSES = 20


class _ChapterText:
    """A chapter's spoken text as the units chunks can be cut between.

    `text` is the chapter's chunks joined as `chunk_sentences` joins its sentences
    (`_join`), and `units` are the (start, end) offsets in it of the sentences in each
    chunk: a chunk may end after any of them and the next begin at the following one,
    dropping only the blank between them (which `_join` puts back).  A plain class,
    not a dataclass: this module is imported on every build, and a dataclass costs
    about half a millisecond to create.
    """

    __slots__ = ("chunks", "text", "units", "_cuts", "_runs_by_limit")

    def __init__(self, chunks: Sequence[str]):
        text, units = "", []
        for chunk in chunks:
            offset = len(_join(text, chunk)) - len(chunk) if text else 0
            text = _join(text, chunk) if text else chunk
            units.extend((offset + start, offset + end) for start, end in _unit_spans(chunk))
        self.chunks = tuple(chunks)
        self.text = text
        self.units = tuple(units)
        # Memos: a chapter is cut to the same count more than once while chunks are
        # handed out, and every cut of it looks at the same runs of units.
        self._cuts: dict[tuple[int, int], tuple[str, ...] | None] = {}
        self._runs_by_limit: dict[int, dict[tuple[int, int], int]] = {}

    def cut(self, count: int, max_chars: int) -> tuple[str, ...] | None:
        """The chapter in exactly `count` chunks of whole units, as even as can be: the
        longest as short as possible, then the sum of squared lengths as small as
        possible (ties broken the same way every time).  None if no such chunks fit
        `max_chars` and are mostly speakable (at least half of their non-blank
        characters letters or digits), or if the cut would not give back the same
        text."""
        if (count, max_chars) not in self._cuts:
            self._cuts[(count, max_chars)] = self._cut(count, max_chars)
        return self._cuts[(count, max_chars)]

    def _cut(self, count: int, max_chars: int) -> tuple[str, ...] | None:
        bounds = _even_partition(self._runs(max_chars), len(self.units), count)
        return None if bounds is None else self.pieces(bounds)

    def pieces(self, bounds: list[tuple[int, int]]) -> tuple[str, ...] | None:
        """The chunks of these runs of units; None if joining them would not give back
        the chapter's text (a blank that _join does not restore)."""
        chunks = tuple(self.text[self.units[a][0] : self.units[b - 1][1]] for a, b in bounds)
        if _ChapterText(chunks).text != self.text:
            return None
        return chunks

    def bounds_of(self, chunks: Sequence[str]) -> list[tuple[int, int]] | None:
        """The runs of units that `chunks` (cut from this chapter) are; None if one is not."""
        bounds, a = [], 0
        for chunk in chunks:
            b = a + 1
            while (
                b <= len(self.units) and self.text[self.units[a][0] : self.units[b - 1][1]] != chunk
            ):
                b += 1
            if b > len(self.units):
                return None
            bounds.append((a, b))
            a = b
        return bounds if a == len(self.units) else None

    def _runs(self, max_chars: int) -> dict[tuple[int, int], int]:
        if max_chars not in self._runs_by_limit:
            self._runs_by_limit[max_chars] = self._find_runs(max_chars)
        return self._runs_by_limit[max_chars]

    def _find_runs(self, max_chars: int) -> dict[tuple[int, int], int]:
        """Every run of units [a, b) that may be a chunk, with its length: it fits
        `max_chars`, it is the whole chapter or at least `MIN_BALANCED_CHARS` long,
        and at least half of its non-blank characters are letters or digits (a piece
        mostly of "……" is mostly silence: dead air)."""
        # Running counts over the text, so a run's bytes and letters cost two lookups.
        utf8, shown, speakable = [0], [0], [0]
        for ch in self.text:
            utf8.append(utf8[-1] + len(ch.encode("utf-8")))
            shown.append(shown[-1] + (not ch.isspace()))
            speakable.append(speakable[-1] + (unicodedata.category(ch)[0] in "LN"))
        pieces: dict[tuple[int, int], int] = {}
        for b in range(1, len(self.units) + 1):
            end = self.units[b - 1][1]
            for a in range(b - 1, -1, -1):
                start = self.units[a][0]
                if end - start > max_chars:
                    break
                fits = utf8[end] - utf8[start] <= MAX_CHUNK_BYTES
                letters, marks = speakable[end] - speakable[start], shown[end] - shown[start]
                whole = a == 0 and b == len(self.units)
                if end - start < MIN_BALANCED_CHARS and not whole:
                    continue
                if fits and 2 * letters >= marks > 0:
                    pieces[(a, b)] = end - start
        return pieces


def _unit_spans(chunk: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `chunk`, the first from 0 and the last to the
    end, so that only blanks lie between them."""
    spans = sentence_spans(chunk)
    if len(spans) < 2:
        return [(0, len(chunk))]
    bounds = [(s.start, s.end) for s in spans]
    bounds[0] = (0, bounds[0][1])
    bounds[-1] = (bounds[-1][0], len(chunk))
    return bounds


def _even_partition(
    pieces: dict[tuple[int, int], int], size: int, count: int
) -> list[tuple[int, int]] | None:
    """`count` consecutive runs [a, b) from `pieces` covering 0..size: the longest
    as short as possible, then the sum of squared lengths as small as possible."""
    if not 0 < count <= size:
        return None
    starts: dict[int, list[tuple[int, int]]] = {}  # b -> [(a, length)]
    for (a, b), length in pieces.items():
        starts.setdefault(b, []).append((a, length))
    infinite = math.inf
    # Pass 1: the shortest possible longest piece.
    longest = [0.0] + [infinite] * size
    for _ in range(count):
        row = [infinite] * (size + 1)
        for b, runs in starts.items():
            row[b] = min((max(longest[a], n) for a, n in runs), default=infinite)
        longest = row
    limit = longest[size]
    if limit == infinite:
        return None
    # Pass 2: under that limit, the smallest sum of squares; remember the cuts.
    cost: list[float] = [0.0] + [infinite] * size
    choices: list[list[int]] = []
    for _ in range(count):
        row, choice = [infinite] * (size + 1), [-1] * (size + 1)
        for b in sorted(starts):
            for a, n in sorted(starts[b]):
                if n <= limit and cost[a] + n * n < row[b]:
                    row[b], choice[b] = cost[a] + n * n, a
        cost = row
        choices.append(choice)
    bounds, b = [], size
    for choice in reversed(choices):
        a = choice[b]
        bounds.append((a, b))
        b = a
    return bounds[::-1]


def _lengths(chapters) -> list[int]:
    return [len(chunk) for chunks in chapters for chunk in chunks]


def _longest_first(lengths: list[int], slots: int, latency: float) -> float:
    """When the last of these requests ends, each costing `latency` plus its length,
    started longest first on whichever of `slots` frees first (as synthesis does)."""
    return _longest_first_sorted(sorted(lengths, reverse=True), slots, latency)


def _schedule_ends(lengths: list[int], slots: int) -> list[float]:
    """`_longest_first` at each of `_LATENCIES`, the lengths sorted once for all of them."""
    longest_first = sorted(lengths, reverse=True)
    return [_longest_first_sorted(longest_first, slots, latency) for latency in _LATENCIES]


def _longest_first_sorted(longest_first: list[int], slots: int, latency: float) -> float:
    ends = [0.0] * slots
    for length in longest_first:
        heapq.heapreplace(ends, ends[0] + latency + length)
    return max(ends)
