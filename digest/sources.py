"""SOURCE arguments -> stories: files, folders, stdin, web pages and RSS/Atom feeds.

A source that cannot be read becomes one warning naming it (or, when the
caller is strict, the error itself); the rest still make a briefing.  A feed
contributes the items published within `since` (items without any date are
kept: a feed that dates nothing is still news), each read as a web page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from digest.errors import InputError, SourceError
from digest.lazy_patterns import lazy_re
from digest.reading import is_url, read_text

if TYPE_CHECKING:
    from digest.web import FetchOptions

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".text")
FEED_SUFFIXES = (".rss", ".atom", ".xml")
DEFAULT_SINCE = dt.timedelta(hours=24)
Warn = Callable[[str], None]

_DURATION = lazy_re(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Story:
    """One story's text before it is parsed, and where it came from."""

    name: str  # how messages name it: a path, a URL, "stdin"
    text: str  # what parse_article reads (Markdown-ish, `# headline` first)
    url: str | None = None  # canonical URL, when it came from the web
    site: str | None = None  # the source's name, spoken in the transition

    @property
    def keys(self) -> tuple[str, ...]:
        """What makes two stories the same: the canonical URL, or the text itself."""
        keys = [f"text:{text_fingerprint(self.text)}"]
        if self.url:
            keys.insert(0, f"url:{self.url}")
        return tuple(keys)


def text_fingerprint(text: str) -> str:
    """A hash of the text's letters and digits only: reformatting does not change it."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    return hashlib.sha256(kept.encode("utf-8")).hexdigest()[:24]


def parse_since(value: str | None) -> dt.timedelta:
    """`24h`, `90m`, `2d`, `1w` -> a timedelta."""
    if value is None:
        return DEFAULT_SINCE
    match = _DURATION.match(value)
    if not match:
        raise InputError(f"since {value!r}: use a duration such as 24h, 90m, 2d or 1w")
    return dt.timedelta(**{_UNITS[match.group(2).lower()]: float(match.group(1))})


def read_source_list(path: Path) -> list[str]:
    """A list file: one source a line; blank lines and `#` comments are ignored.

    A relative path is relative to the list's own folder, so a cron job finds it from anywhere.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path} could not be read: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    sources = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line and not (line == "-" or is_url(line) or Path(line).expanduser().is_absolute()):
            line = str(path.parent / line)
        if line:
            sources.append(line)
    return sources


def read_source_text(
    source: str | Path, max_chars: int = 2_000_000, fetch_options: FetchOptions | None = None
) -> str:
    """The article text of one file, `-` or web page: what `digest build` reads.

    The web reader (and its HTML parser) is imported only for a web page: a build of a
    file does without it."""
    if isinstance(source, str) and is_url(source):
        from digest.web import FetchOptions, read_page

        text = read_page(source, fetch_options or FetchOptions()).text
        if len(text) > max_chars:
            raise SourceError(f"{source} is {len(text):,} characters; the limit is {max_chars:,}")
        return text
    return read_text(source, max_chars=max_chars)


def collect_stories(
    sources: list[str],
    *,
    since: dt.timedelta = DEFAULT_SINCE,
    now: dt.datetime | None = None,
    fetch_options: FetchOptions | None = None,
    max_chars: int = 2_000_000,
    strict: bool = False,
    warn: Warn = lambda message: None,
) -> list[Story]:
    """Every story the sources give, in order.  Failures are warned about (or raised if strict)."""
    from digest.web import FetchOptions

    now = now or dt.datetime.now(dt.timezone.utc)
    fetch_options = fetch_options or FetchOptions()
    stories: list[Story] = []
    for source in sources:
        try:
            for item in _expand(source, since, now, fetch_options, max_chars, strict, warn):
                stories.append(item)
        except InputError as exc:
            if strict:
                raise
            warn(f"skipped {exc}")
    return stories


