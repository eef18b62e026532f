"""The user's settings file, `~/.config/digest/config.toml` (XDG config folder).

    [cache]
    max_size = "2G"     # prune the clip cache, least recently used first, past this size

Only what is listed here is read; a missing file means the defaults.  A file
that cannot be read or parsed, or a value of the wrong kind, is an InputError
naming the file, the key and the problem.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from digest.errors import InputError
from digest.sizes import parse_size

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    cache_max_size: int | None = None  # bytes; None: the cache is never pruned automatically


def config_path() -> Path:
    """Where the settings file lives (`$XDG_CONFIG_HOME/digest/config.toml`)."""
    return platformdirs.user_config_path("digest") / "config.toml"


def user_lexicon_path() -> Path:
    """Where a user's own lexicon lives: lexicon.toml beside `config_path()`."""
    return config_path().with_name("lexicon.toml")


def load_settings(path: Path | None = None) -> Settings:
    """The settings in `path` (default: `config_path()`); defaults if it does not exist."""
    path = path or config_path()
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise InputError(f"settings file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(f"settings file {path} is larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"settings file {path} is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"settings file {path}: {exc}") from None
    cache = document.get("cache", {})
    if not isinstance(cache, dict):
        raise InputError(f"settings file {path}: [cache] must be a table")
    max_size = cache.get("max_size")
    if max_size is None:
        return Settings()
    if isinstance(max_size, bool) or not isinstance(max_size, (str, int)):
        raise InputError(f'settings file {path}: cache.max_size must be a size such as "2G"')
    try:
        size = max_size if isinstance(max_size, int) else parse_size(max_size)
    except ValueError as exc:
        raise InputError(f"settings file {path}: cache.max_size {exc}") from None
    if size <= 0:
        raise InputError(f"settings file {path}: cache.max_size must be more than 0")
    return Settings(cache_max_size=size)
