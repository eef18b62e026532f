"""Script conversion per target: zh-CN gets Simplified (OpenCC t2s), zh-TW keeps Traditional
(Simplified input gets OpenCC s2tw). Wording is kept as written (晶片 stays 晶片).

OpenCC in pure Python is the slowest step of the pipeline, so t2s has a fast path that gives
exactly OpenCC's output: OpenCC first replaces the phrases of TSPhrases.txt and then every
remaining character by its first TSCharacters.txt value. A text holding no phrase is therefore
converted by one `str.translate` with a table built once from OpenCC's own dictionary files;
a text holding one gets the same longest-phrase-first matching OpenCC does, in a few lines.
tests/test_normalize_conversion.py checks the result against OpenCC itself.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .base import converter
from .dictionaries import OPENCC_SPLIT, character_table, entries, phrase_convert, phrase_table


@lru_cache(maxsize=None)
def _t2s_tables() -> tuple[dict[int, str], dict[str, str], re.Pattern[str], int]:
    """OpenCC's t2s data: the character table, the phrases, a pattern finding any phrase,
    and the longest phrase length."""
    table = character_table("TSCharacters.txt")
    phrases = phrase_table("TSPhrases.txt")
    pattern = re.compile("|".join(re.escape(k) for k in sorted(phrases, key=len, reverse=True)))
    return table, phrases, pattern, max(map(len, phrases))


@lru_cache(maxsize=None)
def _simplified_only() -> frozenset[str]:
    """Characters that are Simplified forms only: s2t never keeps them as they are (们, 为, 台 not),
    and Taiwan text does not use them either. OpenCC's table also lists variants Taiwan writes
    every day (雇 for 僱, 峰 for 峯, 群, 床, 秘); those are Big5 level-1 (common) characters, so
    a character Big5 level 1 encodes is not evidence of Simplified input — except the four
    that Big5 holds only as rare words and that in running text are Simplified 麼 兒 聽 壞."""
    return frozenset(
        k
        for k, v in entries("STCharacters.txt")
        if len(k) == 1 and k not in v and (k in "么儿听坏" or not _big5_common(k))
    )


def _big5_common(char: str) -> bool:
    """In Big5 level 1 (常用字, A440–C67E): the characters Taiwan text is written with."""
    try:
        code = char.encode("big5")
    except UnicodeEncodeError:
        return False
    return b"\xa4\x40" <= code <= b"\xc6\x7e"


def to_simplified(text: str) -> str:
    """Exactly what `opencc.OpenCC('t2s').convert(text)` returns, without its slow tree walk
    unless a TSPhrases phrase occurs in the text."""
    table, phrases, pattern, longest = _t2s_tables()
    if not pattern.search(text):
        return text.translate(table)
    parts = OPENCC_SPLIT.split(text)
    return "".join(
        p if i % 2 else phrase_convert(p, longest, table, phrases) for i, p in enumerate(parts)
    )


def convert_script(text: str, mainland: bool) -> str:
    if mainland:
        return to_simplified(text)
    # Traditional (or script-neutral) text is kept as written: 台積電 does not become 臺積電.
    if _simplified_only().isdisjoint(text):
        return text
    return converter("s2tw").convert(text)


VOCABULARIES = ("keep", "mainland")
# Words a vocabulary conversion must not touch are swapped for characters from Plane 15's
# private use area while it runs (the Latin-sentence masks use the BMP's).
_WORDING_MASK_BASE = 0xF0000


@lru_cache(maxsize=32)
def _keep_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    from .base import variants

    forms: set[str] = set()
    for word in words:
        forms |= variants(word)
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def to_mainland_vocabulary(text: str, keep: tuple[str, ...] = ()) -> str:
    """Traditional text in Simplified script with mainland wording (OpenCC tw2sp: 人工智慧 →
    人工智能, 演算法 → 算法, 軟體 → 软件), except the words in `keep`, which only change script."""
    pattern = _keep_pattern(keep)
    kept: list[str] = []
    if pattern is not None:

        def hide(m: re.Match[str]) -> str:
            kept.append(to_simplified(m.group()))
            return chr(_WORDING_MASK_BASE + len(kept) - 1)

        text = pattern.sub(hide, text)
    text = converter("tw2sp").convert(text)
    if kept:
        text = re.sub(
            "[\U000f0000-\U000ffffd]", lambda m: kept[ord(m.group()) - _WORDING_MASK_BASE], text
        )
    return text


@lru_cache(maxsize=32)
def _zhu_pattern(keep: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted({w for w in keep if "著" in w}, key=len, reverse=True)
    return re.compile("|".join([*(re.escape(w) for w in words), "著"]))


def particle_zhe(text: str, keep: tuple[str, ...]) -> str:
    """The aspect particle 著 is written 着 in Simplified (藏著 → 藏着, 标志著 → 标志着); the
    words in `keep` (著名, 显著, 土著 …) keep 著. With no tagger in the stack, the list is the rule."""
    if "著" not in text:
        return text
    return _zhu_pattern(keep).sub(lambda m: "着" if m.group() == "著" else m.group(), text)


def is_traditional(text: str) -> bool:
    """Written in Traditional script: more Traditional-only than Simplified-only characters."""
    traditional_only = _t2s_tables()[0]
    simplified_only = _simplified_only()
    sample = text[:5000]
    trad = sum(1 for ch in sample if ord(ch) in traditional_only)
    simp = sum(1 for ch in sample if ch in simplified_only)
    return trad >= 3 and trad > simp
