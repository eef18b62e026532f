"""Results a warm build would compute again, remembered beside the clip cache.

A warm re-run of an unchanged article takes its clips and its script from the cache
(digest.cache, digest.script_cache).  Three results were still computed afresh every
time, though nothing they depend on had changed: the chunks evened over the request
slots (`script.balance_chunks`, about 3 ms for the seed article), the file name
(the title's pinyin, 4 ms) and the ID3 tag (importing mutagen and building the frames,
7 ms): together a tenth of the run.

Each is a pure function of its inputs and of the code that computes it, so its bytes are
stored under the SHA-256 of both: `<root>/<key[:2]>/<key>.<kind>`, where
`digest cache prune` ages them out with the clips (least recently used first).  The
code is digest's version plus the size and modification time of every file of the
package, and of the files of any other package the result depends on (pass them as
`depends_on`): an upgrade or an edited checkout never reads a stale result.  A value
that is missing, unreadable or not of its kind's form is computed again and rewritten;
one that cannot be written only means the next build computes it too.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

from digest.files import write_atomically

T = TypeVar("T")

PACKAGE = Path(__file__).resolve().parent
MAX_VALUE_BYTES = 16 * 1024 * 1024
# The package's files whose contents decide what it computes (code, rules, lexicons, templates).
_CODE_SUFFIXES = (".py", ".toml", ".txt", ".tsv", ".json", ".html", ".xsl", ".css")


def remembered(
    root: Path | None,
    kind: str,
    inputs: Any,
    compute: Callable[[], T],
    encode: Callable[[T], bytes],
    decode: Callable[[bytes], T | None],
    *,
    depends_on: Iterable[Path] = (),
) -> T:
    """`compute()`, or what it gave before for the same JSON-able `inputs` and code.

    Stored as `encode(value)`; `decode` gives a stored value back, or None for bytes
    that are not of the kind's form (it is then computed again).  `root` None (no
    cache) always computes.
    """
    if root is None:
        return compute()
    document = {
        "kind": kind,
        "inputs": inputs,
        "code": code_stamp(),
        "depends_on": [_file_stamp(path) for path in depends_on],
    }
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=True).encode("ascii")
    key = hashlib.sha256(canonical).hexdigest()
    path = root / key[:2] / f"{key}.{kind}"
    stored = _read(path)
    found = decode(stored) if stored is not None else None
    if found is not None:
        try:
            os.utime(path)  # last used, for pruning
        except OSError:
            pass
        return found
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, encode(value))
    except OSError:
        pass
    return value


def package_files(package: str, *names: str) -> list[Path]:
    """Files of an installed package, found without importing it ([] if it is not installed)."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(spec.submodule_search_locations[0])
    return [folder / name for name in names]


@cache
def code_stamp() -> tuple[Any, ...]:
    """digest's version, and the name, size and modification time of each of its files."""
    from digest import __version__

    files = []
    for folder, subfolders, names in os.walk(PACKAGE):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(_CODE_SUFFIXES):
                files.append(_file_stamp(Path(folder, name)))
    return (__version__, *files)


def _file_stamp(path: Path) -> tuple[str, int, int]:
    try:
        info = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), info.st_size, info.st_mtime_ns)


def _read(path: Path) -> bytes | None:
    try:
        if path.is_symlink() or path.stat().st_size > MAX_VALUE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None
