"""Script conversion per target: zh-CN gets Simplified (OpenCC t2s), zh-TW keeps Traditional
(Simplified input gets OpenCC s2tw). Wording is kept as written (晶片 stays 晶片).

OpenCC in pure Python is the slowest step of the pipeline, so most text skips it: if no
character of the text appears in the conversion tables, conversion cannot change it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import opencc

from .base import converter

_TABLES = {
    "t2s": ("TSPhrases.txt", "TSCharacters.txt"),
    "s2tw": ("STPhrases.txt", "STCharacters.txt", "TWVariants.txt"),
}


@lru_cache(maxsize=None)
def _trigger_chars(config: str) -> frozenset[str]:
    """Every character whose presence could make `config` change a text."""
    folder = Path(opencc.__file__).parent / "dictionary"
    chars: set[str] = set()
    for name in _TABLES[config]:
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            for value in values.split():
                if value == key:
                    continue
                if len(value) != len(key):
                    chars.update(key)
                else:
                    chars.update(k for k, v in zip(key, value) if k != v)
    return frozenset(chars)


def convert_script(text: str, mainland: bool) -> str:
    config = "t2s" if mainland else "s2tw"
    if _trigger_chars(config).isdisjoint(text):
        return text
    return converter(config).convert(text)
