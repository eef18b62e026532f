"""Spelling numbers out in Chinese: the one place that knows how digits are read.

Everything here returns Simplified characters; `Ctx.t` turns them into Traditional for zh-TW.
"""

from __future__ import annotations

_DIGITS = "零一二三四五六七八九"
_BIG_UNITS = ("", "万", "亿", "万亿")  # one per group of four digits
_MAX_CARDINAL_DIGITS = 16  # beyond 万亿 nobody reads a cardinal; read digit by digit


def digits(s: str, yao: bool = False) -> str:
    """Digit by digit, 0 as 零; `yao` reads 1 as 幺 (mainland phone style)."""
    out = "".join(_DIGITS[ord(c) - 48] if "0" <= c <= "9" else c for c in s)
    return out.replace("一", "幺") if yao else out


def _under_10000(n: int) -> str:
    out: list[str] = []
    gap = False
    for size, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // size % 10
        if d == 0:
            gap = bool(out)  # a zero after something non-zero: maybe a 零 later
            continue
        if gap:
            out.append("零")
            gap = False
        out.append(_DIGITS[d] + unit)
    return "".join(out)


def cardinal(s: str, liang: bool = False) -> str:
    """Read an integer written in digits as a cardinal (3008 → 三千零八).

    `liang` says the context allows 两: a lone 2 becomes 两, and a leading 2 before
    百/千/万/亿 becomes 两 (两百零二). Never 两 inside (一千二百) or before 十.
    """
    s = s.lstrip("0")
    if not s:
        return "零"
    if len(s) > _MAX_CARDINAL_DIGITS:
        return digits(s)
    if len(s) > 12:
        # past 万亿 a news anchor counts in 亿: 1,200,000,000,000 → 一万二千亿 (§5.8)
        high, low = s[:-8], s[-8:].lstrip("0")
        text = cardinal(high, liang=liang) + "亿"
        if low:
            text += ("零" if len(low) < 8 else "") + cardinal(low)
        return text
    groups = []
    while s:
        groups.append(int(s[-4:]))
        s = s[:-4]
    out: list[str] = []
    gap = False
    for index in range(len(groups) - 1, -1, -1):
        g = groups[index]
        if g == 0:
            gap = bool(out)
            continue
        if out and (gap or g < 1000):  # zeros between groups are said once
            out.append("零")
        out.append(_under_10000(g) + _BIG_UNITS[index])
        gap = False
    text = "".join(out)
    if text.startswith("一十"):  # 15 is 十五, but 115 keeps 一百一十五
        text = text[1:]
    if liang:
        if text == "二":
            return "两"
        if text[:2] in ("二百", "二千", "二万", "二亿"):
            text = "两" + text[1:]
    return text


def decimal(s: str, liang: bool = False) -> str:
    """12.40 → 十二点四零: integer part as a cardinal, then each written decimal digit."""
    whole, _, frac = s.partition(".")
    # 2.5 is 二点五, but 215.33 keeps the 两百 of 215 (one output never mixes 两百 and 二百)
    head = cardinal(whole, liang=liang and (not frac or len(whole.lstrip("0")) >= 3))
    return head + "点" + digits(frac) if frac else head


def year_digits(s: str) -> str:
    """2035 → 二零三五: calendar years are read digit by digit."""
    return digits(s)
