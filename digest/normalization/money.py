"""Money: currency symbols and codes are read after the amount; Taiwan 兆 becomes 万亿.

The amount's digits are left for the cardinal rule (so 两 is chosen in one place); these
rules only move and name the currency: US$3.5億 → 3.5億美元 → 三点五亿美元.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

from .base import DASH, MAG, NUM, Ctx, alt, charset, lazy_re, variants

# symbol or code → (word before the amount, word after it)
_CURRENCIES = {
    "$": ("", "美元"),
    "US$": ("", "美元"),
    "USD": ("", "美元"),
    "NT$": ("新台币", "元"),
    "TWD": ("新台币", "元"),
    "NTD": ("新台币", "元"),
    "HK$": ("", "港元"),
    "HKD": ("", "港元"),
    "¥": ("", "元"),
    "￥": ("", "元"),
    "CNY": ("", "元"),
    "RMB": ("", "元"),
    "JP¥": ("", "日元"),
    "JPY": ("", "日元"),
    "€": ("", "欧元"),
    "EUR": ("", "欧元"),
    "£": ("", "英镑"),
    "GBP": ("", "英镑"),
    "₩": ("", "韩元"),
    "KRW": ("", "韩元"),
    "S$": ("", "新加坡元"),
    "SGD": ("", "新加坡元"),
    "A$": ("", "澳元"),
    "AUD": ("", "澳元"),
    "C$": ("", "加元"),
    "CAD": ("", "加元"),
    "CHF": ("", "瑞士法郎"),
}
_SYMBOLS = sorted((k for k in _CURRENCIES if not k.isalpha()), key=len, reverse=True)
_CODES = sorted(k for k in _CURRENCIES if k.isalpha())
_SYMBOL = "|".join(re.escape(s) for s in _SYMBOLS)
_CODE = "|".join(_CODES)
_MAGS = rf"(?:{MAG}|兆)*"  # 兆 is settled by the next rule
_AMOUNT = rf"(?P<a>{NUM})(?P<ma>{_MAGS})(?:(?P<dash>{DASH}|到|至)(?P<symb>{_SYMBOL})?(?P<b>{NUM})(?P<mb>{_MAGS}))?"
# RMB 5000元: the currency is already named after the amount
_NAMED_AFTER = lazy_re(
    lambda: (
        r"[ \t]?(?:元|块|美元|美金|人民币|人民幣|新台币|新台幣|日圆|日圓|日元|港币|港幣|港元|欧元|歐元|英镑|英鎊)"
    )
)

_CURRENCY_HINT = lazy_re(lambda: rf"[$¥￥€£₩]|{_CODE}")

# -$5 / US$3.5億 / $10–20 / JPY 35000 (a code needs its blank: JPY35000 is a name)
_PREFIXED = lazy_re(
    lambda: (
        rf"(?P<neg>(?<![\d.])-)?(?:(?<![A-Za-z])(?P<sym>{_SYMBOL})[ \t]?|(?<![A-Za-z])(?P<code>{_CODE})[ \t])-?{_AMOUNT}"
    )
)
# 35000 JPY / 45€: a code or symbol after the amount
_SUFFIXED = lazy_re(
    lambda: (
        rf"(?P<neg>(?<![\d.])-)?{_AMOUNT}[ \t]?(?:(?P<code>{_CODE})(?![A-Za-z])|(?P<sym>[€£₩¥￥]))"
    )
)


def _say(m: re.Match[str], ctx: Ctx) -> str:
    before, after = _CURRENCIES[m.group("sym") or m.group("code")]
    if _NAMED_AFTER.match(m.string, m.end()):
        before = after = ""
    neg = "负" if m.group("neg") else ""
    amount = m.group("a") + m.group("ma")
    if m.group("b"):
        mark = m.group("dash") if m.group("dash") in ("到", "至") else "到"
        if m.group("symb"):  # each end wrote its currency: each end says it
            amount += ctx.t(after)
            amount += ctx.t(mark + before) + m.group("b") + m.group("mb")
        else:
            amount += ctx.t(mark) + m.group("b") + m.group("mb")
    return ctx.t(neg + before) + amount + ctx.t(after)


# US$1.2 billion, €500 million, $3bn: an English magnitude after a currency amount
_ENGLISH_MAG = lazy_re(
    lambda: (
        rf"(?<![A-Za-z])(?P<cur>(?:{_SYMBOL})[ \t]?|(?:{_CODE})[ \t])(?P<n>{NUM})[ \t]?(?P<w>trillion|billion|million|bn|mn|tn)(?![A-Za-z])"
    ),
    re.IGNORECASE,
)
_ENGLISH_POWER = {"trillion": 12, "tn": 12, "billion": 9, "bn": 9, "million": 6, "mn": 6}


def _chinese_magnitude(n: str, power: int) -> str:
    """1.2 × 10^9 → 12亿; 500 × 10^6 → 5亿; 3.5 × 10^6 → 350万; 2 × 10^12 → 2万亿."""
    value = Decimal(n).scaleb(power)
    for mag, size in (("万亿", 12), ("亿", 8), ("万", 4)):
        if value >= Decimal(1).scaleb(size):
            return _plain(value.scaleb(-size)) + mag
    return _plain(value)


def _plain(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def currency(text: str, ctx: Ctx) -> str:
    """$36500 → 36500美元, NT$48000 → 新台币48000元, -$5 → 负5美元."""
    if not _CURRENCY_HINT.search(text):
        return text
    if "illion" in text or "bn" in text or "mn" in text or "tn" in text:
        text = _ENGLISH_MAG.sub(
            lambda m: (
                m.group("cur")
                + _chinese_magnitude(m.group("n"), _ENGLISH_POWER[m.group("w").lower()])
            ),
            text,
        )
    text = _PREFIXED.sub(lambda m: _say(m, ctx), text)
    return _SUFFIXED.sub(lambda m: _say(m, ctx), text)


# --- Taiwan 兆 ----------------------------------------------------------------------------
# 兆 as the SI prefix "mega" stays: 兆瓦, 兆赫, 兆帕 … and so does a Latin unit after it.
_MEGA_UNITS = alt(
    "瓦",
    "赫",
    "帕",
    "焦",
    "位元",
    "字节",
    "比特",
    "欧姆",
    "伏",
    "吨",
    "瓩",
    "像素",
    "兆",
    "巴",
    "宽带",
    "网",
    "光纤",
    "带宽",
    "流量",
    "级",
    "秒",
)
_CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千数几"
_CN_NUMERAL = charset(_CN_NUMERAL_CHARS)
# A numeral that starts with a digit word: 千兆 and 百兆 alone are mainland "gigabit"/"100 Mbit".
_CN_NUMERAL_HEAD = charset("零〇一二两三四五六七八九数几")
_ZHAO_DIGITS = lazy_re(
    lambda: rf"(?P<n>\d+)兆(?P<m>\d+)(?P<yi>[亿億])|(?P<x>{NUM})兆(?!{_MEGA_UNITS}|[A-Za-z])"
)
_ZHAO_WORDS = lazy_re(
    lambda: (
        rf"(?P<n>{_CN_NUMERAL_HEAD}{_CN_NUMERAL}*)兆(?:(?P<m>{_CN_NUMERAL}+)(?P<yi>[亿億]))?(?!{_MEGA_UNITS}|[A-Za-z])"
    )
)


def taiwan_zhao(text: str, ctx: Ctx) -> str:
    """18兆元 → 18万亿元; 1兆4500億 → 14500亿 (zh-CN only: for Taiwan 兆 is the word)."""
    if not ctx.mainland or "兆" not in text:
        return text

    def digits(m: re.Match[str]) -> str:
        if m.group("n"):
            return str(int(m.group("n")) * 10000 + int(m.group("m"))) + "亿"
        return m.group("x") + "万亿"

    def words(m: re.Match[str]) -> str:
        if not m.group("m"):
            return m.group("n") + "万亿"
        rest = m.group("m")
        glue = (
            "" if "千" in rest else "零"
        )  # 一兆四千五百億 = 一万四千五百亿; 一兆五百億 = 一万零五百亿
        return m.group("n") + "万" + glue + rest + "亿"

    text = _ZHAO_DIGITS.sub(digits, text)
    if not _numeral_before_zhao(text):  # then _ZHAO_WORDS cannot match: not compiled
        return text
    return _ZHAO_WORDS.sub(words, text)


@cache
def _numeral_forms() -> frozenset[str]:
    """The characters of _CN_NUMERAL, in both scripts."""
    return frozenset(form for char in _CN_NUMERAL_CHARS for form in variants(char))


def _numeral_before_zhao(text: str) -> bool:
    """Whether a Chinese numeral character stands right before some 兆 (_ZHAO_WORDS needs one)."""
    forms = _numeral_forms()
    i = text.find("兆", 1)
    while i > 0:
        if text[i - 1] in forms:
            return True
        i = text.find("兆", i + 1)
    return False
