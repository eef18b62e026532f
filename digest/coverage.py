"""Did the engine speak the whole chunk?  The sentence boundaries must reach its end.

A stream can be cut *between* two sentences: the audio then ends exactly where
the last boundary received ends, so comparing audio length with the last
boundary (`synthesis.check_complete`) sees nothing wrong.  The boundaries'
text tells: it must run up to the chunk's last sentence.  The service may
rewrite text in its boundaries (numbers, abbreviations, spacing), so the
comparison uses speakable characters only (letters and digits, case-folded)
and asks for most, not all, of the last sentence to be found at the end.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

from digest.engines.base import Boundary, EngineError
from digest.sentences import split_sentences

# Share of the last sentence's speakable characters that must appear, in
# order, at the end of the boundaries' text.  A missing sentence shares only
# common characters (的, 是, ...) with whatever sentence ended up last.
MIN_MATCH = 0.6


def speakable(text: str) -> str:
    """The letters and digits of `text`, case-folded: what a voice actually says."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFKC", text).casefold()
        if unicodedata.category(ch)[0] in "LN"
    )


def last_sentence(text: str) -> str:
    """The speakable characters of the last sentence that has any."""
    for sentence in reversed(split_sentences(text)):
        spoken = speakable(sentence)
        if spoken:
            return spoken
    return ""


def check_covered(text: str, boundaries: Sequence[Boundary]) -> None:
    """Raise a retryable EngineError if the boundaries stop before `text`'s last sentence."""
    last = last_sentence(text)
    if not last:
        return  # nothing speakable: nothing to miss
    spoken = speakable("".join(b.text for b in boundaries))
    if not spoken:
        raise EngineError("audio cut short: no sentence boundaries were received", retryable=True)
    window = spoken[-(len(last) + max(2, len(last) // 2)) :]
    matcher = SequenceMatcher(None, last, window, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    if matched < MIN_MATCH * len(last):
        raise EngineError(
            f"audio cut short: the sentence boundaries stop before the last sentence "
            f"({len(spoken)} of {len(speakable(text))} characters spoken)",
            retryable=True,
        )
