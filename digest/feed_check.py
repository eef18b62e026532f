"""`digest feed DIR --check`: the written feed.xml against Apple's published requirements.

Checks the file as published, not the model it was made from, so it also
catches a feed edited or damaged by hand.  Each problem is one line naming
the item and the field.  Notes (a generated cover) are not problems.
"""

from __future__ import annotations

import email.utils
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from digest.cover import is_generated
from digest.feed import ITUNES, PODCAST
from digest.publish import FEED_FILE, open_show

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?$", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_COVER, MAX_COVER = 1400, 3000
MAX_DESCRIPTION_BYTES = 4000


@dataclass(frozen=True)
class Finding:
    message: str
    problem: bool = True  # False: a note, which does not fail the check


def _it(name: str) -> str:
    return f"{{{ITUNES}}}{name}"


def _pc(name: str) -> str:
    return f"{{{PODCAST}}}{name}"


def check_show(show_dir: Path) -> list[Finding]:
    """Every problem of SHOWDIR/feed.xml, and notes; an empty list means it passes."""
    feed_path = show_dir / FEED_FILE
    try:
        root = etree.parse(str(feed_path), etree.XMLParser(resolve_entities=False, no_network=True))
    except OSError:
        return [Finding(f"{feed_path}: missing; run digest feed {show_dir}")]
    except etree.XMLSyntaxError as exc:
        return [Finding(f"{feed_path}: not well-formed XML: {exc}")]
    show = open_show(show_dir)
    checker = _Checker(show_dir, show.base_url)
    checker.run(root.getroot())
    return checker.findings


