"""The show folder: episodes go in, and everything a feed needs is read back from their files.

    SHOWDIR/show.toml                the show's settings (digest init)
    SHOWDIR/feed.xml, index.html     derived: `digest feed` rebuilds them at any time
    SHOWDIR/cover.jpg|png            the show's art, or a generated one
    SHOWDIR/episodes/STEM.mp3 .chapters.json .vtt .srt

`publish_episode` copies an episode's files in (the MP3 last, each written
atomically), stamps the MP3 with its feed GUID (TGID) and the moment it was
published, retires the oldest episodes beyond `keep`, and regenerates the feed
and the page.  `read_episode` learns title, date, description, chapters,
links and duration from the episode's own files, never from the build.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import urllib.parse
import uuid
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from mutagen.id3 import ID3, TGID, TXXX, ID3NoHeaderError

from digest.errors import InputError, Mp3Error, OutputError
from digest.files import write_atomically
from digest.mp3 import first_format, id3v2_end, read_frames, read_id3v2, read_info_frame
from digest.outputs import clean_title
from digest.show import SHOW_FILE, Show, load_show
from digest.tags import order_chapter_frames

EPISODES = "episodes"
FEED_FILE = "feed.xml"
PAGE_FILE = "index.html"
# The Podcasting 2.0 namespace's own UUIDv5 namespace for podcast:guid.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
PUBLISHED_KEY = "digest:published"
SIDE_FILES = (".chapters.json", ".vtt", ".srt")


@dataclass(frozen=True)
class ChapterMark:
    start: float  # seconds
    title: str
    url: str = ""  # a story's source link, when the chapters JSON names one


@dataclass(frozen=True)
class PublishedEpisode:
    """One episode as its files in the show folder describe it."""

    mp3: Path
    title: str
    date: dt.date
    description: str
    duration: float  # seconds, from the MP3 frames
    length: int  # bytes
    chapters: tuple[ChapterMark, ...]
    guid: str  # TGID, or derived from the show when the MP3 has none
    published: str  # ISO time of publishing (UTC); orders two episodes of one day
    link: str = ""  # the article's source URL, when the tags name one

    @property
    def stem(self) -> str:
        return self.mp3.name[: -len(".mp3")]

    def side_file(self, suffix: str) -> Path | None:
        """The episode's .chapters.json, .vtt or .srt, when it has one."""
        path = self.mp3.with_name(self.stem + suffix)
        return path if path.is_file() else None


def feed_url(show: Show) -> str:
    return f"{show.base_url}/{FEED_FILE}" if show.base_url else ""


def show_guid(show: Show) -> str:
    """podcast:guid: UUIDv5 of the feed URL without scheme and trailing slashes.

    Without a base URL the show's name stands in; set feed.base_url before the
    first episode is published, because every item GUID derives from this one.
    """
    url = feed_url(show)
    if url:
        key = url.split("://", 1)[-1].rstrip("/")
    else:
        key = "digest.invalid/" + show.name
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, key))


def episode_guid(show: Show, file_name: str) -> str:
    """An item's GUID: stable for the file name within the show, unique across shows."""
    return str(uuid.uuid5(uuid.UUID(show_guid(show)), file_name))


def episode_url(base: str, path: str) -> str:
    """An absolute URL for a file of the show folder (or a relative one without a base)."""
    quoted = urllib.parse.quote(path)
    return f"{base.rstrip('/')}/{quoted}" if base else quoted


def open_show(show_dir: Path) -> Show:
    """Load SHOWDIR/show.toml, or say the folder is not a show."""
    show_file = show_dir / SHOW_FILE
    if not show_file.is_file():
        raise InputError(f"{show_dir} is not a show folder (no {SHOW_FILE}); create one first")
    return load_show(show_file)


def _read_head(mp3: Path) -> tuple[bytes, bytes, int]:
    """The ID3v2 tag at the front of `mp3` (b"" if none), the bytes just after it (where
    an Info frame would be), and the file's size; the audio is not read."""
    try:
        with open(mp3, "rb") as handle:
            tag = read_id3v2(handle)
            after = handle.read(_INFO_FRAME_SPAN)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise InputError(f"{mp3}: {exc.strerror or exc}") from None
    return tag, after, size


