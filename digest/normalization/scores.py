"""Scores and ratios: A:B or A-B read A比B when a cue (or the shape) says so.

Runs before clock times, because 4:1 after 以 or before 大胜 is a score, not 四点零一.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .base import Ctx, alt, alt_of, lazy_re
from .spell import decimal

_RATIO_BEFORE = alt(
    "比例", "配比", "宽高比", "长宽比", "画面", "屏", "比率", "比值", "比", "比例为", "比为"
)
_PAIR = r"(\d+)[:\-–](\d+)"
_CHAIN = r"(\d+(?:\.\d+)?(?::\d+(?:\.\d+)?)+)"
# After-cues that also follow a clock time (会议10:30结束): with them alone, A:BB that is a
# valid time stays a time.
_WEAK_AFTER = frozenset(["结束", "拿下", "收官", "結束"])


@lru_cache(maxsize=8)
def _score_patterns(
    before: tuple[str, ...], after: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The cued-score pattern and the score-list pattern for the lexicon's cue lists."""
    cue_before, cue_after = alt_of(before), alt_of(after)
    # 以 is too common a word to cue a hyphen (以10-20倍); it only cues A:B
    cued = re.compile(
        rf"(?P<cue>{cue_before}[为為是]?(?:以)?|以)(?P<a>\d+)(?P<sep>[:\-–])(?P<b>\d+)(?![\d:.])"
        rf"|(?<![\d:.\-])(?P<a2>\d+)(?P<sep2>[:\-–])(?P<b2>\d+)(?=[ \t]?(?P<after>{cue_after}))"
    )
    # a list of scores before an after-cue: 以6-4、3-6、7-5逆转取胜 (§5.3)
    listed = re.compile(
        rf"(?<![\d:.\-])((?:\d+[:\-–]\d+[、，,])+)(?=\d+[:\-–]\d+[ \t]?{cue_after})"
    )
    return cued, listed, re.compile(rf"[ \t]?{cue_after}")


_LIST_PAIR = lazy_re(r"(\d+)[:\-–](\d+)")
# 以 before a list of two or more pairs: set scores (以7-6、6-2), not a range (以10-20倍)
_YI_LIST = lazy_re(r"(?<=以)((?:\d+[:\-–]\d+[、，,])+\d+[:\-–]\d+)(?![\d:.])")
_RATIO_CUED = lazy_re(lambda: rf"(?P<cue>{_RATIO_BEFORE}[为為是达達约約]{{0,2}}){_CHAIN}(?![\d.])")
# The next score of a list: 六比二、7:5
_SCORE_LIST = lazy_re(
    lambda: (
        r"([零一二三四五六七八九十百]比[零一二三四五六七八九十百]+[、,，])(\d+)[:\-–](\d+)(?![\d:.])"
    )
)
# Without a cue: a chain with a one-digit part (1:2:3, 4:1) or a known aspect ratio
_ASPECT = lazy_re(r"(?<![\d:.])(4:3|16:9|16:10|21:9|32:9|3:2|9:16|1:1)(?![\d:])")
_BARE = lazy_re(r"(?<![\d:.])(\d+(?::\d+)+)(?![\d.]|:\d)")


def _ratio(chain: str) -> str:
    return "比".join(decimal(p) for p in chain.split(":"))


def scores_and_ratios(text: str, ctx: Ctx) -> str:
    """主队以4:1大胜 → 以四比一大胜; 比分112-108 → 比分一百一十二比一百零八; 21:9 → 二十一比九."""
    if ":" not in text and "-" not in text and "–" not in text:
        return text

    cued, listed, after_cue = ctx.pattern("scores", _score_patterns, "score_before", "score_after")

    def score(m: re.Match[str]) -> str:
        if m.group("a"):
            if (
                m.group("cue") == "以"
                and m.group("sep") != ":"
                and not after_cue.match(m.string, m.end())
            ):
                return m.group()
            return m.group("cue") + _ratio(m.group("a") + ":" + m.group("b"))
        a, b = m.group("a2"), m.group("b2")
        if (
            m.group("sep2") == ":"
            and m.group("after") in _WEAK_AFTER
            and len(b) == 2
            and int(a) <= 24
            and int(b) <= 59
        ):
            return m.group()  # 10:30结束 is a clock time
        return _ratio(a + ":" + b)

    if "以" in text:  # the pattern's lookbehind: without 以 it need not be compiled
        text = _YI_LIST.sub(
            lambda m: _LIST_PAIR.sub(lambda p: _ratio(p.group(1) + ":" + p.group(2)), m.group(1)),
            text,
        )
    text = listed.sub(
        lambda m: _LIST_PAIR.sub(lambda p: _ratio(p.group(1) + ":" + p.group(2)), m.group(1)),
        text,
    )

    def bare(m: re.Match[str]) -> str:
        parts = m.group(1).split(":")
        # one-digit (or 3+ digit) later parts: a score or ratio; two digits: a clock time (left for later)
        if any(len(p) != 2 for p in parts[1:]):
            return _ratio(m.group(1))
        return m.group()

    text = cued.sub(score, text)
    if "比" in text:
        # a list of set scores shares its cue: 以6:2、7:5击败, 以21:18、21:15
        while True:
            new = _SCORE_LIST.sub(
                lambda m: m.group(1) + _ratio(m.group(2) + ":" + m.group(3)), text
            )
            if new == text:
                break
            text = new
    if ":" in text:
        text = _RATIO_CUED.sub(lambda m: m.group("cue") + _ratio(m.group(2)), text)
        text = _ASPECT.sub(lambda m: _ratio(m.group(1)), text)
        text = _BARE.sub(bare, text)
    return text
