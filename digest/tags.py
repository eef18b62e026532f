"""ID3v2.3 tags with chapters (CHAP + CTOC), written with mutagen.

v2.3 because phones, Windows and podcast apps read it best.  Two mutagen
habits need handling (podcast-standards.md §1.3): `save(v2_version=3)` alone
keeps v2.4-only frames, so `update_to_v23()` comes first; and mutagen orders
frames by size, not time, while FFmpeg-based players list CHAP frames in file
order.  `order_chapter_frames` puts them back in time order on the bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from digest.episode import Episode
from digest.errors import InputError
from digest.memo import package_files, remembered
from digest.mp3 import ID3_HEADER_SIZE as _HEADER
from digest.mp3 import id3v2_body_size

SOURCE_TAG = "digest:source"  # TXXX: which article an episode file belongs to (a digest)
# A CTOC frame lists its children with an 8-bit count.
MAX_CHAPTERS = 255
# (Loudness.to_dict key, TXXX description, unit): the measured level of the finished audio.
LOUDNESS_FRAMES = (
    ("integrated_lufs", "digest:integrated_loudness", "LUFS"),
    ("true_peak_dbtp", "digest:true_peak", "dBTP"),
    ("lra_lu", "digest:loudness_range", "LU"),
)


@dataclass(frozen=True)
class EpisodeInfo:
    """What the tags say about an episode beyond its audio and chapters."""

    title: str
    show: str
    date: dt.date
    description: str = ""
    engine: str = ""
    voice: str = ""
    cover: bytes | None = None
    cover_mime: str = "image/jpeg"
    transcript: str = ""  # the whole text as written, one sentence a line (USLT)
    source_id: str = ""  # digest.outputs.source_id of the article's origin; "" if unknown


def check_chapter_count(count: int, name: str) -> None:
    """Refuse, before any synthesis, an episode with more chapters than a CTOC can list."""
    if count > MAX_CHAPTERS:
        raise InputError(
            f"{name}: {count} sections, but an episode can have at most {MAX_CHAPTERS} chapters"
            " (the ID3 chapter table's limit); split the article or merge sections"
        )


def build_tag(episode: Episode, info: EpisodeInfo, memo_root: Path | None = None) -> bytes:
    """The complete ID3v2.3 tag, ready to put in front of the audio frames.

    Remembered in `memo_root` (digest.memo) under everything it is made of
    (`_tag_content`) and mutagen's version: a warm re-run never imports mutagen.
    """
    content = _tag_content(episode, info)
    cover = content["cover"]
    inputs = {**content, "cover": hashlib.sha256(cover).hexdigest() if cover else None}
    return remembered(
        memo_root,
        "tag.id3",
        inputs,
        lambda: _tag_bytes(content),
        bytes,
        _whole_v23_tag,
        depends_on=package_files("mutagen", "__init__.py"),
    )


def _tag_content(episode: Episode, info: EpisodeInfo) -> dict[str, Any]:
    """Every value the tag is made of: `_tag_bytes` reads nothing else."""
    figures = episode.loudness.after.to_dict() if episode.loudness is not None else {}
    return {
        "title": info.title,
        "show": info.show,
        "date": info.date.isoformat(),
        "length_ms": round(episode.duration * 1000),
        "description": info.description,
        "transcript": info.transcript,
        "engine": info.engine,
        "voice": info.voice,
        "source_id": info.source_id,
        "loudness": [
            [name, f"{figures[key]:.1f} {unit}"]
            for key, name, unit in LOUDNESS_FRAMES
            if figures.get(key) is not None
        ],
        "cover": info.cover,
        "cover_mime": info.cover_mime,
        "chapters": [
            [chapter.title, chapter.url, round(chapter.start * 1000), round(chapter.end * 1000)]
            for chapter in episode.chapters
        ],
    }


def _tag_bytes(content: dict[str, Any]) -> bytes:
    from mutagen.id3 import (  # 5 ms to import: only when a tag is not remembered
        APIC,
        CHAP,
        COMM,
        CTOC,
        ID3,
        TALB,
        TCON,
        TDRC,
        TIT2,
        TLAN,
        TLEN,
        TPE1,
        TSSE,
        TXXX,
        USLT,
        WXXX,
        CTOCFlags,
    )

    tag = ID3()
    tag.add(TIT2(encoding=3, text=content["title"]))
    tag.add(TPE1(encoding=3, text=content["show"]))
    tag.add(TALB(encoding=3, text=content["show"]))
    tag.add(TDRC(encoding=3, text=content["date"]))
    tag.add(TCON(encoding=3, text="Podcast"))
    tag.add(TLAN(encoding=3, text="chi"))
    tag.add(TLEN(encoding=3, text=str(content["length_ms"])))
    if content["description"]:
        tag.add(COMM(encoding=3, lang="chi", desc="", text=content["description"]))
    if content["transcript"]:
        tag.add(USLT(encoding=3, lang="chi", desc="", text=content["transcript"]))
    if content["engine"]:
        tag.add(TSSE(encoding=3, text=f"digest; {content['engine']}; {content['voice']}"))
        tag.add(TXXX(encoding=3, desc="digest:engine", text=content["engine"]))
    if content["source_id"]:
        tag.add(TXXX(encoding=3, desc=SOURCE_TAG, text=content["source_id"]))
    for name, text in content["loudness"]:
        tag.add(TXXX(encoding=3, desc=name, text=text))
    if content["cover"]:
        tag.add(
            APIC(
                encoding=3, mime=content["cover_mime"], type=3, desc="Cover", data=content["cover"]
            )
        )
    ids = [f"chp{i}" for i in range(len(content["chapters"]))]
    tag.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=content["title"])],
        )
    )
    for element_id, (title, url, start_ms, end_ms) in zip(ids, content["chapters"]):
        sub_frames = [TIT2(encoding=3, text=title)]
        if url:
            sub_frames.append(WXXX(encoding=0, desc="", url=url))
        tag.add(
            CHAP(element_id=element_id, start_time=start_ms, end_time=end_ms, sub_frames=sub_frames)
        )
    tag.update_to_v23()
    buffer = BytesIO()
    tag.save(buffer, v2_version=3, v1=0, padding=lambda info: 0)
    return order_chapter_frames(buffer.getvalue())


def _whole_v23_tag(stored: bytes) -> bytes | None:
    """A remembered tag, if it is one whole ID3v2.3 tag."""
    if len(stored) < _HEADER or stored[:4] != b"ID3\x03":
        return None
    return stored if len(stored) == _HEADER + id3v2_body_size(stored) else None


def order_chapter_frames(tag: bytes) -> bytes:
    """Rewrite a v2.3 tag so its CHAP frames stand in start-time order.

    The CHAP frames keep the slots mutagen gave them; only which CHAP sits in
    which slot changes, so the tag's size and every other frame stay put.
    """
    frames = v23_frames(tag)
    if frames is None:
        raise ValueError("not an ID3v2.3 tag")
    chapters = iter(sorted((f for f in frames if f[:4] == b"CHAP"), key=_chapter_start))
    ordered = [next(chapters) if f[:4] == b"CHAP" else f for f in frames]
    used = sum(map(len, frames))
    return tag[:_HEADER] + b"".join(ordered) + tag[_HEADER + used :]


def v23_frames(tag: bytes) -> list[bytes] | None:
    """The frames (each with its 10-byte header) of an ID3v2.3 tag as mutagen writes it:
    no unsynchronisation, no extended header.  None for any other tag."""
    if tag[:4] != b"ID3\x03" or len(tag) < _HEADER or tag[5] & 0xC0:
        return None
    end = min(len(tag), _HEADER + id3v2_body_size(tag))
    frames: list[bytes] = []
    pos = _HEADER
    while pos + 10 <= end and tag[pos] != 0:
        length = 10 + int.from_bytes(tag[pos + 4 : pos + 8], "big")
        frames.append(tag[pos : pos + length])
        pos += length
    return frames


def written_source_id(tag: bytes) -> str | None:
    """The article's source id (TXXX `SOURCE_TAG`) in a tag `build_tag` wrote, read off its
    bytes: "" if it has none, None if the tag is not in that form (ask mutagen).

    Reading it with mutagen costs its 5 ms import on every re-run into the same folder."""
    frames = v23_frames(tag)
    if frames is None:
        return None
    for frame in frames:
        if frame[:4] != b"TXXX" or frame[8:10] != b"\0\0":
            continue
        body = frame[10:]
        if body[:1] != b"\x01":  # UTF-16 with a BOM: what mutagen writes for v2.3
            return None
        text = body[1:]
        # The description ends at the first aligned UTF-16 NUL.
        end = next((i for i in range(0, len(text) - 1, 2) if text[i : i + 2] == b"\0\0"), None)
        if end is None:
            continue
        try:
            if text[:end].decode("utf-16") == SOURCE_TAG:
                return text[end + 2 :].decode("utf-16").split("\0")[0]
        except UnicodeDecodeError:
            return None
    return ""


def _chapter_start(frame: bytes) -> int:
    body = frame[10:]
    id_end = body.index(b"\0") + 1
    return int.from_bytes(body[id_end : id_end + 4], "big")
