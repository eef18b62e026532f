"""Episode -> files: the tagged MP3, Podcasting 2.0 chapters JSON and SRT.

Every file is written under a temporary name in the target folder and then
renamed, so a crash never leaves a half-written episode where a podcast host
or a sync job could pick it up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pypinyin import lazy_pinyin

from digest.cache import write_atomically
from digest.episode import Cue, Episode
from digest.errors import DigestError
from digest.tags import EpisodeInfo, build_tag

MAX_SLUG_LENGTH = 60


@dataclass(frozen=True)
class EpisodeFiles:
    mp3: Path
    chapters: Path
    subtitles: Path


def slugify(title: str) -> str:
    """An ASCII file-name slug from the title's pinyin: podcast hosts reject other names."""
    words = re.findall(r"[a-z0-9]+", " ".join(lazy_pinyin(title)).lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG_LENGTH:
            break
        slug = candidate
    return slug or "episode-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]


def episode_stem(title: str, date: dt.date) -> str:
    return f"{date.isoformat()}-{slugify(title)}"


def ensure_output_dir(folder: Path) -> None:
    """Fail before any synthesis, not after, when the episode could not be saved."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise DigestError(f"output folder {folder} is not a folder") from None
    except OSError as exc:
        raise DigestError(f"output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DigestError(f"output folder {folder} is not writable")


def srt(cues: tuple[Cue, ...]) -> str:
    def stamp(seconds: float) -> str:
        ms = round(seconds * 1000)
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    blocks = [
        f"{n}\n{stamp(cue.start)} --> {stamp(cue.end)}\n{cue.text.strip()}\n"
        for n, cue in enumerate((c for c in cues if c.text.strip() and c.end > c.start), 1)
    ]
    return "\n".join(blocks)


def chapters_json(episode: Episode) -> str:
    """Podcasting 2.0 JSON chapters (podcast:chapters), times in seconds."""
    document = {
        "version": "1.2.0",
        "title": episode.title,
        "chapters": [
            {"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title}
            for c in episode.chapters
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_episode(episode: Episode, info: EpisodeInfo, folder: Path) -> EpisodeFiles:
    stem = episode_stem(info.title, info.date)
    files = EpisodeFiles(
        mp3=folder / f"{stem}.mp3",
        chapters=folder / f"{stem}.chapters.json",
        subtitles=folder / f"{stem}.srt",
    )
    write_atomically(files.chapters, chapters_json(episode).encode("utf-8"))
    write_atomically(files.subtitles, srt(episode.cues).encode("utf-8"))
    write_atomically(files.mp3, build_tag(episode, info) + episode.audio.data)
    return files
