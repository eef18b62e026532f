"""Speech normalization: rewrite article text so an edge-tts voice reads it like a news anchor.

    normalize(text, locale="zh-CN", lexicon=None) -> str
    load_lexicon(user_file=None) -> dict[str, str]

The whole pipeline, in order (style guide §1.3):

1. Unicode cleanup (cleanup.py): full-width digits/letters/symbols, minus signs, blanks,
   thousands separators.
2. Protect and prepare (protect.py): URLs and e-mails out, the lexicon, Latin-only
   sentences masked, list markers, blanks around numbers deleted; then script conversion
   (script.py).
3. Typed rules, most specific first (pipeline.py lists them).
4. Contract check (contract.py): for zh-CN no digit or misread symbol may survive; a
   breach is logged as a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from . import cleanup, protect
from .base import Ctx
from .contract import violations
from .conversion import convert_script
from .lexicon import apply_lexicon, default_lexicon, load_lexicon
from .protect import extract_links
from .rules import TRIGGER, run_typed_rules

__all__ = ["normalize", "load_lexicon", "extract_links", "violations", "is_mainland"]

log = logging.getLogger(__name__)

_CN = Ctx(mainland=True)
_TW = Ctx(mainland=False)


def is_mainland(locale: str) -> bool:
    """zh-CN and its dialect locales (zh-CN-liaoning …) get Simplified and mainland readings."""
    return locale.startswith("zh-CN") or locale.lower().startswith("zh-cn")


def normalize(text: str, locale: str = "zh-CN", lexicon: Mapping[str, str] | None = None) -> str:
    """The text an edge-tts voice for `locale` should be sent, every number spelled out."""
    ctx = _CN if is_mainland(locale) else _TW
    if lexicon is None:
        lexicon = default_lexicon()
    text = cleanup.to_ascii(text)
    text = protect.remove_links(text)
    text = apply_lexicon(text, lexicon)
    masked: list[str] = []
    if TRIGGER.search(text):
        text = cleanup.drop_thousands_separators(text)
        text = protect.mask_latin_sentences(text, masked)
        text = protect.list_markers(text)
        text = protect.delete_blanks_around_numbers(text)
    text = convert_script(text, ctx.mainland)
    if TRIGGER.search(text):
        text = run_typed_rules(text, ctx)
        text = protect.drop_stray_superscripts(text)
        if ctx.mainland:
            problems = violations(text, already_masked=True)
            if problems:
                log.warning("speech normalization left %s in %r", ", ".join(problems), text[:80])
    return protect.unmask(text, masked)
