"""Text normalization for speech (STUB: being replaced by the full rule pipeline).

Public API (keep stable):
    normalize(text: str, locale: str = "zh-CN", lexicon: Mapping[str, str] | None = None) -> str
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import opencc


@lru_cache(maxsize=None)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def normalize(text: str, locale: str = "zh-CN", lexicon: Mapping[str, str] | None = None) -> str:
    if locale.startswith("zh-CN"):
        text = _converter("t2s").convert(text)
    return text
