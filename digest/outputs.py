"""Episode -> files: the tagged MP3, Podcasting 2.0 chapters JSON, SRT and WebVTT.

All of an episode's files are staged in full and then moved into place
together (`digest.files.write_group`), so a crash or a full disk never leaves
a half-written episode where a podcast host or a sync job could pick it up,
and a failed rebuild leaves the previous episode's files as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import BinaryIO

from digest.episode import Chapter, Episode
from digest.errors import OutputError
from digest.files import (
    STAGING_PREFIX,
    TEMP_SUFFIX,
    Content,
    folder_lock,
    remove_stale_temporaries,
    write_group,
)
from digest.memo import package_files, remembered
from digest.mp3 import read_id3v2
from digest.tags import SOURCE_TAG, EpisodeInfo, build_tag, written_source_id
from digest.text_safety import strip_invisible
from digest.transcripts import plain_text, srt, vtt

MAX_SLUG_LENGTH = 60
MAX_TAG_BYTES = 16 * 1024 * 1024  # an episode's tag: chapters, a cover, a transcript


@dataclass(frozen=True)
class EpisodeFiles:
    mp3: Path
    chapters: Path
    subtitles: Path
    captions: Path  # WebVTT

    @property
    def all(self) -> tuple[Path, ...]:
        """Every file of the episode, the MP3 first."""
        return tuple(getattr(self, f.name) for f in fields(self))

    def to_dict(self) -> dict[str, str]:
        """Each file by its role (mp3, chapters, subtitles, captions), for JSON summaries."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


def clean_title(title: str) -> str:
    """The title without control characters (NUL, ESC, BEL, ...), whitespace collapsed.

    A title is free text from the user or the article; a NUL in it became a
    value separator in the ID3 tag ("a\x00b" read back as "a/b") and escape
    sequences ended up verbatim in the tags and chapters JSON.
    """
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in strip_invisible(title))
    return " ".join(text.split()) or "episode"


def slugify(title: str, memo_root: Path | None = None) -> str:
    """An ASCII file-name slug from the title's pinyin: podcast hosts reject other names.

    Remembered in `memo_root` (digest.memo) with pypinyin's dictionaries' version."""
    return remembered(
        memo_root,
        "slug",
        {"title": title},
        lambda: _slug(title),
        str.encode,
        _stored_slug,
        depends_on=package_files("pypinyin", "phrases_dict.json", "pinyin_dict.json"),
    )


