"""The last rules: ordinals, then every remaining number as a cardinal or decimal, with 两/二."""

from __future__ import annotations

import re

from .base import MEASURE_CHARS, NUM, Ctx, charset, lazy_re
from .spell import decimal

_ORDINAL = lazy_re(lambda: rf"(?P<di>第[ \t]?)(?P<n>{NUM})")

# 两 only before a counted word; never after 第/初/周/星期/礼拜 (第二, 初二, 周二) or in 二号/二月.
_NO_LIANG_BEFORE = lazy_re(lambda: charset("第初周星期拜礼"))
_CONTINUED = frozenset("万萬亿億")
_INNER_MAG = frozenset("千百")
_NUMBER = lazy_re(
    lambda: (
        rf"(?P<n>{NUM})(?=(?P<next>{MEASURE_CHARS}|(?:到|至|或|、|~)\d+(?:\.\d+)?{MEASURE_CHARS})?)"
    )
)


def ordinals(text: str, ctx: Ctx) -> str:
    """第5座 → 第五座, 第2轮 → 第二轮 (never 第两)."""
    if "第" not in text:
        return text
    return _ORDINAL.sub(lambda m: "第" + ctx.t(decimal(m.group("n"))), text)


def cardinals(text: str, ctx: Ctx) -> str:
    """2艘 → 两艘, 202户 → 两百零二户, 3008 → 三千零八, 12.40 → 十二点四零."""

    def say(m: re.Match[str]) -> str:
        before = text[m.start() - 1] if m.start() else ""
        liang = bool(m.group("next")) and not _NO_LIANG_BEFORE.match(before)
        # 13万2千 is one number, 十三万二千: a 2 continuing a 万/亿 is inside the number
        if (
            liang
            and before in _CONTINUED
            and m.start() >= 2
            and text[m.start() - 2].isdigit()
            and m.group("next") in _INNER_MAG
        ):
            liang = False
        n = m.group("n")
        # a leading 2 before 百/千/万/亿 is 两 whatever follows (两百零二户, 两千)
        if (
            not liang
            and len(n.partition(".")[0].lstrip("0")) >= 3
            and not _NO_LIANG_BEFORE.match(before)
        ):
            liang = True
        return ctx.t(decimal(n, liang=liang))

    return _NUMBER.sub(say, text)
