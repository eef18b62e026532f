"""Shared pieces of the rule pipeline: the per-target context and regex building blocks.

Rules run *after* script conversion, so the text they see is Simplified for zh-CN and
Traditional for zh-TW. Every cue word is therefore written once, in Simplified, and
`alt()` adds its Traditional spellings. Rules emit Simplified words; `Ctx.t` turns them
into Traditional for zh-TW targets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from digest.lazy_patterns import LazyPattern, LazyText, lazy_re  # noqa: F401 - the rules use them

from .dictionaries import to_taiwan_traditional, to_traditional

if TYPE_CHECKING:
    import opencc

T = TypeVar("T")

# Characters our rules emit whose Traditional form differs. 台 stays 台 (新台幣 is
# the usual Taiwan spelling, OpenCC would give 臺).
_TW_TABLE = str.maketrans(
    {
        "两": "兩",
        "万": "萬",
        "亿": "億",
        "点": "點",
        "负": "負",
        "摄": "攝",
        "华": "華",
        "纳": "納",
        "时": "時",
        "兹": "茲",
        "贝": "貝",
        "吨": "噸",
        "币": "幣",
        "韩": "韓",
        "欧": "歐",
        "镑": "鎊",
        "减": "減",
        "于": "於",
        "约": "約",
        "个": "個",
        "钟": "鐘",
        "厘": "釐",
        "号": "號",
        "为": "為",
        "后": "後",
        "间": "間",
        "顷": "頃",
        "圆": "圓",
        "盎": "盎",
        "帕": "帕",
        "焦": "焦",
        "瓦": "瓦",
        "乘": "乘",
        "赫": "赫",
        "伏": "伏",
        "罗": "羅",
        "卢": "盧",
        "郎": "郎",
        "泰": "泰",
        "铢": "銖",
        "马": "馬",
        "尔": "爾",
        "里": "里",
        "称": "稱",
        "对": "對",
        "应": "應",
        "数": "數",
        "亩": "畝",
        "龙": "龍",
    }
)


@lru_cache(maxsize=None)
def converter(config: str) -> opencc.OpenCC:
    """OpenCC converters are slow to build (and opencc to import): build each one once, on
    first use (only text that needs s2tw or tw2sp conversion gets here)."""
    import opencc

    return opencc.OpenCC(config)


@dataclass(frozen=True, eq=False)
class Ctx:
    """What a rule needs to know: the target voice, and the cue word lists (lexicon [cues]).

    Compared and hashed by identity: the cue lists are long, and rules look their compiled
    patterns up once per sentence (`pattern`), which must not hash the lists every time.
    """

    mainland: bool  # zh-CN: Simplified output, mainland readings
    cues: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _patterns: dict = field(default_factory=dict, repr=False)
    _by_name: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update(self.cues)

    def cue(self, name: str) -> tuple[str, ...]:
        """The words of one cue list (empty when the lexicon has none)."""
        return self._by_name.get(name, ())

    def pattern(self, key: str, build: Callable[..., T], *cue_names: str) -> T:
        """`build(*cue lists)`, built once per context (patterns made from cue lists)."""
        found = self._patterns.get(key)
        if found is None:
            found = self._patterns[key] = build(*(self.cue(n) for n in cue_names))
        return found

    def t(self, simplified: str) -> str:
        """A word our rules emit, in the target script."""
        return simplified if self.mainland else simplified.translate(_TW_TABLE)

    @property
    def yao(self) -> bool:
        """Mainland phone numbers read 1 as 幺; Taiwan says 一."""
        return self.mainland


def variants(word: str) -> set[str]:
    """A Simplified word and its Traditional spellings: for the words the rules and the
    default lexicon name, from spellings.py (written out from OpenCC's tables, so a short
    text does not read its 49,000-line phrase file); for any other word, from the tables."""
    from .spellings import SPELLINGS

    known = SPELLINGS.get(word)
    if known is not None:
        return {word, *known}
    return {word, to_traditional(word), to_taiwan_traditional(word)}


def alt(*words: str) -> LazyText:
    """A non-capturing alternation of cue words in both scripts, longest first (built when a
    pattern that holds it is first compiled)."""

    def build() -> str:
        forms: set[str] = set()
        for w in words:
            forms |= variants(w)
        return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + ")"

    return LazyText(build)


@lru_cache(maxsize=256)
def alt_of(words: tuple[str, ...]) -> str:
    """`alt` for a cue list from the lexicon, cached (rules build their patterns per list)."""
    return str(alt(*words)) if words else "(?!)"


def charset(chars: str) -> LazyText:
    """A character class of single-character cues in both scripts (built when a pattern that
    holds it is first compiled)."""

    def build() -> str:
        forms: set[str] = set()
        for c in chars:
            forms |= variants(c)
        return "[" + "".join(sorted(re.escape(f) for f in forms)) + "]"

    return LazyText(build)


# --- regex building blocks (the text has no thousands separators by now) -------------
NUM = r"\d+(?:\.\d+)?"
INT = r"\d+"
# A Chinese magnitude written after digits: 3.5億, 1兆, 2千5百 (each piece separately)
MAG = r"(?:万亿|萬億|[万萬亿億千百])"
DASH = r"[-–—~～〜]"  # range marks; `-` is a range only between two numbers
BLANK = r"[ \t]"
CJK = r"[\u3400-\u9fff\uf900-\ufaff]"

# Words that count things: a lone 2 before one of them is 两 (两艘, 两人, 两年).
# Not included on purpose: 月 日 号 楼 路 期 版 级 区 代 季 (二月, 二号, 二期 …).
MEASURE_WORD_CHARS = (
    "个位名人口户家所座栋幢层间套台辆架艘列班趟次回遍轮场届件条只头匹张本册份篇部首句段项"
    "种类样批组队对双枚颗粒支把根片块滴杯瓶罐箱包袋盒桶岁年周天夜倍成元角毛美欧英港韩澳加"
    "米克吨升亩斤公千万亿百兆纳摄华度瓦伏秒分点步下声眼手招笔宗单门国方面边侧处股款辈"
    "小寸尺英海里平立毫微厘台吉赫太帕磅盎时起票例席剂胜负球局盘针晚尊幅扇道题棵株集卷站圈顿"
)
MEASURE_CHARS = charset(MEASURE_WORD_CHARS)