_INFO_FRAME_SPAN = 4096  # more than any Xing/Info frame with its headers


def _duration(mp3: Path, tag: bytes, after: bytes) -> float:
    """From the Info frame digest writes (frame count x frame length); an MP3 without
    one is read and its frames counted."""
    info = read_info_frame(tag + after)
    fmt = first_format(tag + after)
    if info is not None and "frames" in info and fmt is not None:
        return info["frames"] * fmt.samples_per_frame / fmt.sample_rate
    try:
        return read_frames(mp3.read_bytes(), expected=None).duration
    except OSError as exc:
        raise InputError(f"{mp3}: {exc.strerror or exc}") from None
    except Mp3Error as exc:
        raise InputError(f"{mp3}: {exc}") from None


def read_episode(mp3: Path, show: Show | None = None) -> PublishedEpisode:
    """Everything the feed says about an episode, from its MP3 tags and side files
    (the audio itself is not read when the MP3 has an Info frame)."""
    data, after, size = _read_head(mp3)
    try:
        tag = ID3(BytesIO(data))
    except ID3NoHeaderError:
        raise InputError(f"{mp3}: no ID3 tag; not an episode digest built") from None
    except Exception as exc:  # mutagen raises many kinds on a damaged tag
        raise InputError(f"{mp3}: unreadable ID3 tag ({exc})") from None
    duration = _duration(mp3, data, after)

    def text(frame_id: str) -> str:
        frame = tag.get(frame_id)
        return str(frame.text[0]) if frame is not None and frame.text else ""

    title = text("TIT2") or mp3.stem
    date = _tag_date(tag, mp3)
    description = ""
    for frame in tag.getall("COMM"):
        if frame.text:
            description = str(frame.text[0])
            break
    link = ""
    woas = tag.getall("WOAS")
    if woas:
        link = woas[0].url
    chapters = _read_chapters(mp3.with_name(mp3.name[: -len(".mp3")] + ".chapters.json"))
    guid = text("TGID")
    if not guid and show is not None:
        guid = episode_guid(show, mp3.name)
    published = ""
    for frame in tag.getall("TXXX"):
        if frame.desc == PUBLISHED_KEY and frame.text:
            published = str(frame.text[0])
    return PublishedEpisode(
        mp3=mp3,
        title=title,
        date=date,
        description=description,
        duration=duration,
        length=size,
        chapters=chapters,
        guid=guid,
        published=published,
        link=link,
    )


def _tag_date(tag: ID3, mp3: Path) -> dt.date:
    stamp = tag.get("TDRC")
    if stamp is not None and stamp.text:
        try:
            return dt.date.fromisoformat(str(stamp.text[0])[:10])
        except ValueError:
            pass
    try:  # the file name starts with the date
        return dt.date.fromisoformat(mp3.name[:10])
    except ValueError:
        raise InputError(f"{mp3}: no date in its tags or name") from None


def _read_chapters(path: Path) -> tuple[ChapterMark, ...]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a chapters file ({exc})".splitlines()[0]) from None
    marks = []
    for chapter in document.get("chapters", []) if isinstance(document, dict) else []:
        if not isinstance(chapter, dict) or chapter.get("toc") is False:
            continue
        start = chapter.get("startTime")
        if isinstance(start, (int, float)) and not isinstance(start, bool):
            marks.append(
                ChapterMark(
                    float(start),
                    clean_title(str(chapter.get("title", ""))),
                    str(chapter.get("url", "") or ""),
                )
            )
    return tuple(sorted(marks, key=lambda m: m.start))


def list_episodes(show_dir: Path, show: Show | None = None) -> list[PublishedEpisode]:
    """The show's episodes, newest first (date, then order of publishing, then name)."""
    folder = show_dir / EPISODES
    if not folder.is_dir():
        return []
    episodes = [read_episode(path, show) for path in sorted(folder.glob("*.mp3"))]
    episodes.sort(key=lambda e: (e.date, e.published, e.mp3.name), reverse=True)
    return episodes


