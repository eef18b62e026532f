"""Percentages and signs: 百分之…, 负…, and 零下 for temperatures."""

from __future__ import annotations

import re

from .base import MAG, NUM, Ctx, alt, lazy_re

_PERCENT = lazy_re(lambda: rf"(?P<sign>(?<![\d.])[-+±])?(?P<n>{NUM})(?P<mag>{MAG}*)(?P<p>[%‰‱])")
_PERCENT_WORDS = {"%": "百分之", "‰": "千分之", "‱": "万分之"}
_SIGN_WORDS = {"-": "负", "+": "正", "±": "正负"}

# A temperature after the number (℃, °C, °F), or 度 after a temperature word
_TEMP_WORD = alt(
    "气温",
    "低温",
    "高温",
    "温度",
    "体感",
    "水温",
    "最低",
    "最高",
    "降至",
    "跌至",
    "跌到",
    "降到",
    "零度",
)
_TEMP_UNIT = rf"(?:到-?{NUM})?[ \t]?(?:℃|℉|°[CF]?)"
_SIGN = lazy_re(
    lambda: (
        rf"(?P<cue>{_TEMP_WORD}[^\d\n，。；]{{0,3}})?(?<![\d.A-Za-z)）])(?P<s>[-+±])(?=(?P<n>{NUM})(?P<temp>{_TEMP_UNIT})?(?P<du>度)?)"
    )
)


def percentages(text: str, ctx: Ctx) -> str:
    """58.7% → 百分之58.7, -2.3% → 负百分之2.3, 100% → 百分之百, 1.8‰ → 千分之1.8."""
    if "%" not in text and "‰" not in text and "‱" not in text:
        return text

    def say(m: re.Match[str]) -> str:
        sign = _SIGN_WORDS.get(m.group("sign") or "", "")
        n = "百" if m.group("n") == "100" and not m.group("mag") else m.group("n") + m.group("mag")
        return ctx.t(sign + _PERCENT_WORDS[m.group("p")]) + n

    return _PERCENT.sub(say, text)


def signs(text: str, ctx: Ctx) -> str:
    """-85亿 → 负85亿; -31℃ and 气温-5度 → 零下…; ±0.2 → 正负0.2."""

    def say(m: re.Match[str]) -> str:
        cue = m.group("cue") or ""
        sign = m.group("s")
        if sign == "-" and (m.group("temp") or (cue and m.group("du"))):
            return cue + ctx.t("零下")
        return cue + ctx.t(_SIGN_WORDS[sign])

    if "-" not in text and "+" not in text and "±" not in text:
        return text
    return _SIGN.sub(say, text)
