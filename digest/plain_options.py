"""A typer command class whose options are read without importing pydantic until needed.

typer 0.2x coerces every option that is not a flag through a pydantic TypeAdapter, and
builds the adapter before it looks at the value, even for an option left out (None).
Importing pydantic for that costs about 50 ms of CPU, more than the rest of a one-line
`digest normalize` (issue 14: it must start in ≤ 0.6× the time of `edge-tts --help`).

`PlainOptions` defers typer's coercion to the first value that needs it: an option left out
is None without any (as in typer), a string given to a `str` option is its own value
(typer's adapter returns `str(value)`), and plain numbers and paths are converted as typer
would (`_plain_value`). Every other value goes to typer's own coercion, built then. With a
typer that does not coerce this way, the class is plain `TyperCommand`.
tests/test_startup.py checks that `digest normalize` imports no pydantic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PosixPath, WindowsPath
from typing import Any

from typer.core import TyperCommand, TyperGroup

try:  # typer's runtime coercion (0.2x); older versions coerce with click types instead
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
except ImportError:  # pragma: no cover
    RuntimeParam = None


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _DeferredParam(RuntimeParam):
        """typer's coercion of one option, built on the first value that needs it."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            plain = _plain_value(self.descriptor, value)
            if plain is not None:
                return plain
            typer_own = build_runtime_param(self.descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)


_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")


def _plain_value(descriptor: Any, value: Any) -> Any:
    """What typer's adapter would make of `value`, for the plain cases (None: ask typer).

    A string for a `str` option; a whole number (or its digits) for an `int` option, a
    number for a `float` one, within their min/max; a path for a `Path` option with no
    checks to run.  Anything else, errors included, goes to typer's own coercion.
    """
    annotation, info = descriptor.annotation, descriptor.parameter_info
    kind = type(value)
    if annotation is str:
        return value if kind is str else None
    if annotation in (int, float):
        if kind is str and (_INTEGER if annotation is int else _DECIMAL).fullmatch(value):
            number: Any = annotation(value)
        elif kind is int or (kind is float and annotation is float):
            number = annotation(value)
        else:
            return None
        low, high = info.min, info.max
        if (low is not None and number < low) or (high is not None and number > high):
            return None  # typer words the error
        return number
    if annotation is Path and kind in (str, PosixPath, WindowsPath, Path):
        checks = (info.exists, info.writable, info.resolve_path, info.allow_dash)
        plain = not any(checks) and info.file_okay and info.dir_okay and info.readable
        return Path(value) if plain and value != "" else None
    return None


def _defer(params: list[Any]) -> None:
    """Give typer's options a deferred coercion (those typer has not coerced yet)."""
    if RuntimeParam is None:  # pragma: no cover
        return
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is not None and getattr(param, "_runtime_param", 0) is None:
            param._runtime_param = _DeferredParam(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                descriptor=descriptor,
            )


class _DeferredOptions:
    """What the command and the group share: options, and --help, coerced when needed."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _defer(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        """--help, whose value (None unless given) typer would coerce through pydantic too."""
        option = super().get_help_option(ctx)  # type: ignore[misc]
        _defer([option])
        return option


class PlainOptions(_DeferredOptions, TyperCommand):
    """A typer command whose options import pydantic only for a value that needs it
    (`@app.command(cls=PlainOptions)`)."""


class PlainGroup(_DeferredOptions, TyperGroup):
    """The app's group, for the same reason: its options are parsed before every command
    (`typer.Typer(cls=PlainGroup)`)."""
