"""Ranges: two numbers joined by - – — ~ ～ 〜 are read A到B.

Scores, phones, dates and names were already spelled by earlier rules, so a dash still
standing between two digit runs here is a range — unless an = follows (a subtraction).
"""

from __future__ import annotations

import re

from .base import DASH, MAG, NUM, Ctx, alt, lazy_re
from .spell import digits

_UNIT_ON_A = r"(?:%|‰|℃|°[CF]?|[A-Za-zμ²³/]+)"
_RANGE = lazy_re(
    lambda: (
        rf"(?<![\d.A-Za-z])(?P<a>-?{NUM})(?P<ma>{MAG}*)(?P<ua>{_UNIT_ON_A})?[ \t]?{DASH}[ \t]?"
        rf"(?P<b>-?{NUM})(?P<mb>{MAG}*)(?P<pb>[%‰‱])?(?![\d.]|[ \t]?[=＝])"
    )
)
# A range between two years: (1924–2018) life dates, or 2024-2026年
_YEAR_RANGE = lazy_re(
    lambda: (
        rf"(?P<open>[（(])(?P<a>\d{{4}}){DASH}(?P<b>\d{{4}})(?P<close>[)）])|(?<![\d.])(?P<a2>\d{{4}}){DASH}(?P<b2>\d{{4}})(?=年|{alt('赛季', '财年', '学年', '财政年度')})"
    )
)
# A dash after a date or time word and before the next number: 9月7日—10月2日
_AFTER_DATE_WORD = lazy_re(lambda: rf"(?<=[年月日号號时時点點分秒])[ \t]?{DASH}[ \t]?(?=\d)")
_ANY_DASH = lazy_re(lambda: DASH)
_PERCENT_WORDS = {"%": "百分之", "‰": "千分之", "‱": "万分之"}


def _year(y: str) -> bool:
    return 1000 <= int(y) <= 2199


def ranges(text: str, ctx: Ctx) -> str:
    """300–500名 → 300到500名; 6-9% → 百分之6到9; (1924–2018) → (一九二四到二零一八)."""

    def years(m: re.Match[str]) -> str:
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("a2"), m.group("b2"))
        if not (_year(a) and _year(b)):
            return m.group()
        spoken = digits(a) + ctx.t("到") + digits(b)
        return (m.group("open") or "") + spoken + (m.group("close") or "")

    def span(m: re.Match[str]) -> str:
        a, ma, ua, b, mb, pb = m.group("a", "ma", "ua", "b", "mb", "pb")
        if pb and not ua:  # a shared percentage is said once, in front: 百分之六到九
            return ctx.t(_PERCENT_WORDS[pb]) + a + ma + ctx.t("到") + b + mb
        return a + ma + (ua or "") + ctx.t("到") + b + mb + (pb or "")

    if not _ANY_DASH.search(text):
        return text
    text = _YEAR_RANGE.sub(years, text)
    text = _RANGE.sub(span, text)
    return _AFTER_DATE_WORD.sub(ctx.t("到"), text)
