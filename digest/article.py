"""Split an article's text into a title and sections (pure; no I/O).

How `parse_article` reads a text, in order:

1. **Lines.**  Newlines are normalized; every non-blank line is a paragraph
   (Chinese articles often put one paragraph per line).  Markdown is cleaned
   line by line: code fences are dropped, images removed, `[text](url)` becomes
   `text`, `**bold**` / `*em*` / `` `code` `` lose their markers, list markers
   (`- `, `* `, `+ `) and quote markers (`> `) are removed (the quoted text
   stays), horizontal rules and table rules vanish, `#`-headings (and `===`
   underlined ones) are remembered with their level.

2. **Markdown headings.**  If the first line is a heading above every other
   heading's level (typically the lone `# `), it is the title.  If any other
   `#`-headings remain, the shallowest level among them makes the chapters
   (`##` when the title is `#`); deeper headings (`###` under `##`) stay in the
   chapter as ordinary paragraphs, so a chapter is never split below the top
   level the article uses.  A numbering inside a heading (`## 1. 制程进展`,
   `## 第一章 …`) becomes the section's `number`.

3. **Plain-text headings** (when there are no Markdown chapter headings).  A
   line is a candidate when it starts with a numbering in one of the styles
   `01 标题` (also `01｜标题`), `1. 标题`, `1、标题`, `1）标题`, `（1）标题`,
   `一、标题`, `（一）标题`, `第一章/节/部分/篇/讲… 标题`, and is heading-shaped: at
   most 50 characters after the numbering, no `。`/`；` inside, not ending in
   sentence or list punctuation (`。；;，,、：:`; `？`/`！` are allowed, question
   headings are common).  Numbers have one or two digits, so `2026年…` or
   `12月…` never look numbered.  Candidates are then dropped as *list items*
   when they directly follow a line ending in a colon (`包括：`) or sit in a run
   of two or more same-style lines with no other text between them.  For each
   style the longest run of consecutive numbers starting at 0/1 is kept (the
   other lines of that style stay body text), and of the styles with at least
   two headings the one whose first heading comes first in the article is the
   chapter level; every other style (e.g. `1.` items under `一、` chapters, or
   `（一）` under `第一章`) stays in the body.  Finally a short standalone closing
   line -- `总结/總結`, `结语/結語`, `结论/結論`, `结束语`, `尾声`, `后记`,
   `写在最后`, `小结`, alone or followed by a colon (and optionally text) -- is a
   "closing" chapter, when it comes after the last numbered heading.

4. **Title and lead.**  Without a `title` argument the title is the first
   non-blank line (Markdown markers removed) -- unless that line is itself a
   chapter heading, in which case the first chapter's title is used.  A first
   line that reads like a paragraph rather than a title (long, or containing or
   ending in sentence punctuation) still gives the title -- its first clause,
   shortened -- but stays in the lead so no text is lost.  Text between the
   title and the first heading is the lead, its own first chapter titled with
   the article title; no lead section is made when there is no such text.  An
   article without headings is one lead chapter.

   With an explicit `title` (the `--title` option) that string is the title;
   the file's own first line is dropped when it looks like a title (a short
   line without sentence punctuation -- `?`/`!` are fine -- or a Markdown
   heading), because the user replaced it; otherwise it is kept as lead text.

Section titles are the heading text without its numbering, as written.  A
closing line with only a keyword (`結語：`) becomes `結語`; one with text after
the colon keeps the whole line (`總結:一場撬動未來格局的 AI 人才之戰`), which reads
better in a podcast app than a bare `總結`.  A heading with no text after its
numbering (`第三章`) is titled with the numbering.  Sections whose heading has
no body are kept (the heading is still spoken); an empty lead never is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from digest.lazy_patterns import LazyPattern, lazy_re

__all__ = ["Section", "Article", "parse_article"]


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...]
    number: str | None
    kind: str  # "lead" | "numbered" | "closing" | "heading"


@dataclass(frozen=True)
class Article:
    title: str
    sections: tuple[Section, ...]


# --------------------------------------------------------------------------- numbering

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN = "零〇一二两兩三四五六七八九十百"


def _cn_to_int(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if not s or any(ch not in _CN for ch in s):
        return None
    total, current = 0, 0
    for ch in s:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[ch]
    return total + current


_D = r"[0-9０-９]{1,2}"
_PATTERNS: tuple[tuple[str, LazyPattern], ...] = (
    # (style, pattern with groups: number-as-written, value, rest)
    (
        "di",
        lazy_re(
            rf"^(第([{_CN}]+|[0-9０-９]{{1,3}})([章节節部分篇讲講回卷集幕]+))\s*[:：、.．|｜\-—]?\s*(.*)$"
        ),
    ),
    ("paren-cn", lazy_re(rf"^([（(]([{_CN}]+)[)）])\s*(.*)$")),
    ("cn", lazy_re(rf"^(([{_CN}]+))\s*[、.．]\s*(.+)$")),
    ("paren-digit", lazy_re(rf"^([（(]({_D})[)）])\s*(.+)$")),
    ("digit-comma", lazy_re(rf"^(({_D}))\s*、\s*(.+)$")),
    ("digit-dot", lazy_re(rf"^(({_D}))[.．](?![0-9０-９])\s*(.+)$")),
    ("digit-paren", lazy_re(rf"^(({_D}))[)）]\s*(.+)$")),
    ("digit-space", lazy_re(rf"^(({_D}))(?:\s*[|｜丨/／]\s*|\s+)(.+)$")),
)


# The parser's own records are named tuples, not dataclasses: this module is imported by
# every build, even one whose script is remembered, and a frozen dataclass takes about
# 0.35 ms to create (a named tuple 0.07).
class _Numbering(NamedTuple):
    style: str
    number: str  # as written: "01", "一", "（一）", "第一部分"
    value: int
    rest: str


def _parse_numbering(text: str) -> _Numbering | None:
    for style, pattern in _PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        if style == "di":
            written, value_s, unit, rest = m.group(1), m.group(2), m.group(3), m.group(4)
            style = "di-" + unit
        else:
            written, value_s, rest = m.group(1), m.group(2), m.group(3)
        value = _cn_to_int(value_s)
        if value is None:
            continue
        rest = rest.strip().lstrip(":：、.．|｜-—").strip()
        return _Numbering(style, written, value, rest)
    return None


_CLOSING = lazy_re(
    r"^((?:总结|總結|结语|結語|结论|結論|结束语|結束語|尾声|尾聲|后记|後記|写在最后|寫在最後|小结|小結)"
    r"(?:[与與和及][^\s:：，。]{1,6})?)\s*(?:[:：]\s*(.*))?$"
)

_SENTENCE_END = tuple("。；;，,、：:")


def _heading_shaped(rest: str, whole: str) -> bool:
    if len(rest) > 50 or len(whole) > 60:
        return False
    if "。" in whole or "；" in whole:
        return False
    return not whole.endswith(_SENTENCE_END) and not whole.endswith("……")


def _title_like(line: str) -> bool:
    return len(line) <= 80 and "。" not in line and not line.rstrip().endswith(_SENTENCE_END)


# --------------------------------------------------------------------------- markdown cleanup

_ATX = lazy_re(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_FENCE = lazy_re(r"^\s{0,3}(```|~~~)")
_HR = lazy_re(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_TABLE_RULE = lazy_re(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_IMAGE = lazy_re(r"!\[[^\]]*\]\([^)]*\)")
_LINK = lazy_re(r"\[([^\]]*)\]\([^)]*\)")
_BOLD = lazy_re(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM = lazy_re(r"(?<![A-Za-z0-9*])\*(?=\S)([^*]+?)(?<=\S)\*(?![A-Za-z0-9*])")
_CODE = lazy_re(r"`([^`]+)`")
_LIST = lazy_re(r"^\s*[-*+•·]\s+")
_QUOTE = lazy_re(r"^\s*(?:>\s?)+")


def _clean_inline(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\2", text)
    text = _EM.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    return text.strip()


class _Line(NamedTuple):
    text: str
    level: int | None  # Markdown heading level
    blank_before: bool


def _lines(text: str) -> list[_Line]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    out: list[_Line] = []
    blank = True
    in_fence = False
    for raw in text.split("\n"):
        if _FENCE.match(raw):
            in_fence = not in_fence
            blank = True
            continue
        if in_fence:
            continue
        stripped = raw.strip()
        if not stripped or _HR.match(raw) or _TABLE_RULE.match(raw):
            blank = True
            continue
        if re.fullmatch(r"={3,}", stripped) and out and not blank and out[-1].level is None:
            out[-1] = out[-1]._replace(level=1)  # setext heading
            blank = True
            continue
        m = _ATX.match(raw)
        level = None
        if m:
            level, stripped = len(m.group(1)), m.group(2)
        else:
            stripped = _QUOTE.sub("", stripped)
            stripped = _LIST.sub("", stripped)
            if "|" in stripped and stripped.startswith("|"):
                stripped = "  ".join(c.strip() for c in stripped.strip("|").split("|"))
        cleaned = _clean_inline(stripped)
        if not cleaned:
            blank = True
            continue
        out.append(_Line(cleaned, level, blank))
        blank = False
    return out


# --------------------------------------------------------------------------- detection


class _Heading(NamedTuple):
    index: int
    title: str
    number: str | None
    kind: str


def _markdown_headings(lines: list[_Line], start: int) -> list[_Heading]:
    levels = [ln.level for ln in lines[start:] if ln.level is not None]
    if not levels:
        return []
    top = min(levels)
    tops = [i for i in range(start, len(lines)) if lines[i].level == top]
    nums = {i: _parse_numbering(lines[i].text) for i in tops}
    styles = [n.style for n in nums.values() if n is not None]
    found = []
    for i in tops:
        ln = lines[i]
        num = nums[i]
        if (
            num is not None
            and num.style == "digit-space"
            and len(tops) > 1
            and styles.count(num.style) < 2
        ):
            num = None  # a lone "## 3 个趋势" is not numbering
        if num is not None and num.rest:
            found.append(_Heading(i, num.rest, num.number, "numbered"))
        elif num is not None and num.style.startswith(("di", "paren-cn")):
            found.append(_Heading(i, num.number, num.number, "numbered"))
        else:
            closing = _closing_title(ln.text)
            found.append(_Heading(i, closing or ln.text, None, "closing" if closing else "heading"))
    return found


def _closing_title(text: str) -> str | None:
    m = _CLOSING.match(text)
    if not m or len(text) > 50 or "。" in text:
        return None
    if m.group(2) and m.group(2).strip():
        if text.endswith(_SENTENCE_END):
            return None
        return text.strip()
    return m.group(1)


def _plain_headings(lines: list[_Line], start: int) -> list[_Heading]:
    cands: dict[int, _Numbering] = {}
    for i in range(start, len(lines)):
        num = _parse_numbering(lines[i].text)
        if num is None:
            continue
        if not _heading_shaped(num.rest, lines[i].text):
            continue
        cands[i] = num

    # list context: right after a line ending in a colon ...
    listy: set[int] = set()
    for i in cands:
        prev = lines[i - 1] if i > start else None
        if prev is not None and not lines[i].blank_before and prev.text.endswith((":", "：")):
            listy.add(i)
    # ... or runs of same-style lines with nothing else between them.
    i = start
    while i < len(lines):
        if i in cands:
            j = i
            while j + 1 < len(lines) and j + 1 in cands and cands[j + 1].style == cands[i].style:
                j += 1
            if j > i:
                listy.update(range(i, j + 1))
            i = j + 1
        else:
            i += 1
    # a list that started after a colon continues with its same-style neighbours
    for i in sorted(listy):
        if i + 1 in cands and cands[i + 1].style == cands[i].style:
            listy.add(i + 1)

    by_style: dict[str, list[int]] = {}
    for i in sorted(cands):
        if i not in listy:
            by_style.setdefault(cands[i].style, []).append(i)

    best: list[int] = []
    for idxs in by_style.values():
        chain = _longest_chain(idxs, cands)
        if len(chain) >= 2 and (not best or chain[0] < best[0]):
            best = chain
    headings = [
        _Heading(i, cands[i].rest or cands[i].number, cands[i].number, "numbered") for i in best
    ]

    after = best[-1] if best else 0
    for i in range(max(after + 1, start, 1), len(lines)):
        title = _closing_title(lines[i].text)
        if title is None:
            continue
        prev = lines[i - 1] if i > start else None
        if prev is not None and not lines[i].blank_before and prev.text.endswith((":", "：")):
            continue
        headings.append(_Heading(i, title, None, "closing"))
    return headings


def _longest_chain(idxs: list[int], cands: dict[int, _Numbering]) -> list[int]:
    """The longest run of consecutive numbers (starting at 0 or 1) in document order.

    Linear: for every value, remember the longest chain ending in it so far
    (the earliest one on ties).
    """
    ending: dict[int, tuple[int, int]] = {}  # value -> (length, index of its last heading)
    prev: dict[int, int | None] = {}
    best: tuple[int, int] | None = None
    for i in idxs:
        v = cands[i].value
        if v - 1 in ending and (v - 1 != 0 or cands[ending[v - 1][1]].value == 0):
            length, j = ending[v - 1]
            length, link = length + 1, j
        elif v in (0, 1):
            length, link = 1, None
        else:
            continue
        if v not in ending or length > ending[v][0]:
            ending[v] = (length, i)
            prev[i] = link
            if best is None or length > best[0]:
                best = (length, i)
    chain: list[int] = []
    node = best[1] if best else None
    while node is not None:
        chain.append(node)
        node = prev[node]
    return chain[::-1]


# --------------------------------------------------------------------------- assembly


def _short_title(line: str, limit: int = 30) -> str:
    clause = re.split(r"[。！？!?；;，,：:]", line, maxsplit=1)[0].strip() or line
    return clause if len(clause) <= limit else clause[:limit].rstrip() + "…"


def parse_article(text: str, title: str | None = None) -> Article:
    """Split `text` into an `Article`; see the module docstring for the rules.

    An empty (or blank) text gives `Article(title or "", ())`.
    """
    lines = _lines(text)
    explicit = title.strip() if title and title.strip() else None
    if not lines:
        return Article(explicit or "", ())

    first = lines[0]
    md_levels = [ln.level for ln in lines[1:] if ln.level is not None]
    first_is_md_title = first.level is not None and all(first.level < lv for lv in md_levels)
    if first.level is not None and not first_is_md_title:
        headings = _markdown_headings(lines, 0)  # the first line is already a chapter heading
    elif md_levels:
        headings = _markdown_headings(lines, 1)
    else:
        headings = []
    if not headings:
        headings = _plain_headings(lines, 1 if first.level is not None else 0)
    first_is_heading = bool(headings) and headings[0].index == 0

    keep_first_as_body = False
    if first_is_heading:
        art_title = explicit or (headings[0].title if headings else first.text)
    elif explicit:
        art_title = explicit
        keep_first_as_body = not (first.level is not None or _title_like(first.text))
    elif first.level is not None or _title_like(first.text):
        art_title = first.text
    else:
        art_title = _short_title(first.text)
        keep_first_as_body = True

    body_from = 0 if (first_is_heading or keep_first_as_body) else 1
    heading_at = {h.index: h for h in headings}
    sections: list[Section] = []
    lead: list[str] = []
    current: _Heading | None = None
    paras: list[str] = []
    for i in range(body_from, len(lines)):
        if i in heading_at:
            if current is None:
                lead = paras
            else:
                sections.append(Section(current.title, tuple(paras), current.number, current.kind))
            current, paras = heading_at[i], []
            continue
        paras.append(lines[i].text)
    if current is None:
        lead = paras
    else:
        sections.append(Section(current.title, tuple(paras), current.number, current.kind))

    if lead:
        sections.insert(0, Section(art_title, tuple(lead), None, "lead"))
    if not sections:
        # Only a title line: speak it rather than produce an empty episode.
        sections.append(Section(art_title, (first.text,), None, "lead"))
    return Article(art_title, tuple(sections))
