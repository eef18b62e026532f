"""feed.xml: RSS 2.0 with the itunes, Podcasting 2.0, content and Podlove namespaces.

The feed is derived state: `write_feed` rebuilds it (and the page and the
cover) from the show file and the episodes' own files, so it can always be
regenerated.  It is written with lxml, which escapes everything; characters
XML 1.0 cannot hold at all (control characters) are dropped first.

Namespaces: `podcast` is the official URI.  gPodder's podcastparser maps the
`podcast` prefix only under the namespace's older GitHub URI, so it ignores
podcast:chapters and podcast:transcript here; it reads chapters from the
Podlove Simple Chapters (`psc:chapters`) that every item also carries.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from digest.cover import Cover, is_generated, show_cover
from digest.files import write_atomically
from digest.publish import (
    EPISODES,
    FEED_FILE,
    PAGE_FILE,
    PublishedEpisode,
    episode_url,
    feed_url,
    list_episodes,
    open_show,
    show_guid,
)
from digest.show import Show

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
PSC = "http://podlove.org/simple-chapters"
ATOM = "http://www.w3.org/2005/Atom"
NAMESPACES = {"itunes": ITUNES, "podcast": PODCAST, "content": CONTENT, "psc": PSC, "atom": ATOM}
COVER_NAMES = ("cover.jpg", "cover.png")
MAX_DESCRIPTION_BYTES = 4000  # Apple's limit for channel and item descriptions

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text XML 1.0 can carry: control characters and lone surrogates dropped."""
    return _NOT_XML.sub("", text)