def _expand(
    source: str,
    since: dt.timedelta,
    now: dt.datetime,
    fetch_options: FetchOptions,
    max_chars: int,
    strict: bool,
    warn: Warn,
) -> Iterator[Story]:
    if source == "-":
        yield Story("stdin", read_text("-", max_chars=max_chars))
        return
    if is_url(source):
        from digest.web import fetch, is_feed

        fetched = fetch(source, fetch_options)
        if is_feed(fetched):
            yield from _feed_stories(
                source, fetched.data, since, now, fetch_options, max_chars, strict, warn
            )
            return
        yield _page_story(source, fetch_options, max_chars)
        return
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file()
            and not p.name.startswith(".")
            and p.suffix.lower() in ARTICLE_SUFFIXES + FEED_SUFFIXES
        )
        if not files:
            raise SourceError(f"{source}: no article files in the folder")
        for file in files:
            try:
                yield from _file_stories(file, since, now, fetch_options, max_chars, strict, warn)
            except InputError as exc:
                if strict:
                    raise
                warn(f"skipped {exc}")
        return
    yield from _file_stories(path, since, now, fetch_options, max_chars, strict, warn)


def _file_stories(path, since, now, fetch_options, max_chars, strict, warn) -> Iterator[Story]:
    if _is_feed_file(path):
        yield from _feed_stories(
            str(path), path.read_bytes(), since, now, fetch_options, max_chars, strict, warn
        )
        return
    try:
        text = read_text(path, max_chars=max_chars)
    except SourceError:
        raise
    except InputError as exc:
        raise SourceError(str(exc)) from None
    yield Story(str(path), text)


def _is_feed_file(path: Path) -> bool:
    if not path.is_file():
        return False
    if path.suffix.lower() in (".rss", ".atom"):
        return True
    if path.suffix.lower() == ".xml" or path.suffix == "":
        with path.open("rb") as handle:
            head = handle.read(1024).lstrip().lower()
        return head.startswith(b"<?xml") and (
            b"<rss" in head or b"<feed" in head or b"<rdf" in head
        )
    return False


def _page_story(url: str, fetch_options: FetchOptions, max_chars: int) -> Story:
    from digest.web import canonical_url, read_page

    page = read_page(url, fetch_options)
    if len(page.text) > max_chars:
        raise SourceError(f"{url} is {len(page.text):,} characters; the limit is {max_chars:,}")
    return Story(url, page.text, url=page.url or canonical_url(url), site=page.site)


def _feed_stories(
    name, data, since, now, fetch_options, max_chars, strict, warn
) -> Iterator[Story]:
    import feedparser

    feed = feedparser.parse(data)
    if feed.bozo and not feed.entries:
        raise SourceError(f"{name}: not a readable RSS or Atom feed")
    feed_title = (feed.feed.get("title") or "").strip() or None
    cutoff = now - since
    for entry in feed.entries:
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        if published is not None:
            moment = dt.datetime(*published[:6], tzinfo=dt.timezone.utc)
            if moment < cutoff:
                continue
        link = (entry.get("link") or "").strip()
        if not link:
            warn(f"skipped an item of {name} without a link: {entry.get('title', '')[:40]}")
            continue
        try:
            story = _page_story(link, fetch_options, max_chars)
        except InputError as exc:
            if strict:
                raise
            warn(f"skipped {exc}")
            continue
        yield Story(story.name, story.text, story.url, story.site or feed_title)


def deduplicate(
    stories: list[Story], published: set[str] = frozenset(), note: Warn = lambda m: None
) -> list[Story]:
    """Each story once (same canonical URL or same text), and none already published."""
    seen: set[str] = set()
    kept = []
    for story in stories:
        if any(key in published for key in story.keys):
            note(f"{story.name} was already published in this show; skipped")
            continue
        if any(key in seen for key in story.keys):
            note(f"{story.name} repeats an earlier story; included once")
            continue
        seen.update(story.keys)
        kept.append(story)
    return kept
