"""ID3v2.3 tags with chapters (CHAP + CTOC), written with mutagen.

v2.3 because phones, Windows and podcast apps read it best.  Two mutagen
habits need handling (podcast-standards.md §1.3): `save(v2_version=3)` alone
keeps v2.4-only frames, so `update_to_v23()` comes first; and mutagen orders
frames by size, not time, while FFmpeg-based players list CHAP frames in file
order.  `order_chapter_frames` puts them back in time order on the bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO

from mutagen.id3 import (
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

from digest.episode import Episode
from digest.errors import InputError
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


def build_tag(episode: Episode, info: EpisodeInfo) -> bytes:
    """The complete ID3v2.3 tag, ready to put in front of the audio frames."""
    tag = ID3()
    tag.add(TIT2(encoding=3, text=info.title))
    tag.add(TPE1(encoding=3, text=info.show))
    tag.add(TALB(encoding=3, text=info.show))
    tag.add(TDRC(encoding=3, text=info.date.isoformat()))
    tag.add(TCON(encoding=3, text="Podcast"))
    tag.add(TLAN(encoding=3, text="chi"))
    tag.add(TLEN(encoding=3, text=str(round(episode.duration * 1000))))
    if info.description:
        tag.add(COMM(encoding=3, lang="chi", desc="", text=info.description))
    if info.transcript:
        tag.add(USLT(encoding=3, lang="chi", desc="", text=info.transcript))
    if info.engine:
        tag.add(TSSE(encoding=3, text=f"digest; {info.engine}; {info.voice}"))
        tag.add(TXXX(encoding=3, desc="digest:engine", text=info.engine))
    if info.source_id:
        tag.add(TXXX(encoding=3, desc=SOURCE_TAG, text=info.source_id))
    if episode.loudness is not None:
        figures = episode.loudness.after.to_dict()
        for key, name, unit in LOUDNESS_FRAMES:
            if figures[key] is not None:
                tag.add(TXXX(encoding=3, desc=name, text=f"{figures[key]:.1f} {unit}"))
    if info.cover:
        tag.add(APIC(encoding=3, mime=info.cover_mime, type=3, desc="Cover", data=info.cover))
    ids = [f"chp{i}" for i in range(len(episode.chapters))]
    tag.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=info.title)],
        )
    )
    for element_id, chapter in zip(ids, episode.chapters):
        sub_frames = [TIT2(encoding=3, text=chapter.title)]
        if chapter.url:
            sub_frames.append(WXXX(encoding=0, desc="", url=chapter.url))
        tag.add(
            CHAP(
                element_id=element_id,
                start_time=round(chapter.start * 1000),
                end_time=round(chapter.end * 1000),
                sub_frames=sub_frames,
            )
        )
    tag.update_to_v23()
    buffer = BytesIO()
    tag.save(buffer, v2_version=3, v1=0, padding=lambda info: 0)
    return order_chapter_frames(buffer.getvalue())


def order_chapter_frames(tag: bytes) -> bytes:
    """Rewrite a v2.3 tag so its CHAP frames stand in start-time order.

    The CHAP frames keep the slots mutagen gave them; only which CHAP sits in
    which slot changes, so the tag's size and every other frame stay put.
    """
    if tag[:3] != b"ID3" or tag[3] != 3:
        raise ValueError("not an ID3v2.3 tag")
    end = _HEADER + id3v2_body_size(tag)
    frames: list[bytes] = []
    pos = _HEADER
    while pos + 10 <= end and tag[pos] != 0:
        length = 10 + int.from_bytes(tag[pos + 4 : pos + 8], "big")
        frames.append(tag[pos : pos + length])
        pos += length
    chapters = iter(sorted((f for f in frames if f[:4] == b"CHAP"), key=_chapter_start))
    ordered = [next(chapters) if f[:4] == b"CHAP" else f for f in frames]
    return tag[:_HEADER] + b"".join(ordered) + tag[pos:]


def _chapter_start(frame: bytes) -> int:
    body = frame[10:]
    id_end = body.index(b"\0") + 1
    return int.from_bytes(body[id_end : id_end + 4], "big")