class _Checker:
    def __init__(self, show_dir: Path, base_url: str):
        self.show_dir = show_dir
        self.base_url = base_url.rstrip("/")
        self.findings: list[Finding] = []

    def problem(self, message: str) -> None:
        self.findings.append(Finding(message))

    def note(self, message: str) -> None:
        self.findings.append(Finding(message, problem=False))

    def local_file(self, url: str, what: str) -> Path | None:
        """The folder's file a feed URL points at, or None after saying why."""
        if not url:
            self.problem(f"{what}: no URL")
            return None
        if not url.isascii():
            self.problem(f"{what}: URL {url!r} is not ASCII")
            return None
        relative = url
        if self.base_url and url.startswith(self.base_url + "/"):
            relative = url[len(self.base_url) + 1 :]
        elif re.match(r"^[a-z]+://", url, re.I):
            self.problem(
                f"{what}: {url} is not under the show's base URL {self.base_url or '(none)'}"
            )
            return None
        path = (self.show_dir / urllib.parse.unquote(relative)).resolve()
        if not path.is_relative_to(self.show_dir.resolve()):
            self.problem(f"{what}: {url} points outside the show folder")
            return None
        if not path.is_file():
            self.problem(f"{what}: {relative} is not in the show folder")
            return None
        return path

    def run(self, rss) -> None:
        if rss.tag != "rss" or rss.get("version") != "2.0":
            self.problem('feed.xml: the root element is not <rss version="2.0">')
        if ITUNES not in (rss.nsmap or {}).values():
            self.problem("feed.xml: the itunes namespace is not declared")
        channel = rss.find("channel")
        if channel is None:
            self.problem("feed.xml: no <channel>")
            return
        self.channel(channel)
        guids: dict[str, int] = {}
        urls: dict[str, int] = {}
        items = channel.findall("item")
        for number, item in enumerate(items, 1):
            self.item(item, number, guids, urls)

    def channel(self, channel) -> None:
        if not self.base_url:
            self.problem(
                "channel: the show has no base URL (feed.base_url): enclosure URLs are relative, and apps need absolute ones"
            )
        for tag in ("title", "description", "language"):
            if not (channel.findtext(tag) or "").strip():
                self.problem(f"channel: <{tag}> is missing or empty")
        description = channel.findtext("description") or ""
        if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
            self.problem(f"channel: <description> is over {MAX_DESCRIPTION_BYTES} bytes")
        language = (channel.findtext("language") or "").strip()
        if language and not _LANGUAGE.match(language):
            self.problem(f"channel: <language> {language!r} is not an ISO 639 code such as zh-cn")
        explicit = channel.findtext(_it("explicit"))
        if explicit is None:
            self.problem("channel: <itunes:explicit> is missing")
        elif explicit.strip() not in ("true", "false"):
            self.problem(f"channel: <itunes:explicit> is {explicit.strip()!r}, not true or false")
        if channel.find(_it("category")) is None or not channel.find(_it("category")).get("text"):
            self.problem("channel: <itunes:category> is missing")
        if not (channel.findtext(_it("author")) or "").strip():
            self.problem("channel: <itunes:author> is missing")
        email = (channel.findtext(f"{_it('owner')}/{_it('email')}") or "").strip()
        if not _EMAIL.match(email):
            self.problem("channel: <itunes:owner> has no e-mail address (set feed.email)")
        if not (channel.findtext(_pc("guid")) or "").strip():
            self.problem("channel: <podcast:guid> is missing")
        image = channel.find(_it("image"))
        if image is None:
            self.problem("channel: <itunes:image> is missing")
        else:
            path = self.local_file(image.get("href", ""), "channel: <itunes:image>")
            if path is not None:
                self.cover(path)

    def cover(self, path: Path) -> None:
        from PIL import Image, UnidentifiedImageError

        what = f"cover {path.name}"
        try:
            with Image.open(path) as image:
                kind, mode, (width, height) = image.format, image.mode, image.size
        except (OSError, UnidentifiedImageError):
            self.problem(f"{what}: not an image Pillow can read")
            return
        if kind not in ("JPEG", "PNG"):
            self.problem(f"{what}: {kind}, not JPEG or PNG")
        elif path.suffix.lower() not in ({".jpg", ".jpeg"} if kind == "JPEG" else {".png"}):
            self.problem(f"{what}: the extension does not match its type ({kind})")
        if mode != "RGB":
            self.problem(f"{what}: colour mode {mode}, Apple wants RGB")
        if width != height:
            self.problem(f"{what}: {width}x{height} is not square")
        elif not MIN_COVER <= width <= MAX_COVER:
            self.problem(f"{what}: {width}x{height} px, Apple wants {MIN_COVER} to {MAX_COVER}")
        if is_generated(path):
            self.note(f"note: {what} was generated by digest; set feed.cover to use your own art")

    def item(self, item, number: int, guids: dict[str, int], urls: dict[str, int]) -> None:
        title = (item.findtext("title") or "").strip()
        what = f"item {number}" + (f" ({title})" if title else "")
        if not title:
            self.problem(f"{what}: <title> is missing or empty")
        guid = (item.findtext("guid") or "").strip()
        if not guid:
            self.problem(f"{what}: <guid> is missing")
        elif guid in guids:
            self.problem(f"{what}: <guid> {guid} repeats item {guids[guid]}'s")
        else:
            guids[guid] = number
        pub_date = (item.findtext("pubDate") or "").strip()
        if not pub_date:
            self.problem(f"{what}: <pubDate> is missing")
        else:
            try:
                parsed = email.utils.parsedate_to_datetime(pub_date)
            except (TypeError, ValueError):
                parsed = None
            if parsed is None or parsed.tzinfo is None:
                self.problem(f"{what}: <pubDate> {pub_date!r} is not an RFC 2822 date")
        description = item.findtext("description") or ""
        if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
            self.problem(f"{what}: <description> is over {MAX_DESCRIPTION_BYTES} bytes")
        duration = (item.findtext(_it("duration")) or "").strip()
        if duration and not re.fullmatch(r"\d+", duration):
            self.problem(f"{what}: <itunes:duration> {duration!r} is not a number of seconds")
        enclosure = item.find("enclosure")
        if enclosure is None:
            self.problem(f"{what}: <enclosure> is missing")
            return
        url = enclosure.get("url", "")
        if url in urls:
            self.problem(f"{what}: enclosure URL repeats item {urls[url]}'s")
        urls[url] = number
        if enclosure.get("type") != "audio/mpeg":
            self.problem(f"{what}: enclosure type {enclosure.get('type')!r}, not audio/mpeg")
        path = self.local_file(url, f"{what}: enclosure")
        length = enclosure.get("length", "")
        if not length.isdigit():
            self.problem(f"{what}: enclosure length {length!r} is not a number of bytes")
        elif path is not None and int(length) != path.stat().st_size:
            self.problem(
                f"{what}: enclosure length {length} but {path.name} has {path.stat().st_size} bytes"
            )
        for tag in ("chapters", "transcript"):
            for element in item.findall(_pc(tag)):
                self.local_file(element.get("url", ""), f"{what}: <podcast:{tag}>")
