"""The whole job as plain functions: article file in, episode files out.

    read_text -> parse_article -> build_script -> synthesize_script
              -> assemble -> write_episode

The CLI is a thin layer over `build_episode` and `prepare_script`; tests and
other programs call these directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from digest.article import Article, parse_article
from digest.cache import ClipCache, default_cache_dir
from digest.checks import DEFAULT_SECONDS_PER_CHAR, ClipCheck, rate_factor
from digest.clips import MAX_CONCURRENCY, Progress, RetryPolicy, SynthesisStats, cached_clips
from digest.engines import (
    AUTO,
    Engine,
    EngineSettings,
    Speaker,
    close_engine,
    engine_class,
    select_engine,
)
from digest.episode import Episode, assemble, set_loudness
from digest.errors import InputError
from digest.files import ensure_folder
from digest.interrupts import interruption_for
from digest.loudness import DEFAULT_TARGET, LOUDNESS_MODES, parse_target
from digest.memo import remembered
from digest.outputs import EpisodeFiles, source_id, write_episode
from digest.reading import MAX_COVER_BYTES, clean_text, read_bounded, source_identity
from digest.script import MAX_CHUNK_CHARS, Script, balance_chunks, build_script, rechunked
from digest.script_cache import load_script, script_key, store_script
from digest.settings import load_settings
from digest.show import DEFAULT_SHOW_NAME
from digest.sizes import format_size
from digest.sources import read_source_text
from digest.tags import EpisodeInfo, check_chapter_count
from digest.text_safety import strip_invisible
from digest.voices import VoicePreset, parse_percent, parse_pitch, resolve_voice

if TYPE_CHECKING:
    import asyncio

Warn = Callable[[str], None]
T = TypeVar("T")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str | dt.date) -> dt.date:
    """A calendar date from `YYYY-MM-DD` (only that form: no 20260101, no ISO weeks)."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        raise InputError(f"date {value!r} is not in YYYY-MM-DD form", setting="date")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"date {value!r} is not a day on the calendar (YYYY-MM-DD)", setting="date"
        ) from None


