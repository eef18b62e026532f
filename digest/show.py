"""A show: the settings shared by every episode of one podcast, kept in `show.toml`.

A show folder (`digest init SHOWDIR`) holds `show.toml`, and, once episodes are
published, `feed.xml`, `index.html`, a cover and `episodes/`.  `load_show`
reads and validates the file; every problem is one line naming the key.
Command-line flags override what the file says.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SHOW_FILE = "show.toml"
MAX_SHOW_FILE_BYTES = 1_000_000
DEFAULT_SHOW_NAME = "digest 每日简报"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGES = ("zh-cn", "zh-tw", "zh-hk")


@dataclass(frozen=True)
class Templates:
    """What the briefing says around the stories.  Placeholders in braces.

    intro: {show} {date} (spoken date) {weekday} {count} {headlines}
    transition: {headline} {source}; `transition_no_source` when the source is unknown;
        `first` / `first_no_source` open the first story instead
    outro: {show} {date} {weekday} {count}
    """

    intro: str = "欢迎收听{show}。今天是{date}，{weekday}。本期共有{count}条新闻：{headlines}。"
    transition: str = "下一条，来自{source}。"
    transition_no_source: str = "下一条。"
    first: str = "首先，来自{source}。"
    first_no_source: str = "首先。"
    outro: str = "以上就是今天的{show}。感谢收听，我们明天再见。"


@dataclass(frozen=True)
class Pauses:
    """Seconds of silence that tell the structure by ear."""

    story: float = 2.5  # between stories
    section: float = 1.5  # between the sections of one story


@dataclass(frozen=True)
class Show:
    name: str = DEFAULT_SHOW_NAME
    description: str = ""
    author: str = "digest"
    email: str = ""  # the owner's, for itunes:owner
    language: str = "zh-cn"  # the feed's language: zh-cn, zh-tw or zh-hk
    timezone: str = "Asia/Shanghai"  # decides "today" for a briefing and each pubDate
    publish_time: dt.time = dt.time(6, 0)  # an episode's pubDate is its date at this time
    cover: Path | None = None  # JPEG or PNG, 1400-3000 px square
    category: str = "News"
    subcategory: str = "Daily News"
    explicit: bool = False
    base_url: str = ""  # where the show folder is served: enclosure URLs start with it
    public: bool = False  # private shows are blocked from directories and need a token to serve
    voices: tuple[str, ...] = ("xiaoxiao",)  # presets, alternating story by story
    traditional_voice: str | None = None  # a preset for stories written in Traditional script
    intro_bed: Path | None = None  # audio mixed quietly under the intro (any format ffmpeg reads)
    loudness: float | None = -19.0  # LUFS integrated on the mono file; None: leave as is
    keep: int | None = None  # episodes to keep in the feed; None: all
    templates: Templates = field(default_factory=Templates)
    pauses: Pauses = field(default_factory=Pauses)
    folder: Path | None = None  # the show folder the file was read from

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The date in the show's time zone: a 6 a.m. Beijing run on a UTC server is not yesterday."""
        moment = now or dt.datetime.now(dt.timezone.utc)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(self.zone).date()


def load_show(path: Path) -> Show:
    """Read and validate a show file.  Raises InputError naming the file and the key."""
    try:
        if path.stat().st_size > MAX_SHOW_FILE_BYTES:
            raise InputError(f"{path}: larger than {MAX_SHOW_FILE_BYTES:,} bytes, not a show file")
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: malformed TOML: {exc}".splitlines()[0]) from None
    return show_from_dict(data, path)