def stamp_tag(data: bytes, guid: str, published: str) -> bytes:
    """The MP3 with TGID and the publishing time added to its ID3v2.3 tag.

    mutagen would reorder the CHAP frames when it saves, so the tag is rebuilt
    in memory and its chapters put back in time order, as the build does.
    """
    tag = ID3(BytesIO(data))
    tag.delall("TGID")
    tag.add(TGID(encoding=3, text=guid))
    tag.delall(f"TXXX:{PUBLISHED_KEY}")
    tag.add(TXXX(encoding=3, desc=PUBLISHED_KEY, text=published))
    tag.update_to_v23()
    buffer = BytesIO()
    tag.save(buffer, v2_version=3, v1=0, padding=lambda info: 0)
    return order_chapter_frames(buffer.getvalue()) + data[id3v2_end(data) :]


def _write_retagged(tag: bytes, mp3: Path, audio_start: int, handle: BinaryIO) -> None:
    """`tag`, then `mp3` from `audio_start` on, copied a megabyte at a time."""
    with open(mp3, "rb") as source:
        source.seek(audio_start)
        handle.write(tag)
        shutil.copyfileobj(source, handle, 1 << 20)


def publish_episode(
    mp3_path: Path,
    show_dir: Path,
    *,
    keep: int | None = None,
    now: dt.datetime | None = None,
) -> PublishedEpisode:
    """Add a built episode (its MP3 and side files) to a show folder, then rebuild the feed.

    Publishing the same episode again replaces its files and keeps its GUID
    and its first publishing time, so apps do not see a new episode.
    `keep` (default: the show's) retires the oldest episodes beyond that many.
    """
    from digest.feed import write_feed  # feed.py reads episodes through this module

    show = open_show(show_dir)
    mp3_path = Path(mp3_path)
    if mp3_path.suffix.lower() != ".mp3" or not mp3_path.is_file():
        raise InputError(f"{mp3_path}: not an MP3 file")
    name = mp3_path.name
    if not name.isascii() or "/" in name or name.startswith("."):
        raise InputError(
            f"{mp3_path}: episode file names must be ASCII (podcast hosts refuse others)"
        )
    episode = read_episode(mp3_path, show)  # refuses anything that is not an episode
    folder = show_dir / EPISODES
    target = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror or exc}") from None
    published = ""
    if target.is_file() and target.resolve() != mp3_path.resolve():
        published = read_episode(target, show).published
    published = published or episode.published
    if not published:
        moment = now or dt.datetime.now(dt.timezone.utc)
        published = moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    stem = name[: -len(".mp3")]
    try:
        for suffix in SIDE_FILES:
            source = mp3_path.with_name(stem + suffix)
            if source.is_file() and source.resolve() != (folder / source.name).resolve():
                write_atomically(folder / source.name, source.read_bytes())
        old_tag = _read_head(mp3_path)[0]
        tag = stamp_tag(old_tag, episode_guid(show, name), published)
        # The MP3 last (the feed lists only complete episodes), its audio copied, not read whole.
        write_atomically(target, partial(_write_retagged, tag, mp3_path, len(old_tag)))
    except OSError as exc:
        raise OutputError(
            f"could not publish {name} into {folder}: {exc.strerror or exc}"
        ) from None
    retire_episodes(show_dir, keep if keep is not None else show.keep, show)
    write_feed(show_dir)
    return read_episode(target, show)


def retire_episodes(show_dir: Path, keep: int | None, show: Show | None = None) -> list[str]:
    """Delete the files of all but the newest `keep` episodes; return the retired names."""
    if not keep:
        return []
    retired = []
    for episode in list_episodes(show_dir, show)[keep:]:
        for suffix in (".mp3", *SIDE_FILES):
            episode.mp3.with_name(episode.stem + suffix).unlink(missing_ok=True)
        retired.append(episode.mp3.name)
    return retired


__all__ = [
    "ChapterMark",
    "PublishedEpisode",
    "episode_guid",
    "list_episodes",
    "publish_episode",
    "read_episode",
    "retire_episodes",
    "show_guid",
]
