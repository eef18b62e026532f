"""Content-addressed clip cache: a re-run only synthesizes what changed.

A clip's key hashes everything that decides its sound (engine, engine
version, voice settings, exact text).  Each clip is two files in
`<root>/<key[:2]>/`: the audio (`<key>.mp3`) and its metadata (`<key>.json`).

The cache is untrusted input: another program, a sync tool or a disk error
can change it.  So the metadata records the SHA-256 of the audio and of the
metadata's own fields, and the key it was stored under; a read checks all
three, refuses symlinks and anything but regular files, and validates every
field's type.  An entry failing any check is removed and counts as a miss,
so the clip is synthesized again and stored afresh.

Metadata (format 2)::

    {"format": 2, "key": "<key>",
     "audio": {"sha256": "...", "bytes": 12345},
     "fields": {"boundaries": [{"start": 0.1, "end": 1.2, "text": "..."}], ...},
     "fields_sha256": "<sha256 of the canonical JSON of fields>"}

`fields` is a dict of named fields, each with a validator registered in
`FIELDS` (`register_field`): another stage can store its own per-clip data
(loudness block energies, a frame count, ...) by registering a field and
passing it to `put(..., fields=...)`; `get_entry` returns it validated.
Fields a reader does not know are ignored, so older versions can read newer
entries' boundaries.

A write that fails (disk full, the folder gone or read-only, a directory in
the way) never fails the build: the clip is simply not cached, with one
warning through the `warn` callback.

A hit touches the audio file, so `digest.cache_maintenance` (`digest cache
info|prune`) can remove entries least recently used first.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from digest.engines.base import Boundary, Speaker, Speech
from digest.files import (
    TEMP_SUFFIX,
    ensure_folder,
    remove_stale_temporaries,
    write_atomically,
)

FORMAT = 2
MAX_AUDIO_BYTES = 64 * 1024 * 1024  # a chunk is a few minutes of 48 kbps audio at most
MAX_META_BYTES = 4 * 1024 * 1024

Warn = Callable[[str], None]


def default_cache_dir() -> Path:
    """The user's clip cache folder (XDG: ~/.cache/digest/clips)."""
    return platformdirs.user_cache_path("digest") / "clips"


def clip_key(engine: str, engine_version: str, speaker: Speaker, text: str) -> str:
    """The cache key of a clip: a digest of everything that decides its sound."""
    identity = {"engine": engine, "engine_version": engine_version, **asdict(speaker), "text": text}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- fields


class BadEntry(ValueError):
    """A cache entry failed a check; it is discarded."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadEntry(f"{what} is not a number")
    if not math.isfinite(value) or value < 0:
        raise BadEntry(f"{what} is not a finite time")
    return float(value)


def _boundaries(value: Any) -> tuple[Boundary, ...]:
    if not isinstance(value, list):
        raise BadEntry("boundaries is not a list")
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise BadEntry("a boundary is not an object")
        start = _number(item.get("start"), "a boundary start")
        end = _number(item.get("end"), "a boundary end")
        text = item.get("text")
        if not isinstance(text, str):
            raise BadEntry("a boundary text is not a string")
        if end < start:
            raise BadEntry("a boundary ends before it starts")
        result.append(Boundary(start, end, text))
    return tuple(result)


# name -> validator: takes the stored JSON value, returns the value to use or raises BadEntry
FIELDS: dict[str, Callable[[Any], Any]] = {"boundaries": _boundaries}


def register_field(name: str, validate: Callable[[Any], Any]) -> None:
    """Let entries carry a field `name`; `validate` raises BadEntry (or ValueError/TypeError)."""
    FIELDS[name] = validate


@dataclass(frozen=True)
class StoredClip:
    """Where a clip's audio is on disk, and the SHA-256 its content must have."""

    path: Path
    sha256: str


@dataclass(frozen=True)
class CacheEntry:
    speech: Speech
    fields: Mapping[str, Any]  # every stored field a validator is registered for, validated
    stored: StoredClip


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        fields, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of `path` if it is a regular file (not a symlink, FIFO, device) within `limit`."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadEntry(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise BadEntry(f"{path.name} is too large")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            # Not read(limit): that would allocate the whole limit for every clip.
            return handle.read(info.st_size + 1)
    finally:
        os.close(fd)