@dataclass(frozen=True)
class BuildOptions:
    """How to build an episode.  Values are checked and coerced here, where they are made:
    paths may be strings, `date` may be "YYYY-MM-DD", and a bad value raises InputError
    naming the setting.

    `voice` is a preset name (`digest voices`) or an edge voice name; `engine` is
    "auto", an engine name (`digest.engine_names()`), or an engine instance.
    """

    voice: str | None = None  # preset name or edge-tts voice name; None: the default preset
    engine: str | Engine = AUTO
    rate: str | None = None  # e.g. "+10%"
    pitch: str | None = None  # e.g. "+5Hz"
    volume: str | None = None  # e.g. "-10%"
    title: str | None = None  # default: the article's
    show: str = DEFAULT_SHOW_NAME
    date: dt.date | None = None  # default: today
    output_dir: Path = Path("output")
    concurrency: int = 6  # requests in flight; above MAX_CONCURRENCY it is capped with a warning
    cache_dir: Path | None = None  # default: the user's cache folder
    use_cache: bool = True
    cover: Path | None = None  # JPEG or PNG to embed
    lexicon: Path | None = None  # a pronunciation lexicon TOML to add
    vocabulary: str | None = (
        None  # "mainland": Taiwan wording → mainland (zh-CN); None: the preset's, else "keep"
    )
    max_chars: int = 2_000_000  # longer articles are refused before any work
    chunk_chars: int = MAX_CHUNK_CHARS
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    idle_timeout: float = 20.0  # seconds without data before a stream counts as stalled
    probe_timeout: float = 3.0  # seconds `auto` waits for the online engine
    proxy: str | None = None  # an http(s) proxy for the online engine; None: the environment's
    # Integrated loudness in LUFS measured on the mono file (-16 as heard); None: as spoken.
    loudness: float | str | None = DEFAULT_TARGET
    loudness_mode: str = "lossless"  # lossless (global_gain steps) | reencode
    check_clips: bool = True  # measure every clip and refuse dead air (digest.checks)

    def __post_init__(self) -> None:
        coerce = partial(object.__setattr__, self)
        for name in ("output_dir", "cache_dir", "cover", "lexicon"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                if not isinstance(value, (str, os.PathLike)):
                    raise InputError(f"{name} must be a path, not {value!r}", setting=name)
                coerce(name, Path(value))
        if self.date is not None:
            coerce("date", parse_date(self.date))
        if isinstance(self.engine, str) and self.engine != AUTO:
            engine_class(self.engine)
        elif not isinstance(self.engine, str) and not callable(
            getattr(self.engine, "synthesize", None)
        ):
            raise InputError(f"engine {self.engine!r} has no synthesize method", setting="engine")
        for name, low in (("concurrency", 1), ("max_chars", 1), ("chunk_chars", 50)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InputError(
                    f"{name} must be a whole number of at least {low}, not {value!r}", setting=name
                )
        for name in ("idle_timeout", "probe_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise InputError(
                    f"{name} must be a positive number of seconds, not {value!r}", setting=name
                )
        if self.rate is not None:
            parse_percent(self.rate, "rate")
        if self.volume is not None:
            parse_percent(self.volume, "volume")
        if self.pitch is not None:
            parse_pitch(self.pitch)
        if self.proxy is not None and not re.match(r"^(https?|socks5h?)://[^/\s]+", self.proxy):
            raise InputError(
                f"proxy {self.proxy!r} is not a URL like http://host:port", setting="proxy"
            )
        if self.vocabulary is not None and self.vocabulary not in _vocabularies():
            raise InputError(
                f"vocabulary {self.vocabulary!r} is not one of {', '.join(_vocabularies())}",
                setting="vocabulary",
            )
        if self.loudness is not None:
            coerce("loudness", parse_target(self.loudness, setting="loudness"))
        if self.loudness_mode not in LOUDNESS_MODES:
            raise InputError(
                f"loudness_mode {self.loudness_mode!r} is not one of {', '.join(LOUDNESS_MODES)}",
                setting="loudness_mode",
            )
        if not isinstance(self.show, str) or not self.show.strip():
            raise InputError("show must be a non-empty name", setting="show")

    @property
    def engine_settings(self) -> EngineSettings:
        return EngineSettings(idle_timeout=self.idle_timeout, proxy=self.proxy)


def _vocabularies() -> tuple[str, ...]:
    from digest.normalization import VOCABULARIES  # only when asked: the normalizer is heavy

    return VOCABULARIES


@dataclass(frozen=True)
class Prepared:
    """Everything decided before synthesis: the article, the voice and the spoken script."""

    article: Article
    preset: VoicePreset
    script: Script
    source: str = ""  # digest.reading.source_identity: where the article came from


@dataclass(frozen=True)
class BuildResult:
    """What `build_episode` made: the files, the episode (audio, chapters) and how."""

    files: EpisodeFiles
    episode: Episode
    info: EpisodeInfo
    engine: str
    voice: str
    stats: SynthesisStats

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what `digest build --json` prints)."""
        return {
            "title": self.info.title,
            "date": self.info.date.isoformat(),
            "show": self.info.show,
            "engine": self.engine,
            "voice": self.voice,
            "duration": round(self.episode.duration, 3),
            "output": str(self.files.mp3),
            "files": self.files.to_dict(),
            "requests": self.stats.requests,
            "retries": self.stats.retries,
            "cached_clips": self.stats.cached,
            "loudness": self.episode.loudness.to_dict() if self.episode.loudness else None,
            "problems": [p.to_dict() for p in self.episode.problems],
            "chapters": [
                {"title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
                for c in self.episode.chapters
            ],
        }


def prepare_script(source: str | Path, options: BuildOptions = BuildOptions()) -> Prepared:
    """Everything up to synthesis for an article file ("-" reads stdin) or a web page's
    URL: read, section, normalize, chunk.  Raises InputError for unusable input."""
    text = read_source_text(source, max_chars=options.max_chars)
    return _prepare(text, str(source), options, source_identity(source, text))


def prepare_text(text: str, options: BuildOptions = BuildOptions(), name: str = "text") -> Prepared:
    """`prepare_script` for an article already in memory (plain text, Markdown or HTML)."""
    return _prepare(clean_text(text, name, options.max_chars), name, options, "text:" + text)


def _prepare(text: str, name: str, options: BuildOptions, source: str) -> Prepared:
    preset = resolve_voice(
        options.voice, rate=options.rate, pitch=options.pitch, volume=options.volume
    )
    title = strip_invisible(options.title) if options.title is not None else None
    vocabulary = options.vocabulary or preset.vocabulary or "keep"
    root = cache_root(options)
    key = None
    if root is not None:
        key = script_key(
            text,
            title=title,
            locale=preset.speaker.locale,
            vocabulary=vocabulary,
            chunk_chars=options.chunk_chars,
            lexicon_file=options.lexicon,
        )
        remembered = load_script(root, key) if key else None
        if remembered is not None:  # the same text, settings and code as a build before
            article, script = remembered
            return Prepared(article, preset, script, source)
    from digest.normalization import load_lexicon

    article = parse_article(text, title=title)
    script = build_script(
        article,
        preset.speaker.locale,
        load_lexicon(options.lexicon),
        max_chars=options.chunk_chars,
        vocabulary=vocabulary,
    )
    if not script.chapters:
        raise InputError(f"{name}: nothing to speak")
    check_chapter_count(len(script.chapters), name)
    if root is not None and key is not None:
        store_script(root, key, article, script)
    return Prepared(article, preset, script, source)


def open_cache(options: BuildOptions, warn: Warn | None = None) -> ClipCache:
    """The clip cache the options ask for (a disabled one with use_cache=False).

    `warn` hears, once, that clips could not be written to it (they are used anyway).
    """
    return ClipCache(cache_root(options), warn=warn)


def cache_root(options: BuildOptions) -> Path | None:
    """The cache folder the options ask for (clips and remembered scripts); None: no cache."""
    return (options.cache_dir or default_cache_dir()) if options.use_cache else None


def capped_concurrency(options: BuildOptions, warn: Warn) -> int:
    """The requests to keep in flight: the option, capped (with a warning) where services throttle."""
    if options.concurrency > MAX_CONCURRENCY:
        warn(
            f"concurrency {options.concurrency} is capped at {MAX_CONCURRENCY}:"
            " the service throttles busier clients"
        )
        return MAX_CONCURRENCY
    return options.concurrency


def report_throttling(stats: SynthesisStats, warn: Warn) -> None:
    if stats.throttled:
        warn(f"the service throttled {stats.throttled} request(s); concurrency was lowered")


def choose_engine(preset: VoicePreset, options: BuildOptions, warn: Warn) -> tuple[Engine, Speaker]:
    """Pick one engine for the whole episode, and the voice it speaks with."""
    return select_engine(
        options.engine,
        preset.engine,
        preset.speaker,
        options.engine_settings,
        probe_timeout=options.probe_timeout,
        warn=warn,
    )


def spread_over_requests(
    script: Script, engine: Engine, slots: int, max_chars: int, memo_root: Path | None = None
) -> Script:
    """The script as `engine` is asked to speak it.

    For a service that paces every request (`paced_requests`: edge), a short
    script's chunks are evened over the `slots` requests in flight
    (`digest.script.balance_chunks`): 10 chunks on 6 slots would be a full round
    and a round of 4 while two slots idle.  So a short article's chunks depend on
    `--concurrency`; the same script and concurrency always give the same chunks,
    so a re-run hits every cached clip.  Other engines get the script as it is.
    The plan is remembered in `memo_root` (digest.memo), so a re-run does not plan again.
    """
    if not getattr(engine, "paced_requests", False):
        return script
    return remembered(
        memo_root,
        "plan.json",
        {"chunks": [c.chunks for c in script.chapters], "slots": slots, "max_chars": max_chars},
        lambda: balance_chunks(script, slots, max_chars),
        lambda balanced: json.dumps([c.chunks for c in balanced.chapters]).encode("ascii"),
        lambda stored: _replanned(script, stored, max_chars),
    )


def _replanned(script: Script, value: bytes, max_chars: int) -> Script | None:
    try:
        return rechunked(script, json.loads(value), max_chars)
    except (ValueError, TypeError):
        return None


def clip_check(preset: VoicePreset, engine: Engine, speaker: Speaker) -> ClipCheck:
    """The per-clip speech check: the preset's speaking-rate bounds if it is for this
    engine, else the engine's defaults (none known: dead air is still checked)."""
    bounds = (preset.engine == engine.name and preset.seconds_per_char) or (
        DEFAULT_SECONDS_PER_CHAR.get(engine.name)
    )
    return ClipCheck(bounds or None, rate_factor(speaker.rate))


def report_loudness(episode: Episode, warn: Warn) -> None:
    """One warning for a missed loudness target, one per problem the checks found."""
    if episode.loudness and episode.loudness.shortfall:
        warn(episode.loudness.shortfall + "; the reencode loudness mode reaches the target")
    for problem in episode.problems:
        warn(problem.describe())


def describe(article: Article, limit: int = 300) -> str:
    """A one-paragraph description for the tags: the article's opening paragraph."""
    for section in article.sections:
        for paragraph in section.paragraphs:
            return paragraph if len(paragraph) <= limit else paragraph[: limit - 1] + "…"
    return article.title


def load_cover(path: Path) -> tuple[bytes, str]:
    data = read_bounded(path, MAX_COVER_BYTES, f"cover {path}")
    if data.startswith(b"\xff\xd8\xff"):
        return data, "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data, "image/png"
    raise InputError(f"cover {path}: not a JPEG or PNG image")


def run_interruptible(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, except that Ctrl-C or SIGTERM cancels `work` and lets it clean up first.

    Python 3.11's asyncio.run does this itself for Ctrl-C; on 3.10 a
    KeyboardInterrupt lands in whichever task happens to run and the rest are
    torn down noisily.  Once the work has unwound, KeyboardInterrupt (Ctrl-C)
    or `digest.interrupts.Terminated` (SIGTERM) is raised.  A repeated signal
    during the cleanup is ignored: cancelling twice would cut the cleanup short.
    """
    import asyncio  # (here: a build whose clips are all cached never starts a loop)

    loop = asyncio.new_event_loop()
    task = loop.create_task(work)
    received: list[int] = []

    def interrupt(number: int) -> None:
        if not received:
            received.append(number)
            task.cancel()

    previous: dict[int, Any] = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[number] = signal.getsignal(number)
            loop.add_signal_handler(number, interrupt, number)
        except (NotImplementedError, RuntimeError, ValueError):
            previous.pop(number, None)  # not the main thread, or no signal support
    try:
        result = loop.run_until_complete(task)
    except asyncio.CancelledError:
        if received:
            raise interruption_for(received[0]) from None
        raise
    finally:
        try:
            _cancel_remaining(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            for number, handler in previous.items():
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(number)
                    if handler is not None:  # None: set outside Python, cannot be put back
                        signal.signal(number, handler)
            loop.close()
    if received:  # the work finished before the signal reached it: still stop as asked
        raise interruption_for(received[0])
    return result


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and await whatever tasks the work left behind (as asyncio.run does)."""
    import asyncio

    remaining = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for leftover in remaining:
        leftover.cancel()
    if remaining:
        loop.run_until_complete(asyncio.gather(*remaining, return_exceptions=True))


def build_episode(
    source: str | Path,
    options: BuildOptions = BuildOptions(),
    *,
    progress: Progress | None = None,
    warn: Warn = lambda message: None,
) -> BuildResult:
    """Build an episode from an article file (or "-" for stdin) into `options.output_dir`.

    Returns a BuildResult (files written, episode, engine, voice, request counts).
    Raises InputError for bad input (before any synthesis or writing),
    SynthesisError when speech cannot be had, OutputError when files cannot be
    written.  `progress(done, total)` is called as chunks finish; `warn(message)`
    receives one-line warnings.
    """
    return _build(prepare_script(source, options), options, progress, warn)


def build_episode_from_text(
    text: str,
    options: BuildOptions = BuildOptions(),
    *,
    progress: Progress | None = None,
    warn: Warn = lambda message: None,
) -> BuildResult:
    """`build_episode` for an article held in memory: plain text, Markdown or HTML."""
    return _build(prepare_text(text, options), options, progress, warn)


def _build(
    prepared: Prepared, options: BuildOptions, progress: Progress | None, warn: Warn
) -> BuildResult:
    settings = load_settings()
    for warning in prepared.script.warnings:
        warn(warning)
    cover = load_cover(options.cover) if options.cover else None
    ensure_folder(options.output_dir, "output folder")
    cache = open_cache(options, warn)
    concurrency = capped_concurrency(options, warn)
    engine, speaker = choose_engine(prepared.preset, options, warn)
    script = spread_over_requests(
        prepared.script, engine, concurrency, options.chunk_chars, cache.root
    )
    check = clip_check(prepared.preset, engine, speaker) if options.check_clips else None
    stats = SynthesisStats()
    clips = cached_clips(
        script, engine, speaker, cache, check=check, progress=progress, stats=stats
    )
    if clips is None:  # something to speak (or to measure): the event loop's work
        from digest.synthesis import synthesize_script

        try:
            clips = run_interruptible(
                synthesize_script(
                    script,
                    engine,
                    speaker,
                    cache,
                    concurrency=concurrency,
                    retry=options.retry,
                    progress=progress,
                    stats=stats,
                    check=check,
                )
            )
        finally:
            close_engine(engine)  # e.g. the offline engine's espeak workers
    report_throttling(stats, warn)
    episode = set_loudness(assemble(script, clips), options.loudness, options.loudness_mode)
    report_loudness(episode, warn)
    info = EpisodeInfo(
        title=prepared.article.title,
        show=options.show,
        date=options.date or dt.date.today(),
        description=describe(prepared.article),
        engine=engine.name,
        voice=speaker.voice,
        cover=cover[0] if cover else None,
        cover_mime=cover[1] if cover else "image/jpeg",
        source_id=source_id(prepared.source),
    )
    files = write_episode(episode, info, options.output_dir, cache.root)
    if cache.root is not None and settings.cache_max_size is not None:
        from digest.cache_maintenance import prune_to_cap

        pruned = prune_to_cap(cache.root, settings.cache_max_size)
        if pruned is not None:
            cap = format_size(settings.cache_max_size)
            warn(f"the clip cache was over its {cap} limit: {pruned.describe()}")
    return BuildResult(files, episode, info, engine.name, speaker.voice, stats)
