"""Step 2: protect and prepare — links out, English sentences masked, blanks around numbers gone.

Latin words need no masking of their own: every typed rule is anchored on a digit and
refuses a Latin letter on the wrong side (units need a digit before them and no letter
after them; names need a letter before the digits), so the m in Bloomberg can never
become 米. What *is* masked is a whole Latin-only sentence, whose digits the voice must
read in English.
"""

from __future__ import annotations

import re
from functools import cache

from .base import BLANK, MEASURE_WORD_CHARS, charset, lazy_re, variants
from .spell import cardinal

# --- links ----------------------------------------------------------------------------
_URL_CHARS = r"[A-Za-z0-9\-._~/?#\[\]@!$&'*+=%:;,]"
_LINK = lazy_re(
    lambda: (
        rf"{BLANK}*(?:"
        rf"(?:https?://|www\.){_URL_CHARS}+"  # scheme or www.
        rf"|[A-Za-z0-9.+\-_]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"  # e-mail
        rf"|(?<![A-Za-z0-9@.])[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{{2,}}/{_URL_CHARS}*"  # domain/path
        rf"){BLANK}*"
    )
)
_TRAILING_PUNCT = ".,;:!?'"
_EMPTY_BRACKETS = lazy_re(r"（\s*）|\(\s*\)|【\s*】|\[\s*\]")
_DANGLING_COLON = lazy_re(r"[：:]\s*(?=$|[。，、；！？,;!?）)\n])")


def extract_links(text: str) -> tuple[str, list[str]]:
    """Remove URLs and e-mail addresses from speech; return the text and the links in order.

    A bare domain used as a name (Booking.com) has no scheme, path or @, so it stays.
    """
    if "@" not in text and "/" not in text and "www." not in text:
        return text, []
    links: list[str] = []

    def cut(m: re.Match[str]) -> str:
        link = m.group().strip(" \t")
        tail = ""
        while link and link[-1] in _TRAILING_PUNCT:  # prose punctuation is not part of a link
            tail = link[-1] + tail
            link = link[:-1]
        links.append(link)
        return tail

    out = _LINK.sub(cut, text)
    if not links:
        return text, []
    out = _EMPTY_BRACKETS.sub("", out)
    out = _DANGLING_COLON.sub("", out)
    return out, links


def remove_links(text: str) -> str:
    return extract_links(text)[0]


