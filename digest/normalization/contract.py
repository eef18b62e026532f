"""The zh-CN output contract (style guide §1.2), checked after the rules and in the tests."""

from __future__ import annotations

from .base import lazy_re
from .protect import mask_latin_sentences

_DIGIT = lazy_re(r"[0-9０-９⁰¹²³⁴-⁹₀-₉\u2460-\u24ff\u2776-\u2793]")
_SYMBOL = lazy_re(r"[%％‰‱℃℉°$＄¥￥€£₩±×÷≥≤≠≈−^²³]")
# Spelled numbers are made of these; a - + / : = < > touching one is a leftover
_SPELLED = "零〇一二两三四五六七八九十百千万亿点幺"
# (dashes and tildes are prose punctuation too: only a problem next to a number)
_NEXT_TO_NUMBER = lazy_re(lambda: rf"[{_SPELLED}][-+/=<>~～〜–—]|[-+/=<>~～〜–—][{_SPELLED}]")


def violations(text: str, already_masked: bool = False) -> list[str]:
    """What in `text` breaks the contract: digits, misread symbols, operators by a number."""
    if not already_masked:
        text = mask_latin_sentences(text, [])  # Latin-only sentences are exempt (§4.3)
    found = []
    for name, pattern in (("digits", _DIGIT), ("symbols", _SYMBOL), ("operators", _NEXT_TO_NUMBER)):
        hits = pattern.findall(text)
        if hits:
            found.append(f"{name} {''.join(sorted(set(hits)))!r}")
    return found


def leftover_warning(spoken: str, written: str) -> str | None:
    """A one-line warning when the spoken form of `written` breaks the contract, else None."""
    problems = violations(spoken)
    if not problems:
        return None
    return f"speech normalization left {', '.join(problems)} in “{written[:40]}”"
