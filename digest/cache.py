"""Content-addressed clip cache: a re-run only synthesizes what changed.

A clip's key hashes everything that decides its sound (engine, engine
version, voice settings, exact text).  Each clip is two files, the boundaries
(`.json`) and the audio (`.mp3`), each written to a temporary name and renamed,
the audio last: a clip whose `.mp3` exists is complete, so a run killed at any
moment never leaves a clip that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import platformdirs

from digest.engines.base import Boundary, Speech, VoiceSettings
from digest.files import (
    TEMP_SUFFIX,
    ensure_folder,
    remove_stale_temporaries,
    write_atomically,
)


def default_cache_dir() -> Path:
    return platformdirs.user_cache_path("digest") / "clips"


def clip_key(engine: str, engine_version: str, voice: VoiceSettings, text: str) -> str:
    identity = {"engine": engine, "engine_version": engine_version, **asdict(voice), "text": text}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()


class ClipCache:
    """Clips on disk under `root`; `root=None` disables caching."""

    def __init__(self, root: Path | None):
        self.root = root
        if root is not None:
            ensure_folder(root, "cache folder")
            remove_stale_temporaries(root, f"*/.*{TEMP_SUFFIX}")

    def _paths(self, key: str) -> tuple[Path, Path]:
        assert self.root is not None
        folder = self.root / key[:2]
        return folder / f"{key}.mp3", folder / f"{key}.json"

    def get(self, key: str) -> Speech | None:
        if self.root is None:
            return None
        audio_path, meta_path = self._paths(key)
        try:
            audio = audio_path.read_bytes()
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            boundaries = tuple(Boundary(**b) for b in meta["boundaries"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return Speech(audio=audio, boundaries=boundaries)

    def put(self, key: str, speech: Speech) -> None:
        if self.root is None:
            return
        audio_path, meta_path = self._paths(key)
        audio_path.parent.mkdir(exist_ok=True)
        meta = {"boundaries": [asdict(b) for b in speech.boundaries]}
        write_atomically(meta_path, json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        write_atomically(audio_path, speech.audio)
