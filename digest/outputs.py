"""Episode -> files: the tagged MP3, Podcasting 2.0 chapters JSON, SRT and WebVTT.

Every file is written under a temporary name in the target folder and then
renamed, so a crash never leaves a half-written episode where a podcast host
or a sync job could pick it up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from digest.episode import Chapter, Episode
from digest.errors import OutputError
from digest.files import write_atomically
from digest.tags import EpisodeInfo, build_tag
from digest.transcripts import plain_text, srt, vtt

MAX_SLUG_LENGTH = 60


@dataclass(frozen=True)
class EpisodeFiles:
    mp3: Path
    chapters: Path
    subtitles: Path
    captions: Path  # WebVTT


def clean_title(title: str) -> str:
    """The title without control characters (NUL, ESC, BEL, ...), whitespace collapsed.

    A title is free text from the user or the article; a NUL in it became a
    value separator in the ID3 tag ("a\x00b" read back as "a/b") and escape
    sequences ended up verbatim in the tags and chapters JSON.
    """
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in title)
    return " ".join(text.split()) or "episode"


def slugify(title: str) -> str:
    """An ASCII file-name slug from the title's pinyin: podcast hosts reject other names."""
    from pypinyin import lazy_pinyin  # 0.2 s to import: only pay it when naming a file

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


def chapters_json(episode: Episode) -> str:
    """Podcasting 2.0 JSON chapters (podcast:chapters), times in seconds."""
    document = {
        "version": "1.2.0",
        "title": clean_title(episode.title),
        "chapters": [_json_chapter(c) for c in episode.chapters],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _json_chapter(chapter: Chapter) -> dict[str, object]:
    entry: dict[str, object] = {
        "startTime": round(chapter.start, 3),
        "endTime": round(chapter.end, 3),
        "title": chapter.title,
    }
    if chapter.url:
        entry["url"] = chapter.url
    return entry


def write_episode(episode: Episode, info: EpisodeInfo, folder: Path) -> EpisodeFiles:
    info = replace(info, title=clean_title(info.title), transcript=plain_text(episode.cues))
    stem = episode_stem(info.title, info.date)
    files = EpisodeFiles(
        mp3=folder / f"{stem}.mp3",
        chapters=folder / f"{stem}.chapters.json",
        subtitles=folder / f"{stem}.srt",
        captions=folder / f"{stem}.vtt",
    )
    written: list[Path] = []
    path = files.chapters
    try:
        for path, data in (
            (files.chapters, chapters_json(episode).encode("utf-8")),
            (files.subtitles, srt(episode.cues).encode("utf-8")),
            (files.captions, vtt(episode.cues).encode("utf-8")),
            (files.mp3, build_tag(episode, info) + episode.audio.data),  # the MP3 last
        ):
            write_atomically(path, data)
            written.append(path)
    except OSError as exc:
        # A full disk, a folder made read-only mid-run, a directory in the way:
        # one line for the user, and no half episode (sidecars without the MP3).
        for done in written:
            done.unlink(missing_ok=True)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None
    return files
