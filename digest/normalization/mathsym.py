"""Fractions and math symbols, read only between numbers (or a number and a one-letter variable)."""

from __future__ import annotations

import re

from .base import NUM, Ctx, lazy_re
from .spell import cardinal, decimal

_OPERAND = rf"(?:-?{NUM}|(?<![A-Za-z])[A-Za-z](?![A-Za-z]))"
# An expression with = makes - a minus and / a division: 9-5=4, 27/3=9
_EQUATION = lazy_re(
    lambda: rf"{_OPERAND}(?:[ \t]?[-+×*/÷][ \t]?{_OPERAND})+[ \t]?=[ \t]?{_OPERAND}"
)
_EQ_OPS = {"-": "减", "+": "加", "×": "乘", "*": "乘", "/": "除以", "÷": "除以", "=": "等于"}
_EQ_OP = lazy_re(r"(?<=[\dA-Za-z])[ \t]?([-+×*/÷=])[ \t]?")
# Operators between two numbers outside an equation
_BETWEEN = lazy_re(
    lambda: r"(?<=[\dA-Za-z])[ \t]?([+×*÷=])[ \t]?(?=-?\d|(?<![A-Za-z])[A-Za-z](?![A-Za-z]))"
)
_TIMES = lazy_re(r"(?<=[\d\u4e00-\u9fffA-Za-z])[ \t]?×[ \t]?(?=\d)")
_BETWEEN_OPS = {"+": "加", "×": "乘", "*": "乘", "÷": "除以", "=": "等于"}
# Relations before a number: ≥7.0, < 6.1, x≠0
_RELATION = lazy_re(r"(≥|≤|≠|≈|>=|<=|>|<)[ \t]?(?=[-+±]?\d)")
_REL_WORDS = {
    "≥": "大于等于",
    ">=": "大于等于",
    "≤": "小于等于",
    "<=": "小于等于",
    "≠": "不等于",
    "≈": "约等于",
    ">": "大于",
    "<": "小于",
}
_PLUS_MINUS = lazy_re(r"±(?=\d)")
# 10^24 and 10²: powers
_POWER = lazy_re(r"(?<=[\dA-Za-z])\^(-?\d+)")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SUPER_POWER = lazy_re(r"(?<=[\d])([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")
# 30+ with no number after: 三十多
_N_PLUS = lazy_re(r"(?<=\d)\+(?![\d+])")
# 3又1/2 → 三又二分之一
_MIXED = lazy_re(r"(?<![\d.])(\d+)又(\d+)/(\d+)(?![\d/])")
# A/B is a fraction unless it is part of a code, URL or unit (km/h was spelled already)
_FRACTION = lazy_re(r"(?<![\d./A-Za-z])(\d+)/(\d+)(?![\d/A-Za-z])")
# Rates over a power of ten: 15.1/10万 → 十万分之十五点一, 3.5/1000 → 一千分之三点五
_RATE = lazy_re(r"(?<![\d./A-Za-z])(\d+(?:\.\d+)?)/(10*)([万萬亿億]?)(?![\d/A-Za-z.])")


# every symbol one of the subs below reads
_ANY_SYMBOL = lazy_re(r"[+×*÷=≥≤≠≈><±^⁰¹²³⁴⁵⁶⁷⁸⁹⁻]")


def _exponent(n: str) -> str:
    return ("负" if n.startswith("-") else "") + cardinal(n.lstrip("-"))


def _fraction(a: str, b: str) -> str:
    return cardinal(b) + "分之" + cardinal(a)


def _rate(m: re.Match[str], ctx: Ctx) -> str:
    a, b, mag = m.groups()
    if "." not in a and not mag:
        return m.group()  # a plain A/B: the fraction rule reads it
    return ctx.t(cardinal(b)) + mag + "分之" + ctx.t(decimal(a))


def math_symbols(text: str, ctx: Ctx) -> str:
    """8+7=15 → 8加7等于15; ≥7.0 → 大于等于7.0; 10^24 → 10的24次方; 30+ → 30多."""
    if "=" in text:
        text = _EQUATION.sub(
            lambda m: _EQ_OP.sub(lambda o: ctx.t(_EQ_OPS[o.group(1)]), m.group()), text
        )
    if not _ANY_SYMBOL.search(text):
        return text
    if "×" in text:  # dimensions: 45厘米×30厘米, 30×20×10厘米 (§5.7)
        text = _TIMES.sub(ctx.t("乘"), text)
    text = _BETWEEN.sub(lambda m: ctx.t(_BETWEEN_OPS[m.group(1)]), text)
    text = _RELATION.sub(lambda m: ctx.t(_REL_WORDS[m.group(1)]), text)
    text = _PLUS_MINUS.sub(ctx.t("正负"), text)
    text = _POWER.sub(lambda m: "的" + ctx.t(_exponent(m.group(1))) + "次方", text)
    text = _SUPER_POWER.sub(
        lambda m: "的" + ctx.t(_exponent(m.group(1).translate(_SUPERSCRIPT))) + "次方", text
    )
    return _N_PLUS.sub("多", text)


def fractions(text: str, ctx: Ctx) -> str:
    """约1/6 → 约六分之一; 3又1/2 → 三又二分之一; 1/100 → 一百分之一."""
    if "/" not in text:
        return text
    text = _RATE.sub(lambda m: _rate(m, ctx), text)
    text = _MIXED.sub(
        lambda m: cardinal(m.group(1)) + "又" + _fraction(m.group(2), m.group(3)), text
    )
    return _FRACTION.sub(lambda m: _fraction(m.group(1), m.group(2)), text)