def _slug(title: str) -> str:
    from digest.pinyin import lazy_pinyin  # pypinyin's, without importing it (0.4 s, 57 MB)

    words = re.findall(r"[a-z0-9]+", " ".join(lazy_pinyin(strip_invisible(title))).lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG_LENGTH:
            break
        slug = candidate
    return slug or "episode-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]


def _stored_slug(stored: bytes) -> str | None:
    """A remembered slug, if it is one a slug can be."""
    if len(stored) <= MAX_SLUG_LENGTH and re.fullmatch(rb"[a-z0-9]+(-[a-z0-9]+)*", stored):
        return stored.decode("ascii")
    return None


def episode_stem(title: str, date: dt.date, memo_root: Path | None = None) -> str:
    return f"{date.isoformat()}-{slugify(title, memo_root)}"


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


def episode_documents(
    episode: Episode, info: EpisodeInfo, memo_root: Path | None = None
) -> dict[str, Content]:
    """Every file of an episode, by file-name suffix, the MP3 first.

    A new sidecar is one more entry here (and a field of EpisodeFiles); it is then
    staged, named, moved into place and rolled back together with the rest.
    The MP3 is written as a stream: the tag (all of whose times come from frame
    counts), then the audio, copied from the clip cache a clip at a time.  The tag
    is remembered in `memo_root` (digest.memo).
    """
    tag = build_tag(episode, info, memo_root)

    def write_mp3(handle: BinaryIO) -> None:
        handle.write(tag)
        episode.audio.write(handle)

    return {
        ".mp3": write_mp3,
        ".chapters.json": chapters_json(episode).encode("utf-8"),
        ".srt": srt(episode.cues).encode("utf-8"),
        ".vtt": vtt(episode.cues).encode("utf-8"),
    }


def source_id(identity: str) -> str:
    """A short, stable digest of where an article came from, for the tags and names.

    Only the digest is published (a path in a public feed would leak the
    user's folders).
    """
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _owner(mp3: Path) -> str | None:
    """The source id recorded in an existing episode MP3; None if there is no MP3."""
    if not mp3.exists():
        return None
    try:
        # Only the tag is read: mutagen given the path would read the whole file.
        with open(mp3, "rb") as handle:
            tag = read_id3v2(handle, limit=MAX_TAG_BYTES)
        if not tag:
            return ""
        written = written_source_id(tag)  # digest's own tag, without importing mutagen
        if written is not None:
            return written
        from mutagen.id3 import ID3, TXXX

        # TXXX frames only: parsing a long transcript (USLT) would take longer than the build.
        frames = ID3(io.BytesIO(tag), known_frames={"TXXX": TXXX}).getall(f"TXXX:{SOURCE_TAG}")
    except Exception:  # noqa: BLE001 - anything unreadable belongs to someone else
        return ""
    return str(frames[0].text[0]) if frames and frames[0].text else ""


def choose_stem(folder: Path, base: str, owner: str) -> str:
    """`base`, unless an episode of another article already has it: then `base-<id>`.

    Same stem means same episode: a rebuild of one article replaces its own
    files, while another article with the same title and date, a homophone
    title (公式/攻势 are both gong-shi) or a title that differs only past the
    slug limit gets its own name.  Call it with the folder locked.
    """
    candidates = [base, f"{base}-{owner[:8]}", f"{base}-{owner}"] if owner else [base]
    for stem in candidates:
        mp3 = folder / f"{stem}.mp3"
        if mp3.is_dir():
            return stem  # something in the way, not an episode: writing fails with one line
        found = _owner(mp3)
        if found is None or found == owner:
            return stem
    raise OutputError(f"{folder / base}.mp3 and its variants belong to other articles")


def write_episode(
    episode: Episode, info: EpisodeInfo, folder: Path, memo_root: Path | None = None
) -> EpisodeFiles:
    """Write the episode's files into `folder`: all of them, or none (earlier files kept).

    The tag and the file name are remembered in `memo_root` (digest.memo; the clip
    cache's folder), so a re-run neither imports mutagen nor looks up pinyin.
    Raises OutputError (one line) if they cannot be written.
    """
    show = clean_title(info.show) if strip_invisible(info.show).strip() else ""
    info = replace(
        info, title=clean_title(info.title), show=show, transcript=plain_text(episode.cues)
    )
    documents = episode_documents(episode, info, memo_root)
    base = episode_stem(info.title, info.date, memo_root)
    stem = base
    try:
        # Only digest's own leftovers: staging folders, and temporaries of episode files.
        remove_stale_temporaries(folder, f"{STAGING_PREFIX}*{TEMP_SUFFIX}")
        for suffix in documents:
            remove_stale_temporaries(folder, f".*{suffix}.*{TEMP_SUFFIX}")
        with folder_lock(folder):
            stem = choose_stem(folder, base, info.source_id)
            write_group(folder, {stem + suffix: data for suffix, data in documents.items()})
    except OSError as exc:
        # A full disk, a folder made read-only mid-run, a directory in the way:
        # one line for the user; the earlier files are as they were.
        where = exc.filename or folder / f"{stem}.mp3"
        raise OutputError(f"could not write {where}: {exc.strerror or exc}") from None
    return EpisodeFiles(
        mp3=folder / f"{stem}.mp3",
        chapters=folder / f"{stem}.chapters.json",
        subtitles=folder / f"{stem}.srt",
        captions=folder / f"{stem}.vtt",
    )