# --- Latin-only sentences ---------------------------------------------------------------
_SPAN = lazy_re(r"[^。！？；!?\n“”「」『』\"：]+")
_HAS_CJK = lazy_re(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_LATIN_WORD = lazy_re(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_HAS_DIGIT = lazy_re(r"\d")
MASK_BASE = 0xE000  # Private Use Area: no rule ever matches these characters
_MASKED = lazy_re("[\ue000-\uf8ff]")


def mask_latin_sentences(text: str, store: list[str]) -> str:
    """Replace each Latin-only span (no CJK, ≥4 Latin words) that has digits by one PUA char."""

    def mask(m: re.Match[str]) -> str:
        span = m.group()
        if (
            not _HAS_DIGIT.search(span)
            or len(_LATIN_WORD.findall(span)) < 4  # before the CJK test, costlier to compile
            or _HAS_CJK.search(span)
        ):
            return span
        store.append(span)
        return chr(MASK_BASE + len(store) - 1)

    return _SPAN.sub(mask, text)


def unmask(text: str, store: list[str]) -> str:
    if not store:
        return text
    return _MASKED.sub(lambda m: store[ord(m.group()) - MASK_BASE], text)


# --- list markers -------------------------------------------------------------------------
# A line-initial "1." or "2)" numbers a list item; it is not a decimal: "1. 欧洲" → 一、欧洲
_LIST_MARKER = lazy_re(
    lambda: r"^([ \t]*(?:#+[ \t]*|[-*>][ \t]+)?)(\d{1,2})[.)）](?!\d)[ \t]*", re.MULTILINE
)


def list_markers(text: str) -> str:
    return _LIST_MARKER.sub(lambda m: m.group(1) + cardinal(m.group(2)) + "、", text)


# --- two numbers side by side (§5.1) ---------------------------------------------------------
_MAGS = "万萬亿億兆千百"
# A quantity ends in a measure word, a unit, a percent sign or a magnitude; a clock or a
# date (年 月 日 时 点 分 秒) does not end one: 3 點 30 分 and 2026 年 3 月 are one reading.
_MEASURE_END = charset("".join(c for c in MEASURE_WORD_CHARS if c not in "年时分点秒起下"))
_TIME_WORD = frozenset("年月日号號时時秒钟鐘")
# a measure word may run on (个百分点, 美元, 万辆, 个基点), but only through such characters
_MEASURE_MORE = charset(MEASURE_WORD_CHARS + "基")
_ADJACENT = lazy_re(
    lambda: (
        r"(?P<first>"
        rf"(?<![\d.])\d+(?:\.\d+)?(?:[ \t]?[{_MAGS}]+)?"
        rf"(?:[ \t]?(?:[%‰‱℃]|°[CF]?)|[A-Za-zμ]+[²³]?|[ \t]?(?P<cjk>{_MEASURE_END}{_MEASURE_MORE}{{0,3}}))"
        rf"|(?<![\d.])\d+(?:\.\d+)?[ \t]?(?P<mag>[{_MAGS}]+)"
        r"|(?<=[A-Za-z])\d+(?P<code>[A-Za-z]*)"
        r")(?P<gap>[ \t])"
        rf"(?=[-+]?\d+(?:\.\d+)?(?P<after>[ \t]?[{_MAGS}%]|{charset(MEASURE_WORD_CHARS)})?)"
    )
)


# A blank before a number, and the character before that blank
_GAP_BEFORE_NUMBER = lazy_re(r"(.)[ \t](?=[-+]?\d)")


@cache
def _quantity_end_forms() -> frozenset[str]:
    """Characters other than digits and Latin letters that can end _ADJACENT's `first`."""
    ends = MEASURE_WORD_CHARS + "基" + _MAGS + "%‰‱℃°μ²³"
    return frozenset(form for char in ends for form in variants(char))


def _may_be_adjacent(text: str) -> bool:
    """Whether some blank before a number follows a character that can end a quantity: when
    none does (在 2035 年, 营收 1.4), _ADJACENT cannot match and is not compiled."""
    ends = _quantity_end_forms()
    for m in _GAP_BEFORE_NUMBER.finditer(text):
        before = m.group(1)
        if before.isdecimal() or (before.isascii() and before.isalpha()) or before in ends:
            return True
    return False


def pause_between_numbers(text: str) -> str:
    """跌幅2.5% 30天内 → 跌幅2.5%，30天内: the blank between two quantities becomes a pause,
    so that deleting blanks (next step) cannot join them into one number. A magnitude
    continued by a smaller one (1 兆 4500 億, 2 千 5 百) is one number and stays joined."""
    if (" " not in text and "\t" not in text) or not _may_be_adjacent(text):
        return text

    def pause(m: re.Match[str]) -> str:
        first, after = m.group("first"), m.group("after") or ""
        if m.group("cjk") and _TIME_WORD.intersection(m.group("cjk")):
            return m.group()
        if first[-1] in _MAGS and after.strip(" \t") and after.strip(" \t") in _MAGS:
            return m.group()  # 1 兆 4500 億: one number written in parts
        if m.group("code") is not None and not after:
            return m.group()  # RTX 5080 2025: a code and a bare number, nothing says two quantities
        return first + "，"

    return _ADJACENT.sub(pause, text)


# --- blanks around numbers ------------------------------------------------------------------
# A digit-bearing token: an optional relation or sign, an optional currency, the number with
# its magnitudes, and a percent / degree / unit / Latin tail; or a Latin code with a digit.
_CUR_CODE = r"(?:USD|EUR|GBP|JPY|CNY|RMB|HKD|TWD|NTD|KRW|SGD|AUD|CAD|CHF)"
_TOKEN = (
    r"(?:[<>≤≥≠≈=±+\-][ \t]*)?"
    r"(?:(?:(?:US|NT|HK|JP|S|A|C)?[$¥€£₩]|￥)[ \t]?|(?P<code>" + _CUR_CODE + r")(?P<cblank>[ \t]))?"
    r"(?:"
    r"\(0\d{1,3}\)[ \t]?\d[\d\-]*\d"  # (02)2345-6789
    r"|[A-Za-z][A-Za-z\-]*[ \t]?\d(?:[A-Za-z\d.\-+]*[A-Za-z\d+])?"  # GPT-5, ISO 8601, SARS-CoV-2
    r"|\d(?:[\d.:/,]*\d)?(?:[ \t]?(?:[%‰‱℃℉]|°[CF]?|[万萬亿億兆千百]+(?![ \t]?\d)))*"  # 36 萬, 58.7 %
    r"(?:[ \t]?[万萬亿億兆千百]+)?(?:[ \t]?[A-Za-zμ²³/]+)?\+?"  # 610 km, 12 GB, 30+
    r")"
)
# Blanks before a token go unless a digit precedes (2019 2020 stay apart) or a Latin word
# does (Galaxy S24 — but RTX 5080 joins); blanks after it go unless a digit, a blank or a
# Latin word follows (iPhone 15 Pro keeps its blank).
_BLANKS_AROUND = lazy_re(
    lambda: (
        rf"(?P<pre>(?<![\dA-Za-z]){BLANK}+|(?<=[A-Za-z]){BLANK}+(?=[-+±]?\d))?(?P<tok>{_TOKEN})(?P<post>{BLANK}+(?![\d \tA-Za-z]))?"
    )
)
_TOKEN_BLANKS = lazy_re(r"[ \t]+")
# Three or more single digits each one blank apart are one number set in letter-spaced type
_SPACED_DIGITS = lazy_re(r"(?<![\d.,:/\-])\d(?:[ \t]\d){2,}(?![\d.,:/\-])")
_ANY_DIGIT = lazy_re(r"\d")


def delete_blanks_around_numbers(text: str) -> str:
    """新廠 2033 年投產 → 新廠2033年投產, so that the year rule sees 2033年."""
    if " " not in text and "\t" not in text:
        return text
    text = _SPACED_DIGITS.sub(lambda m: _TOKEN_BLANKS.sub("", m.group()), text)

    def squeeze(m: re.Match[str]) -> str:
        tok = m.group("tok")
        if m.group("code"):  # JPY 35000 keeps its blank: a code glued to digits is a name
            code = m.group("code")
            head, rest = tok.split(code, 1)
            return (
                head.replace(" ", "").replace("\t", "") + code + " " + _TOKEN_BLANKS.sub("", rest)
            )
        return _TOKEN_BLANKS.sub("", tok)

    return _BLANKS_AROUND.sub(squeeze, text)


# --- after the rules ------------------------------------------------------------------------
# Superscript digits not after a number or unit are footnote marks: not spoken.
_STRAY_SUPERSCRIPT = lazy_re(r"(?<![A-Za-z])[⁰¹²³⁴-⁹]+")


def drop_stray_superscripts(text: str) -> str:
    return _STRAY_SUPERSCRIPT.sub("", text)
