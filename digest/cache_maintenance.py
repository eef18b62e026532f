"""Looking after the clip cache's folder: how much it holds (`cache_info`) and pruning it
(`prune`, and `prune_to_cap` for the size cap in config.toml).

Apart from digest.cache, which stores and reads clips on every build: a build only
prunes when the cap is set, and then imports this.  Every entry of the folder counts,
clips, remembered scripts (digest.script_cache) and results (digest.memo), grouped by
their key: the name up to its first dot.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from digest.files import TEMP_SUFFIX, remove_stale_temporaries
from digest.sizes import format_size


@dataclass(frozen=True)
class _Stored:
    key: str
    files: tuple[Path, ...]
    size: int
    last_used: float


def _stored_entries(root: Path) -> list[_Stored]:
    groups: dict[str, list[tuple[Path, os.stat_result]]] = {}
    try:
        folders = [f for f in root.iterdir() if len(f.name) == 2 and f.is_dir()]
    except OSError:
        return []
    for folder in folders:
        try:
            names = list(folder.iterdir())
        except OSError:
            continue
        for path in names:
            key = path.name.split(".", 1)[0]
            if path.name.startswith("."):
                continue  # a write in progress (stale ones are swept separately)
            try:
                info = path.lstat()
            except OSError:
                continue
            groups.setdefault(key, []).append((path, info))
    entries = []
    for key, files in groups.items():
        entries.append(
            _Stored(
                key=key,
                files=tuple(p for p, _ in files),
                size=sum(i.st_size for _, i in files),
                last_used=max(i.st_mtime for _, i in files),
            )
        )
    return entries


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    clips: int
    size: int  # bytes, scripts and remembered results (digest.memo) included
    oldest_use: float | None  # epoch seconds of the least recently used clip
    newest_use: float | None
    scripts: int = 0  # remembered article scripts (digest.script_cache)


def cache_info(root: Path) -> CacheInfo:
    """How many clips the cache at `root` holds and how much space they take."""
    entries = _stored_entries(root)
    uses = [e.last_used for e in entries]
    scripts = sum(1 for e in entries if any(f.name.endswith(".script.json") for f in e.files))
    return CacheInfo(
        root=root,
        # Not the scripts, nor the small results digest.memo keeps beside the clips.
        clips=sum(1 for e in entries if any(f.suffix == ".mp3" for f in e.files)),
        scripts=scripts,
        size=sum(e.size for e in entries),
        oldest_use=min(uses) if uses else None,
        newest_use=max(uses) if uses else None,
    )


@dataclass(frozen=True)
class PruneResult:
    removed: int  # clips
    freed: int  # bytes
    kept: int  # clips
    size: int  # bytes still in the cache

    def describe(self) -> str:
        """One line for the user."""
        return (
            f"removed {self.removed} clip(s) ({format_size(self.freed)}); "
            f"{self.kept} clip(s) ({format_size(self.size)}) kept"
        )


def prune(
    root: Path,
    *,
    older_than: float | None = None,
    max_size: int | None = None,
    now: float | None = None,
) -> PruneResult:
    """Remove clips unused for `older_than` seconds, then the least recently used
    ones until the cache holds at most `max_size` bytes."""
    now = time.time() if now is None else now
    remove_stale_temporaries(root, f"*/.*{TEMP_SUFFIX}")
    entries = sorted(_stored_entries(root), key=lambda e: e.last_used)
    total = sum(e.size for e in entries)
    removed = freed = 0
    kept: list[_Stored] = []
    for entry in entries:
        too_old = older_than is not None and entry.last_used < now - older_than
        too_big = max_size is not None and total > max_size
        if not (too_old or too_big):
            kept.append(entry)
            continue
        for path in entry.files:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue
        removed += 1
        freed += entry.size
        total -= entry.size
    return PruneResult(removed=removed, freed=freed, kept=len(kept), size=total)


def prune_to_cap(root: Path, max_size: int) -> PruneResult | None:
    """Prune the least recently used clips if the cache is over `max_size`; None if it is not."""
    if cache_info(root).size <= max_size:
        return None
    return prune(root, max_size=max_size)
