"""Step 1: Unicode cleanup, so later rules only ever see ASCII digits and signs.

Rules (in order): full-width ASCII, blanks, minus signs, full-width colons in times,
circled digits, thousands separators.
"""

from __future__ import annotations

from .base import lazy_re

# Full-width digits and letters always become ASCII (Ａ→A, ９→9).
_FULLWIDTH_ALNUM = str.maketrans(
    {
        chr(c): chr(c - 0xFEE0)
        for c in list(range(0xFF10, 0xFF1A))
        + list(range(0xFF21, 0xFF3B))
        + list(range(0xFF41, 0xFF5B))
    }
)
# Exotic blanks Taiwan and Hong Kong sites use around numbers become plain blanks.
_BLANKS = str.maketrans(
    {"\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2007": " ", "\u200a": " ", "\u3000": " "}
)
_THIN_SPACES = "\u2009\u202f"

# Full-width number symbols only become ASCII when they touch a digit: ％ in prose is rare,
# but ～ and ／ between words must stay prose.
_FW_SYMBOLS = "％＄＋－／．＜＞＝～"
_FW_SYMBOL_NEAR_DIGIT = lazy_re(lambda: rf"(?<=\d)[{_FW_SYMBOLS}]|[{_FW_SYMBOLS}](?=[\d＄])")
_FW_COLON_IN_TIME = lazy_re(r"(?<=\d)：(?=\d)")
# U+2212, full-width and small hyphen-minus, and Unicode hyphens before a digit are all `-`.
_MINUS = lazy_re(r"[\u2212\uff0d\ufe63\u2010\u2011](?=\s?\d)")
# A thin space before exactly three digits is a thousands separator (3 480 000).
_THIN_THOUSANDS = lazy_re(lambda: rf"(?<=\d)[{_THIN_SPACES}](?=\d{{3}}(?!\d))")
_OTHER_THIN = lazy_re(lambda: f"[{_THIN_SPACES}]")
# A comma before exactly three digits is a thousands separator; 1,2 and 3,45 are not.
_COMMA_THOUSANDS = lazy_re(r"(?<=\d),(?=\d{3}(?!\d))")
# Circled numbers are list markers: ① reads 一.
_CIRCLED = {chr(0x2460 + i): str(i + 1) for i in range(20)}
_CIRCLED_RE = lazy_re("[\u2460-\u2473]")
# Roman numeral characters Ⅰ–Ⅻ and ⅰ–ⅻ (Ⅲ期临床 → 3期临床 → 三期临床)
_ROMAN = {chr(0x2160 + i): str(i + 1) for i in range(12)} | {
    chr(0x2170 + i): str(i + 1) for i in range(12)
}
_ROMAN_RE = lazy_re("[\u2160-\u216b\u2170-\u217b]")

# CJK compatibility unit characters after a number read like their Latin forms (§5.7)
COMPAT_UNITS = {
    "㎡": "m²",
    "㎢": "km²",
    "㎥": "m³",
    "㎞": "km",
    "㎝": "cm",
    "㎜": "mm",
    "㎏": "kg",
    "㎎": "mg",
    "㎖": "ml",
    "㏄": "cc",
    "㎾": "kW",
    "㎿": "MW",
    "㎐": "Hz",
    "㎑": "kHz",
    "㎒": "MHz",
    "㎓": "GHz",
    "㎸": "kV",
    "㏈": "dB",
    "㎧": "m/s",
    "㏊": "ha",
    "㎳": "ms",
    "㎍": "μg",
    "㎚": "nm",
    "㎛": "μm",
    "㎪": "kPa",
    "㎫": "MPa",
}
_COMPAT_UNIT_RE = lazy_re(lambda: rf"(?<=\d)([ \t]?)([{''.join(COMPAT_UNITS)}])")
# Subscript digits in a formula are numbers: CH₄ → CH4 (read CH四 by the name rule)
_SUBSCRIPT = lazy_re(r"(?<=[A-Za-z)\]])[₀-₉]+")
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")

_NEEDS_WORK = lazy_re(
    lambda: (
        rf"[\uff04\uff05\uff0b\uff0d\uff0e\uff0f\uff10-\uff5e\u00a0\u2002\u2003\u2007\u200a\u3000{_THIN_SPACES}\u2212\uff0d\ufe63\u2010\u2011\u2460-\u2473\u2160-\u216b\u2170-\u217b\u2080-\u2089\u3380-\u33ff]|\d,\d"
    )
)


_HAS_DIGIT = lazy_re(
    lambda: r"[0-9\uff10-\uff19\u2460-\u2473\u2160-\u216b\u2170-\u217b\u2080-\u2089]"
)


def to_ascii(text: str) -> str:
    """Full-width digits/letters, number symbols next to digits, blanks, minus signs.

    Only text with a digit is touched: text with nothing to normalize must come back
    byte for byte, ideographic spaces and all.
    """
    if not _HAS_DIGIT.search(text) or not _NEEDS_WORK.search(text):
        return text
    text = text.translate(_FULLWIDTH_ALNUM).translate(_BLANKS)
    text = _FW_SYMBOL_NEAR_DIGIT.sub(lambda m: chr(ord(m.group()) - 0xFEE0), text)
    text = _FW_COLON_IN_TIME.sub(":", text)
    text = _MINUS.sub("-", text)
    text = _THIN_THOUSANDS.sub("", text)
    text = _OTHER_THIN.sub(" ", text)
    text = _ROMAN_RE.sub(lambda m: _ROMAN[m.group()], text)
    text = _COMPAT_UNIT_RE.sub(lambda m: m.group(1) + COMPAT_UNITS[m.group(2)], text)
    text = _SUBSCRIPT.sub(lambda m: m.group().translate(_SUBSCRIPT_DIGITS), text)
    return _CIRCLED_RE.sub(lambda m: _CIRCLED[m.group()], text)


def drop_thousands_separators(text: str) -> str:
    """3,480,000 → 3480000 (so every later rule sees plain digit runs)."""
    return _COMMA_THOUSANDS.sub("", text) if "," in text else text