def show_from_dict(data: dict[str, Any], path: Path | str = SHOW_FILE) -> Show:
    """Validate the parsed TOML of a show file (see SHOW_TEMPLATE for the keys)."""
    reader = _Reader(data, str(path))
    show_table = reader.table("show")
    feed = reader.table("feed")
    briefing = reader.table("briefing")
    templates = reader.table("templates")
    pauses = reader.table("pauses")
    folder = Path(path).parent if isinstance(path, Path) else None

    timezone = show_table.text("timezone", Show.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        show_table.fail("timezone", f"unknown time zone {timezone!r}")
    publish = show_table.text("publish_time", "06:00")
    try:
        publish_time = dt.time.fromisoformat(publish)
    except ValueError:
        show_table.fail("publish_time", f"{publish!r} is not a time like 06:00")
    language = show_table.text("language", Show.language).lower()
    if language not in _LANGUAGES:
        show_table.fail("language", f"{language!r}: choose {', '.join(_LANGUAGES)}")
    email = feed.text("email", "")
    if email and not _EMAIL.match(email):
        feed.fail("email", f"{email!r} is not an e-mail address")
    base_url = feed.text("base_url", "")
    if base_url and not re.match(r"^https?://[^/\s]+", base_url):
        feed.fail("base_url", f"{base_url!r} is not an http(s) URL")
    cover_path = _path_in(feed.text("cover", ""), folder)
    intro_bed = _path_in(briefing.text("intro_bed", ""), folder)
    privacy = feed.text("privacy", "private")
    if privacy not in ("private", "public"):
        feed.fail("privacy", f"{privacy!r}: choose private or public")
    voices = tuple(briefing.texts("voices", list(Show.voices)))
    if not voices:
        briefing.fail("voices", "name at least one voice preset")
    loudness = briefing.value("loudness", -19.0)
    if loudness == "off":
        loudness = None
    elif isinstance(loudness, bool) or not isinstance(loudness, (int, float)):
        briefing.fail("loudness", 'a LUFS figure such as -19, or "off"')
    elif not -40 <= loudness <= -5:
        briefing.fail("loudness", f"{loudness} LUFS is outside -40 to -5")
    keep = feed.value("keep", 0)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        feed.fail("keep", "a whole number of episodes (0 keeps all)")

    defaults = Templates()
    template_values = {
        name: templates.text(name, getattr(defaults, name))
        for name in (
            "intro",
            "transition",
            "transition_no_source",
            "first",
            "first_no_source",
            "outro",
        )
    }
    for name, text in template_values.items():
        try:
            text.format_map(_AnyKey())
        except (ValueError, IndexError) as exc:
            templates.fail(name, f"not a valid template: {exc}")
    pause_values = {}
    for name in ("story", "section"):
        value = pauses.value(name, getattr(Pauses(), name))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 30:
            pauses.fail(name, "seconds from 0 to 30")
        pause_values[name] = float(value)

    show = Show(
        name=show_table.text("name", DEFAULT_SHOW_NAME) or DEFAULT_SHOW_NAME,
        description=show_table.text("description", ""),
        author=show_table.text("author", Show.author),
        email=email,
        language=language,
        timezone=timezone,
        publish_time=publish_time,
        cover=cover_path,
        category=feed.text("category", Show.category),
        subcategory=feed.text("subcategory", Show.subcategory),
        explicit=feed.flag("explicit", False),
        base_url=base_url.rstrip("/"),
        public=privacy == "public",
        voices=voices,
        traditional_voice=briefing.text("traditional_voice", "") or None,
        intro_bed=intro_bed,
        loudness=None if loudness is None else float(loudness),
        keep=keep or None,
        templates=Templates(**template_values),
        pauses=Pauses(**pause_values),
        folder=folder,
    )
    for reader_part in (reader, show_table, feed, briefing, templates, pauses):
        reader_part.refuse_unknown()
    return show


def _path_in(value: str, folder: Path | None) -> Path | None:
    """A path from the show file; a relative one is relative to the show folder."""
    if not value:
        return None
    path = Path(value).expanduser()
    return folder / path if not path.is_absolute() and folder is not None else path


def find_show_file(config: Path | None, publish_dir: Path | None) -> Path | None:
    """Which show file applies: `--publish SHOWDIR`'s, else `--config`, else ./show.toml if any."""
    if publish_dir is not None:
        return publish_dir / SHOW_FILE
    if config is not None:
        return config
    local = Path(SHOW_FILE)
    return local if local.is_file() else None


def resolve_show(
    config: Path | None = None, publish_dir: Path | None = None, name: str | None = None
) -> Show:
    """The show a command works for: the file `find_show_file` picks (defaults without one),
    with `name` (e.g. --show) overriding the file's."""
    path = find_show_file(config, publish_dir)
    show = load_show(path) if path else Show()
    return replace(show, name=name) if name else show


def init_show(folder: Path, name: str | None = None) -> Path:
    """Create a show folder with a commented show.toml and an empty episodes/ folder.

    Refuses to overwrite an existing show file.  Returns the show file's path.
    """
    show_file = folder / SHOW_FILE
    if show_file.exists():
        raise InputError(f"{show_file} already exists; edit it instead")
    try:
        (folder / "episodes").mkdir(parents=True, exist_ok=True)
        text = SHOW_TEMPLATE
        if name:
            text = text.replace('name = "digest 每日简报"', f"name = {_toml_string(name)}")
        show_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot create show folder {folder}: {exc.strerror or exc}") from None
    return show_file


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " else " " for c in escaped) + '"'


class _AnyKey(dict):
    """Lets a template be checked for syntax without knowing its placeholders' values."""

    def __missing__(self, key: str) -> str:
        return ""


class _Reader:
    """One table of the show file: typed reads, and a complaint that names the key."""

    def __init__(self, data: dict[str, Any], path: str, prefix: str = ""):
        self.data, self.path, self.prefix = data, path, prefix
        self.known: set[str] = set()

    def fail(self, key: str, problem: str) -> None:
        raise InputError(f"{self.path}: {self.prefix}{key}: {problem}")

    def table(self, key: str) -> _Reader:
        self.known.add(key)
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        return _Reader(value, self.path, f"{self.prefix}{key}.")

    def value(self, key: str, default: Any) -> Any:
        self.known.add(key)
        return self.data.get(key, default)

    def text(self, key: str, default: str) -> str:
        value = self.value(key, default)
        if not isinstance(value, str):
            self.fail(key, "must be a string")
        return value.strip()

    def texts(self, key: str, default: list[str]) -> list[str]:
        value = self.value(key, default)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a list of strings")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.value(key, default)
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
        return value

    def refuse_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.known)
        if unknown:
            self.fail(unknown[0], "unknown key (a typo?)")


