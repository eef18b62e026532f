"""Regular expressions compiled on first use.

Compiling patterns at import is paid by every command that imports the module,
whether or not it uses them: about 130 normalization rules for a one-line
`digest normalize`, and the article parser's patterns for a warm build that
reads a remembered script (issue 14).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class LazyText:
    """A piece of a regex built on first use: cue words need their Traditional spellings,
    read from OpenCC's tables, and a one-line `digest normalize` must not pay for the
    pieces its text never reaches (issue 14). Put in an f-string or added to a str, it is
    that str."""

    __slots__ = ("_build", "_text")

    def __init__(self, build: Callable[[], str]) -> None:
        self._build = build
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._build()
        return self._text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)


# The methods and attributes of re.Pattern that rules use.
_PATTERN_ATTRIBUTES = (
    "search",
    "match",
    "fullmatch",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class LazyPattern:
    """A compiled regex, compiled on first use. Compiling the ~130 rule patterns takes
    longer than a one-line `digest normalize` may (issue 14), and most texts reach few of
    them; a warm build, which reads a remembered script, reaches none. After the first
    use its methods are the compiled pattern's own (stored on the instance), so a call
    costs no more than on a `re.Pattern`."""

    def __init__(self, source: str | Callable[[], str | LazyText], flags: int = 0) -> None:
        self._source = source if callable(source) else lambda: source
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never compile for a private or special lookup
            raise AttributeError(name)
        compiled = re.compile(str(self._source()), self._flags)
        for attribute in _PATTERN_ATTRIBUTES:
            setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)


def lazy_re(source: str | Callable[[], str | LazyText], flags: int = 0) -> LazyPattern:
    """`re.compile(source, flags)` (of `source()` if it is a function), done when the
    pattern is first used."""
    return LazyPattern(source, flags)
