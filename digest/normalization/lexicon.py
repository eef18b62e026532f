"""The pronunciation lexicon: user-extensible term → spoken form, applied before the rules."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..reading import read_limited
from ..settings import user_lexicon_path
from .base import variants

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_LEXICON = Path(__file__).with_name("lexicon.toml")
# A lexicon is a small hand-written file: anything bigger is a mistake (a wrong path, a
# binary), refused before it is parsed.
MAX_LEXICON_BYTES = 1_000_000

# The cue lists a lexicon's [cues] table may extend (see lexicon.toml for what each means).
CUE_LISTS = (
    "score_before",
    "score_after",
    "named_date",
    "year_event",
    "year_before",
    "room_before",
    "room_after",
    "keep_zhu",
    "keep_wording",
)
Cues = tuple[tuple[str, tuple[str, ...]], ...]  # ((list name, words), ...): hashable


class Lexicon(dict):
    """term → spoken form, plus the cue word lists the rules use (`cues`).

    A plain dict works wherever a Lexicon does; it gets the project's default cues.
    """

    def __init__(self, terms: Mapping[str, str] = (), cues: Cues | None = None) -> None:
        super().__init__(terms)
        self.cues: Cues = cues if cues is not None else default_lexicon().cues


def _read(path: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    text = read_limited(path, "lexicon", MAX_LEXICON_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"malformed lexicon {path}: {e}".splitlines()[0]) from None
    cues = data.pop("cues", {})
    if not isinstance(cues, dict):
        raise InputError(f"malformed lexicon {path}: [cues] must be a table of word lists")
    for name, words in cues.items():
        if name not in CUE_LISTS:
            raise InputError(
                f"malformed lexicon {path}: unknown cue list {name!r} (known: {', '.join(CUE_LISTS)})"
            )
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise InputError(f"malformed lexicon {path}: cues.{name} must be a list of words")
    terms = data.pop("terms", {}) if isinstance(data.get("terms"), dict) else {}
    terms.update(data)
    bad = [k for k, v in terms.items() if not isinstance(v, str) or not k]
    if bad:
        raise InputError(f'malformed lexicon {path}: entry {bad[0]!r} must be term = "spoken form"')
    return terms, cues


def _merge_cues(base: Cues, extra: Mapping[str, list[str]]) -> Cues:
    merged = {name: list(words) for name, words in base}
    for name, words in extra.items():
        merged[name] = list(dict.fromkeys([*merged.get(name, []), *words]))
    return tuple((name, tuple(merged.get(name, ()))) for name in CUE_LISTS)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The project's lexicon (digest/normalization/lexicon.toml), read once."""
    terms, cues = _read(DEFAULT_LEXICON)
    return Lexicon(terms, _merge_cues((), cues))


def load_lexicon(user_file: Path | None = None) -> Lexicon:
    """The project lexicon merged with the user's (explicit file, else the config-folder one).

    User terms override the project's; user cue lists add words to the project's lists.
    """
    base = default_lexicon()
    if user_file is None:
        candidate = user_lexicon_path()
        user_file = candidate if candidate.is_file() else None
    if user_file is None:
        return Lexicon(base, base.cues)
    terms, cues = _read(Path(user_file))
    return Lexicon({**base, **terms}, _merge_cues(base.cues, cues))


def cues_of(lexicon: Mapping[str, str]) -> Cues:
    """The cue lists that go with `lexicon` (the defaults for a plain dict)."""
    cues = getattr(lexicon, "cues", None)
    return cues if cues is not None else default_lexicon().cues


def _edge(term: str, start: bool) -> str:
    """Latin and digit edges must not cut into a longer word or number (3M ≠ 23M)."""
    c = term[0] if start else term[-1]
    if c.isascii() and c.isalpha():
        cls = "[A-Za-z]"
    elif c.isdigit():
        cls = r"[\d.]"
    else:
        return ""
    return f"(?<!{cls})" if start else f"(?!{cls})"


@lru_cache(maxsize=32)
def _compile(
    items: tuple[tuple[str, str], ...],
) -> tuple[re.Pattern[str] | None, dict[str, str], tuple[str, ...] | None]:
    table: dict[str, str] = {}
    for term, spoken in items:
        for form in variants(term):
            table.setdefault(form, spoken)
        table[term] = spoken
    if not table:
        return None, table, None
    terms = sorted(table, key=len, reverse=True)
    alternation = "|".join(_edge(t, True) + re.escape(t) + _edge(t, False) for t in terms)
    # Blanks touching a term with digits go, as blanks around numbers do (§2.1): the
    # lexicon runs before that rule would see the digits. Blanks next to Latin stay.
    pattern = (
        rf"(?P<pre>(?<![A-Za-z\d \t])[ \t]+)?(?P<t>{alternation})(?P<post>[ \t]+(?![A-Za-z\d \t]))?"
    )
    # A short lexicon is cheaper to test term by term (`in` is a C substring search) than
    # to run its big alternation over every sentence; most sentences hold no term at all.
    quick = tuple(terms) if len(terms) <= 300 else None
    return re.compile(pattern), table, quick


_compiled_by_id: dict[int, tuple] = {}


def apply_lexicon(text: str, lexicon: Mapping[str, str]) -> str:
    # The same lexicon object is passed for every sentence of an article: remember it by
    # identity (holding a reference, so the id cannot be reused) instead of hashing it each time.
    hit = _compiled_by_id.get(id(lexicon))
    if hit is None or hit[0] is not lexicon or len(hit[0]) != hit[2]:
        hit = (lexicon, _compile(tuple(lexicon.items())), len(lexicon))
        if len(_compiled_by_id) > 16:
            _compiled_by_id.clear()
        _compiled_by_id[id(lexicon)] = hit
    pattern, table, quick = hit[1]
    if pattern is None:
        return text
    if quick is not None and not any(term in text for term in quick):
        return text
    return pattern.sub(_replace(table), text)


def _replace(table: dict[str, str]):
    def say(m: re.Match[str]) -> str:
        term = m.group("t")
        if any(c.isdigit() for c in term):
            return table[term]
        return (m.group("pre") or "") + table[term] + (m.group("post") or "")

    return say
