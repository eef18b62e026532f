"""The ordered rule pipeline: the one place that says what runs, and in which order.

Order matters because each typed rule spells the numbers it recognizes, so later, more
general rules no longer see them: a score is spelled before a clock time could claim it,
a phone number before a range could, a year before the cardinal rule would say 两千零…
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import cardinals, codes, dates, mathsym, money, ranges, scores, signs, units
from .base import Ctx

Rule = Callable[[str, Ctx], str]

# (name, rule) — most specific first (style guide §1.3)
TYPED_RULES: list[tuple[str, Rule]] = [
    ("currency", money.currency),  # US$3.5億 → 3.5億美元
    ("taiwan_zhao", money.taiwan_zhao),  # 18兆元 → 18万亿元 (zh-CN)
    ("seasons", dates.seasons),  # 2022/23赛季, 2028Q1, 2027H2, Q2-Q4
    ("numeric_dates", dates.numeric_dates),  # 2027/4/12, 113/11/30
    ("month_day", dates.month_day),  # 于9/28, 9月7—9日, 3·15
    ("scores_and_ratios", scores.scores_and_ratios),  # 以4:1大胜, 21:9
    ("clock_times", dates.clock_times),  # 02:50, 22:30-05:00, race 2:21:47
    ("phone_numbers", codes.phone_numbers),  # 0800-092-000, 拨打12315
    ("digit_strings", codes.digit_strings),  # 95后, 921大地震, (300750), 波音777
    ("designations", codes.designations),  # 歼-20, 东风-17
    ("latin_names", codes.latin_names),  # GPT-5, RTX5080, 7B, 5G
    ("ranges", ranges.ranges),  # 300–500, 6-9%, (1924–2018)
    ("percentages", signs.percentages),  # 58.7%, -2.3%, 1.8‰
    ("signs", signs.signs),  # -85亿 → 负, -31℃ → 零下
    ("years", dates.years),  # 2035年 vs 1300多年
    ("units", units.units),  # km, m², ℃, km/h, mAh
    ("math_symbols", mathsym.math_symbols),  # 8+7=15, ≥7.0, 10^24, 30+
    ("fractions", mathsym.fractions),  # 约1/6, 3又1/2
    ("ordinals", cardinals.ordinals),  # 第2轮 → 第二轮
    ("cardinals", cardinals.cardinals),  # 2艘 → 两艘, 12.40 → 十二点四零
]

# Text without any of these has nothing for the typed rules to do.
TRIGGER = re.compile(r"[\d兆%‰‱℃℉°$¥￥€£₩±×÷≥≤≠≈^²³]")


def run_typed_rules(text: str, ctx: Ctx) -> str:
    """Apply every typed rule in order."""
    for _name, rule in TYPED_RULES:
        text = rule(text, ctx)
    return text
