"""Scores and ratios: A:B or A-B read A比B when a cue (or the shape) says so.

Runs before clock times, because 4:1 after 以 or before 大胜 is a score, not 四点零一.
"""

from __future__ import annotations

import re

from .base import Ctx, alt
from .spell import decimal

_SCORE_BEFORE = alt(
    "战成", "比分", "比数", "总比分", "最终比分", "比分为", "比数为", "打成", "比分是"
)
_SCORE_AFTER = alt(
    "获胜",
    "战胜",
    "击败",
    "大胜",
    "险胜",
    "落败",
    "逆转",
    "战平",
    "领先",
    "胜出",
    "取胜",
    "击溃",
    "告负",
    "输给",
    "负于",
    "不敌",
    "淘汰",
    "晋级",
    "完胜",
    "横扫",
    "力克",
    "轻取",
    "收官",
    "结束比赛",
)
_RATIO_BEFORE = alt(
    "比例", "配比", "宽高比", "长宽比", "画面", "屏", "比率", "比值", "比", "比例为", "比为"
)
_PAIR = r"(\d+)[:\-–](\d+)"
_CHAIN = r"(\d+(?:\.\d+)?(?::\d+(?:\.\d+)?)+)"
# 以 is too common a word to cue a hyphen (以10-20倍); it only cues A:B
_SCORE_CUED = re.compile(
    rf"(?P<cue>{_SCORE_BEFORE}[为為是]?|以)(?P<a>\d+)(?P<sep>[:\-–])(?P<b>\d+)(?![\d:.])"
    rf"|(?<![\d:.\-])(?P<a2>\d+)[:\-–](?P<b2>\d+)(?=[ \t]?{_SCORE_AFTER})"
)
_RATIO_CUED = re.compile(rf"(?P<cue>{_RATIO_BEFORE}[为為是达達约約]{{0,2}}){_CHAIN}(?![\d.])")
# The next score of a list: 六比二、7:5
_SCORE_LIST = re.compile(
    r"([零一二三四五六七八九十百]比[零一二三四五六七八九十百]+[、,，])(\d+)[:\-–](\d+)(?![\d:.])"
)
# Without a cue: a chain with a one-digit part (1:2:3, 4:1) or a known aspect ratio
_ASPECT = re.compile(r"(?<![\d:.])(4:3|16:9|16:10|21:9|32:9|3:2|9:16|1:1)(?![\d:])")
_BARE = re.compile(r"(?<![\d:.])(\d+(?::\d+)+)(?![\d.]|:\d)")


def _ratio(chain: str) -> str:
    return "比".join(decimal(p) for p in chain.split(":"))


def scores_and_ratios(text: str, ctx: Ctx) -> str:
    """主队以4:1大胜 → 以四比一大胜; 比分112-108 → 比分一百一十二比一百零八; 21:9 → 二十一比九."""
    if ":" not in text and "-" not in text and "–" not in text:
        return text

    def score(m: re.Match[str]) -> str:
        if m.group("a"):
            if m.group("cue") == "以" and m.group("sep") != ":":
                return m.group()
            return m.group("cue") + _ratio(m.group("a") + ":" + m.group("b"))
        return _ratio(m.group("a2") + ":" + m.group("b2"))

    def bare(m: re.Match[str]) -> str:
        parts = m.group(1).split(":")
        # one-digit (or 3+ digit) later parts: a score or ratio; two digits: a clock time (left for later)
        if any(len(p) != 2 for p in parts[1:]):
            return _ratio(m.group(1))
        return m.group()

    text = _SCORE_CUED.sub(score, text)
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