def decode_entry(key: str, audio: bytes, meta_bytes: bytes, path: Path) -> CacheEntry:
    """Check a stored entry against its metadata; raise BadEntry if anything is off."""
    try:
        meta = json.loads(meta_bytes.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadEntry(f"metadata is not JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BadEntry("metadata has another format")
    if meta.get("key") != key:
        raise BadEntry("metadata belongs to another clip")
    described = meta.get("audio")
    digest = _sha256(audio)
    if (
        not isinstance(described, dict)
        or described.get("bytes") != len(audio)
        or described.get("sha256") != digest
    ):
        raise BadEntry("audio does not match its digest")
    fields = meta.get("fields")
    if not isinstance(fields, dict) or meta.get("fields_sha256") != _sha256(_canonical(fields)):
        raise BadEntry("metadata fields do not match their digest")
    if "boundaries" not in fields:
        raise BadEntry("metadata has no boundaries")
    checked: dict[str, Any] = {}
    for name, value in fields.items():
        validate = FIELDS.get(name)
        if validate is None:
            continue  # a field a newer version stores
        try:
            checked[name] = validate(value)
        except (TypeError, ValueError) as exc:
            raise BadEntry(f"field {name}: {exc}") from None
    speech = Speech(audio=audio, boundaries=checked.pop("boundaries"))
    return CacheEntry(speech, checked, StoredClip(path, digest))


def _refuse_constant(name: str) -> Any:
    raise BadEntry(f"metadata contains {name}")


def encode_meta(
    key: str, speech: Speech, fields: Mapping[str, Any] | None, audio_sha256: str
) -> bytes:
    """The metadata file of an entry (see the module docstring); `audio_sha256` is the
    digest of `speech.audio`."""
    stored = {"boundaries": [asdict(b) for b in speech.boundaries], **(fields or {})}
    document = {
        "format": FORMAT,
        "key": key,
        "audio": {"sha256": audio_sha256, "bytes": len(speech.audio)},
        "fields": stored,
        "fields_sha256": _sha256(_canonical(stored)),
    }
    return json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")


# --------------------------------------------------------------------------- the cache


class ClipCache:
    """Clips on disk under `root`; `root=None` disables caching."""

    def __init__(self, root: Path | None, warn: Warn | None = None):
        self.root = root
        self.warn = warn or (lambda message: None)
        self.failed_writes = 0
        self.discarded = 0  # entries that failed a check
        if root is not None:
            ensure_folder(root, "cache folder")
            remove_stale_temporaries(root, f"*/.*{TEMP_SUFFIX}")

    def _paths(self, key: str) -> tuple[Path, Path]:
        assert self.root is not None
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError(f"not a clip key: {key!r}")
        folder = self.root / key[:2]
        return folder / f"{key}.mp3", folder / f"{key}.json"

    def get(self, key: str) -> Speech | None:
        """The clip stored under `key`, or None (missing, or failed a check and removed)."""
        entry = self.get_entry(key)
        return entry.speech if entry is not None else None

    def get_entry(self, key: str) -> CacheEntry | None:
        """The clip and its extra fields, verified; None on a miss."""
        if self.root is None:
            return None
        audio_path, meta_path = self._paths(key)
        try:
            if audio_path.parent.is_symlink():
                raise BadEntry("the clip folder is a symlink")
            audio = read_regular(audio_path, MAX_AUDIO_BYTES)
            meta = read_regular(meta_path, MAX_META_BYTES)
            entry = decode_entry(key, audio, meta, audio_path)
        except FileNotFoundError:
            return None
        except (OSError, BadEntry):
            self._discard(audio_path, meta_path)
            return None
        try:
            os.utime(audio_path)  # last used: pruning removes the least recently used first
        except OSError:
            pass
        return entry

    def _discard(self, *paths: Path) -> None:
        self.discarded += 1
        for path in paths:
            try:
                if path.is_symlink() or path.is_file():
                    path.unlink()
            except OSError:
                pass

    def put(
        self, key: str, speech: Speech, fields: Mapping[str, Any] | None = None
    ) -> StoredClip | None:
        """Store a clip; None (and one warning per cache) if it could not be written."""
        if self.root is None:
            return None
        audio_path, meta_path = self._paths(key)
        digest = _sha256(speech.audio)  # in the metadata, and in the StoredClip returned
        meta = encode_meta(key, speech, fields, digest)
        try:
            folder = audio_path.parent
            if folder.is_symlink():
                folder.unlink()
            folder.mkdir(parents=True, exist_ok=True)
            # The metadata first: a clip whose .mp3 exists has its metadata too
            # (a mismatch from a crash between the two fails the digest check).
            write_atomically(meta_path, meta)
            write_atomically(audio_path, speech.audio)
        except OSError as exc:
            self.failed_writes += 1
            if self.failed_writes == 1:
                self.warn(
                    f"could not write to the clip cache {self.root} "
                    f"({exc.strerror or exc}); carrying on without caching"
                )
            return None
        return StoredClip(audio_path, digest)