def _el(
    parent, tag: str, text: str | None = None, attrs: dict[str, str] | None = None, **more: str
):
    prefix, _, name = tag.rpartition(":")
    qname = f"{{{NAMESPACES[prefix]}}}{name}" if prefix else name
    values = {**(attrs or {}), **more}
    element = etree.SubElement(parent, qname, {k: xml_text(v) for k, v in values.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def clock(seconds: float) -> str:
    """00:00 for the show notes' chapter lines; 1:02:03 past an hour."""
    total = int(seconds)
    hours, minutes, secs = total // 3600, total // 60 % 60, total % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def npt(seconds: float) -> str:
    """HH:MM:SS.mmm, Podlove Simple Chapters' start times."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def pub_dates(show: Show, episodes: list[PublishedEpisode]) -> dict[Path, dt.datetime]:
    """Each episode's date at the show's publication time in its time zone.

    Episodes of one day keep the order they were published in, a minute apart.
    """
    by_day: dict[dt.date, list[PublishedEpisode]] = defaultdict(list)
    for episode in episodes:
        by_day[episode.date].append(episode)
    dates = {}
    for day, group in by_day.items():
        base = dt.datetime.combine(day, show.publish_time, tzinfo=show.zone)
        for k, episode in enumerate(sorted(group, key=lambda e: (e.published, e.mp3.name))):
            dates[episode.mp3] = base + dt.timedelta(minutes=k)
    return dates


def description_text(episode: PublishedEpisode) -> str:
    """The plain description: the article's opening, then one "00:00 标题" line per chapter.

    Players without chapter support (小宇宙, Spotify) turn those lines into links.
    """
    lines = [episode.description] if episode.description else []
    if episode.chapters:
        lines += [""] if lines else []
        lines += [f"{clock(c.start)} {c.title}" for c in episode.chapters]
    return _limit("\n".join(lines), MAX_DESCRIPTION_BYTES)


def show_notes(episode: PublishedEpisode) -> str:
    """HTML show notes: the description and the stories with their links.

    A chapter with a URL starts a story; the chapters after it without one are
    its sections, indented beneath it.  An article's own link heads the list.
    """
    parts = [f"<p>{html.escape(episode.description)}</p>"] if episode.description else []
    items: list[str] = []
    sections: list[str] = []

    def close_story() -> None:
        if sections and items:
            items[-1] = items[-1][: -len("</li>")] + "<ul>" + "".join(sections) + "</ul></li>"
        elif sections:
            items.extend(sections)
        sections.clear()

    if episode.link and not any(c.url for c in episode.chapters):
        items.append(
            f'<li><a href="{html.escape(episode.link)}">{html.escape(episode.title)}</a></li>'
        )
    for chapter in episode.chapters:
        label = f"{clock(chapter.start)} {html.escape(chapter.title)}"
        if chapter.url:
            close_story()
            items.append(
                f'<li>{clock(chapter.start)} <a href="{html.escape(chapter.url)}">'
                f"{html.escape(chapter.title)}</a></li>"
            )
        else:
            sections.append(f"<li>{label}</li>")
    close_story()
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "".join(parts)


def _limit(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def render_feed(show: Show, episodes: list[PublishedEpisode], base: str, cover_name: str) -> bytes:
    """The feed document; `base` is the URL the show folder is served at (may be empty)."""
    rss = etree.Element("rss", {"version": "2.0"}, nsmap=NAMESPACES)
    channel = _el(rss, "channel")
    _el(channel, "title", show.name)
    if base:
        _el(channel, "link", episode_url(base, PAGE_FILE))
    _el(channel, "description", _limit(show.description or show.name, MAX_DESCRIPTION_BYTES))
    _el(channel, "language", show.language)
    _el(channel, "generator", "digest")
    if base:
        _el(
            channel,
            "atom:link",
            href=episode_url(base, FEED_FILE),
            rel="self",
            type="application/rss+xml",
        )
    _el(channel, "itunes:author", show.author)
    owner = _el(channel, "itunes:owner")
    _el(owner, "itunes:name", show.author)
    _el(owner, "itunes:email", show.email)
    _el(channel, "itunes:image", href=episode_url(base, cover_name))
    image = _el(channel, "image")
    _el(image, "url", episode_url(base, cover_name))
    _el(image, "title", show.name)
    if base:
        _el(image, "link", episode_url(base, PAGE_FILE))
    category = _el(channel, "itunes:category", attrs={"text": show.category})
    if show.subcategory:
        _el(category, "itunes:category", attrs={"text": show.subcategory})
    _el(channel, "itunes:explicit", "true" if show.explicit else "false")
    _el(channel, "itunes:type", "episodic")
    if not show.public:
        _el(channel, "itunes:block", "Yes")
    locked = _el(channel, "podcast:locked", "no" if show.public else "yes")
    if show.email:
        locked.set("owner", show.email)
    _el(channel, "podcast:guid", show_guid(show))
    dates = pub_dates(show, episodes)
    for episode in episodes:
        _item(channel, show, episode, base, dates[episode.mp3])
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _item(channel, show: Show, episode: PublishedEpisode, base: str, date: dt.datetime) -> None:
    item = _el(channel, "item")
    _el(item, "title", episode.title)
    _el(item, "link", episode_url(base, PAGE_FILE) + f"#{episode.stem}")
    _el(item, "guid", episode.guid, isPermaLink="false")
    _el(item, "pubDate", email.utils.format_datetime(date))
    _el(item, "description", description_text(episode))
    _el(item, "content:encoded", show_notes(episode))
    _el(
        item,
        "enclosure",
        url=episode_url(base, f"{EPISODES}/{episode.mp3.name}"),
        length=str(episode.length),
        type="audio/mpeg",
    )
    _el(item, "itunes:duration", str(round(episode.duration)))
    _el(item, "itunes:explicit", "true" if show.explicit else "false")
    _el(item, "itunes:episodeType", "full")
    chapters = episode.side_file(".chapters.json")
    if chapters:
        _el(
            item,
            "podcast:chapters",
            url=episode_url(base, f"{EPISODES}/{chapters.name}"),
            type="application/json+chapters",
        )
    for suffix, mime in ((".vtt", "text/vtt"), (".srt", "application/x-subrip")):
        transcript = episode.side_file(suffix)
        if transcript:
            _el(
                item,
                "podcast:transcript",
                url=episode_url(base, f"{EPISODES}/{transcript.name}"),
                type=mime,
                language=show.language,
                rel="captions",
            )
    if episode.chapters:
        marks = _el(item, "psc:chapters", version="1.2")
        for chapter in episode.chapters:
            attrs = {"start": npt(chapter.start), "title": chapter.title}
            if chapter.url:
                attrs["href"] = chapter.url
            _el(marks, "psc:chapter", attrs=attrs)


@dataclass(frozen=True)
class ShowState:
    """What the feed and the page are made of: the show, its episodes and its cover."""

    show: Show
    episodes: list[PublishedEpisode]
    cover_name: str


def prepare_cover(show_dir: Path, show: Show) -> str:
    """Put the show's art in the folder (or generate it once); return its file name."""
    if show.cover is None:
        for name in COVER_NAMES:
            # Art put in the folder by hand stays; a generated cover follows the show's name.
            if (show_dir / name).is_file() and not is_generated(show_dir / name):
                return name
    cover: Cover = show_cover(show.cover, show.name)
    target = show_dir / cover.name
    if not target.is_file() or target.read_bytes() != cover.data:
        write_atomically(target, cover.data)
    for name in COVER_NAMES:  # art of the other type would be stale
        if name != cover.name:
            (show_dir / name).unlink(missing_ok=True)
    return cover.name


def read_state(show_dir: Path) -> ShowState:
    """The show file, the episodes newest first, and the name of the cover file."""
    show = open_show(show_dir)
    episodes = list_episodes(show_dir, show)
    cover_name = next((n for n in COVER_NAMES if (show_dir / n).is_file()), "cover.png")
    return ShowState(show, episodes, cover_name)


def write_feed(show_dir: Path) -> ShowState:
    """Rebuild feed.xml, index.html and the cover from the show folder's contents."""
    from digest.page import render_page

    show = open_show(show_dir)
    cover_name = prepare_cover(show_dir, show)
    episodes = list_episodes(show_dir, show)
    write_atomically(show_dir / FEED_FILE, render_feed(show, episodes, show.base_url, cover_name))
    page = render_page(show, episodes, cover_name)
    write_atomically(show_dir / PAGE_FILE, page.encode("utf-8"))
    return ShowState(show, episodes, cover_name)


__all__ = ["feed_url", "read_state", "render_feed", "write_feed"]
