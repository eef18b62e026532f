"""Speech normalization: rewrite article text so an edge-tts voice reads it like a news anchor.

    normalize(text, locale="zh-CN", lexicon=None, vocabulary="keep") -> str
    explain(text, locale="zh-CN", lexicon=None, vocabulary="keep") -> list[Rewrite]
    load_lexicon(user_file=None) -> Lexicon

The whole pipeline, in order (style guide §1.3):

1. Unicode cleanup (cleanup.py): full-width digits/letters/symbols, minus signs, blanks,
   compatibility unit characters, subscripts.
2. Protect and prepare (protect.py): URLs and e-mails out, the lexicon, thousands
   separators, Latin-only sentences masked, list markers, a pause between two numbers
   side by side, blanks around numbers deleted; then script conversion (conversion.py).
3. Typed rules, most specific first (rules.py lists them).
4. Contract check (contract.py): for zh-CN no digit or misread symbol may survive; a
   breach is logged as a warning.

`explain` runs the same steps and reports each rewrite: which step changed which span.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import InputError
from . import cleanup, protect
from .base import Ctx
from .contract import violations
from .conversion import VOCABULARIES, convert_script, particle_zhe, to_mainland_vocabulary
from .lexicon import Lexicon, apply_lexicon, cues_of, default_lexicon, load_lexicon
from .protect import extract_links
from .rules import TRIGGER, TYPED_RULES

__all__ = [
    "normalize",
    "explain",
    "Rewrite",
    "Lexicon",
    "load_lexicon",
    "extract_links",
    "violations",
    "is_mainland",
    "VOCABULARIES",
]


def is_mainland(locale: str) -> bool:
    """zh-CN and its dialect locales (zh-CN-liaoning …) get Simplified and mainland readings."""
    return locale.lower().startswith("zh-cn")


@dataclass(frozen=True)
class Rewrite:
    """One change a normalization step made: `before` became `after`."""

    rule: str
    before: str
    after: str


Trace = Callable[[str, str, str], None]  # (step name, text before, text after)


_contexts: dict[tuple[int, bool], tuple[tuple, Ctx]] = {}


def _ctx(mainland: bool, cues: tuple) -> Ctx:
    """One Ctx per cue lists and target, found by the lists' identity (hashing them per
    sentence would cost more than some rules); the entry holds the lists, so no id is reused."""
    hit = _contexts.get((id(cues), mainland))
    if hit is None or hit[0] is not cues:
        if len(_contexts) > 32:
            _contexts.clear()
        hit = _contexts[(id(cues), mainland)] = (cues, Ctx(mainland=mainland, cues=cues))
    return hit[1]


def normalize(
    text: str,
    locale: str = "zh-CN",
    lexicon: Mapping[str, str] | None = None,
    vocabulary: str = "keep",
) -> str:
    """The text an edge-tts voice for `locale` should be sent, every number spelled out.

    `vocabulary="mainland"` also gives Traditional input mainland wording for zh-CN voices
    (OpenCC tw2sp: 人工智慧 → 人工智能); the default keeps the article's words.
    """
    return _run(text, locale, lexicon, vocabulary, None)


def explain(
    text: str,
    locale: str = "zh-CN",
    lexicon: Mapping[str, str] | None = None,
    vocabulary: str = "keep",
) -> list[Rewrite]:
    """Every rewrite `normalize` makes on `text`, in order: the step's name and the span it
    changed (before → after). Shows why a number was read the way it was."""
    rewrites: list[Rewrite] = []

    def record(rule: str, before: str, after: str) -> None:
        rewrites.extend(_changes(rule, before, after))

    _run(text, locale, lexicon, vocabulary, record)
    return rewrites


def _changes(rule: str, before: str, after: str) -> list[Rewrite]:
    """The spans that differ between two versions of a text, as rewrites."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    spans: list[list[int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # two edits one character apart are one rewrite (百分之十二 shares 二 with 12%…)
        if spans and i1 - spans[-1][1] <= 1 and j1 - spans[-1][3] <= 1:
            spans[-1][1], spans[-1][3] = i2, j2
        else:
            spans.append([i1, i2, j1, j2])
    return [Rewrite(rule, before[i1:i2], after[j1:j2]) for i1, i2, j1, j2 in spans]


def _run(
    text: str,
    locale: str,
    lexicon: Mapping[str, str] | None,
    vocabulary: str,
    trace: Trace | None,
) -> str:
    if vocabulary not in VOCABULARIES:
        raise InputError(f"unknown vocabulary {vocabulary!r}: choose {' or '.join(VOCABULARIES)}")
    if lexicon is None:
        lexicon = default_lexicon()
    ctx = _ctx(is_mainland(locale), cues_of(lexicon))
    masked: list[str] = []

    def step(name: str, new: str) -> str:
        if trace is not None and new != current:
            trace(name, protect.unmask(current, masked), protect.unmask(new, masked))
        return new

    current = text
    current = step("unicode_cleanup", cleanup.to_ascii(current))
    current = step("links", protect.remove_links(current))
    current = step("lexicon", apply_lexicon(current, lexicon))
    if TRIGGER.search(current):
        current = step("thousands_separators", cleanup.drop_thousands_separators(current))
        current = protect.mask_latin_sentences(current, masked)  # not a rewrite: undone below
        current = step("list_markers", protect.list_markers(current))
        current = step("adjacent_numbers", protect.pause_between_numbers(current))
        current = step("blanks_around_numbers", protect.delete_blanks_around_numbers(current))
    if ctx.mainland and vocabulary == "mainland":
        current = step(
            "mainland_vocabulary", to_mainland_vocabulary(current, ctx.cue("keep_wording"))
        )
    current = step("script", convert_script(current, ctx.mainland))
    if ctx.mainland:
        current = step("particle_zhe", particle_zhe(current, ctx.cue("keep_zhu")))
    if TRIGGER.search(current):
        if trace is None:  # the hot path: no call per rule beyond the rule itself
            for _name, rule in TYPED_RULES:
                current = rule(current, ctx)
        else:
            for name, rule in TYPED_RULES:
                current = step(name, rule(current, ctx))
        current = step("stray_superscripts", protect.drop_stray_superscripts(current))
    return protect.unmask(current, masked)