SHOW_TEMPLATE = """\
# A digest show.  Every key is optional; the values shown are the defaults.
# Flags on the command line override this file.

[show]
name = "digest 每日简报"
description = ""
author = "digest"
language = "zh-cn"            # zh-cn, zh-tw or zh-hk (the feed's language)
timezone = "Asia/Shanghai"    # "today" for a briefing, and the time zone of each pubDate
publish_time = "06:00"        # an episode's pubDate is its date at this time

[feed]
email = ""                    # the owner's e-mail (itunes:owner); Apple wants one
base_url = ""                 # where this folder is served, e.g. https://example.com/podcast
cover = ""                    # JPEG or PNG, 1400-3000 px square; empty: one is generated
category = "News"
subcategory = "Daily News"
explicit = false
privacy = "private"           # private: hidden from directories (itunes:block), token to serve
keep = 0                      # episodes to keep in the feed; 0 keeps all

[briefing]
voices = ["xiaoxiao"]         # presets, alternating story by story; the first reads intro and outro
traditional_voice = ""        # e.g. "hsiaochen": reads stories written in Traditional script
intro_bed = ""                # e.g. "bed.mp3": music mixed quietly under the intro (mp3, wav, m4a, ...)
loudness = -19                # LUFS on the mono file (-16 as heard on two ears); "off" to leave as is

[pauses]
story = 2.5                   # seconds between stories
section = 1.5                 # seconds between the sections of one story

[templates]
# Placeholders: {show} {date} {weekday} {count} {headlines} {headline} {source}
intro = "欢迎收听{show}。今天是{date}，{weekday}。本期共有{count}条新闻：{headlines}。"
transition = "下一条，来自{source}。"
transition_no_source = "下一条。"
first = "首先，来自{source}。"           # opens the first story
first_no_source = "首先。"
outro = "以上就是今天的{show}。感谢收听，我们明天再见。"
"""
