"""The whole job as plain functions: article file in, episode files out.

    read_text -> parse_article -> build_script -> synthesize_script
              -> assemble -> write_episode

The CLI is a thin layer over `build_episode` and `prepare_script`; tests and
other programs call these directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from digest.article import Article, parse_article
from digest.cache import ClipCache, default_cache_dir
from digest.engines import ENGINE_CHOICES, Engine, VoiceSettings, edge_reachable, get_engine
from digest.episode import Episode, assemble
from digest.errors import InputError
from digest.files import ensure_folder
from digest.normalize import load_lexicon
from digest.outputs import EpisodeFiles, write_episode
from digest.reading import read_text
from digest.script import MAX_CHUNK_CHARS, Script, build_script
from digest.synthesis import (
    MAX_CONCURRENCY,
    Progress,
    RetryPolicy,
    SynthesisStats,
    synthesize_script,
)
from digest.tags import EpisodeInfo
from digest.voices import VoicePreset, resolve_voice

DEFAULT_SHOW = os.environ.get("DIGEST_SHOW", "digest 每日简报")
OFFLINE_VOICE = "cmn"
Warn = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class BuildOptions:
    voice: str | None = None  # preset name or edge-tts voice name
    engine: str = "auto"  # auto | edge | offline
    rate: str | None = None
    pitch: str | None = None
    volume: str | None = None
    title: str | None = None
    show: str = DEFAULT_SHOW
    date: dt.date | None = None  # default: today
    output_dir: Path = Path("output")
    concurrency: int = 6
    cache_dir: Path | None = None  # default: the user's cache folder
    use_cache: bool = True
    cover: Path | None = None
    lexicon: Path | None = None
    max_chars: int = 2_000_000
    chunk_chars: int = MAX_CHUNK_CHARS
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    idle_timeout: float = 20.0  # seconds without data before a stream counts as stalled
    probe_timeout: float = 3.0  # seconds `auto` waits for the edge server


@dataclass(frozen=True)
class Prepared:
    article: Article
    preset: VoicePreset
    script: Script


@dataclass(frozen=True)
class BuildResult:
    files: EpisodeFiles
    episode: Episode
    engine: str
    voice: str
    stats: SynthesisStats


def prepare_script(source: str | Path, options: BuildOptions) -> Prepared:
    """Everything up to synthesis: read, section, normalize, chunk."""
    preset = resolve_voice(
        options.voice, rate=options.rate, pitch=options.pitch, volume=options.volume
    )
    article = parse_article(read_text(source, max_chars=options.max_chars), title=options.title)
    lexicon = load_lexicon(options.lexicon)
    script = build_script(article, preset.settings.locale, lexicon, max_chars=options.chunk_chars)
    if not script.chapters:
        raise InputError(f"{source}: nothing to speak")
    return Prepared(article, preset, script)


def choose_engine(
    mode: str, preset: VoicePreset, options: BuildOptions, warn: Warn
) -> tuple[Engine, VoiceSettings]:
    """Pick one engine for the whole episode, and the voice it speaks with."""
    if mode not in ENGINE_CHOICES:
        raise InputError(f"unknown engine {mode!r}: choose {', '.join(ENGINE_CHOICES)}")
    if preset.engine == "offline":
        if mode == "edge":
            raise InputError(
                f"voice {preset.name!r} is an offline voice; it cannot use --engine edge"
            )
        mode = "offline"
    if mode == "auto":
        if edge_reachable(options.probe_timeout):
            mode = "edge"
        else:
            warn(
                "the edge-tts service is unreachable; using the offline voice (espeak-ng) for this episode"
            )
            mode = "offline"
    if mode == "edge":
        return get_engine("edge", idle_timeout=options.idle_timeout), preset.settings
    offline_voice = (
        preset.settings
        if preset.engine == "offline"
        else replace(preset.settings, voice=OFFLINE_VOICE)
    )
    return get_engine("offline"), offline_voice


def describe(article: Article, limit: int = 300) -> str:
    """A one-paragraph description for the tags: the article's opening paragraph."""
    for section in article.sections:
        for paragraph in section.paragraphs:
            return paragraph if len(paragraph) <= limit else paragraph[: limit - 1] + "…"
    return article.title


def load_cover(path: Path) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cover {path}: {exc.strerror}") from None
    if data.startswith(b"\xff\xd8\xff"):
        return data, "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data, "image/png"
    raise InputError(f"cover {path}: not a JPEG or PNG image")


def run_interruptible(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, except that Ctrl-C cancels `work` and lets it clean up first.

    Python 3.11's asyncio.run does this itself; on 3.10 a KeyboardInterrupt
    lands in whichever task happens to run and the rest are torn down noisily.
    The interrupt is raised again once the work has unwound.
    """
    loop = asyncio.new_event_loop()
    task = loop.create_task(work)
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):
        pass  # not the main thread, or no signal support: the default handling applies
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def build_episode(
    source: str | Path,
    options: BuildOptions = BuildOptions(),
    *,
    progress: Progress | None = None,
    warn: Warn = lambda message: None,
) -> BuildResult:
    prepared = prepare_script(source, options)
    cover = load_cover(options.cover) if options.cover else None
    ensure_folder(options.output_dir, "output folder")
    cache = ClipCache((options.cache_dir or default_cache_dir()) if options.use_cache else None)
    concurrency = options.concurrency
    if concurrency > MAX_CONCURRENCY:
        warn(
            f"--concurrency {concurrency} is capped at {MAX_CONCURRENCY}: the service throttles busier clients"
        )
        concurrency = MAX_CONCURRENCY
    if concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    engine, voice = choose_engine(options.engine, prepared.preset, options, warn)
    stats = SynthesisStats()
    clips = run_interruptible(
        synthesize_script(
            prepared.script,
            engine,
            voice,
            cache,
            concurrency=concurrency,
            retry=options.retry,
            progress=progress,
            stats=stats,
        )
    )
    if stats.throttled:
        warn(f"the service throttled {stats.throttled} request(s); concurrency was lowered")
    episode = assemble(prepared.script, clips)
    info = EpisodeInfo(
        title=prepared.article.title,
        show=options.show,
        date=options.date or dt.date.today(),
        description=describe(prepared.article),
        engine=engine.name,
        voice=voice.voice,
        cover=cover[0] if cover else None,
        cover_mime=cover[1] if cover else "image/jpeg",
    )
    files = write_episode(episode, info, options.output_dir)
    return BuildResult(files, episode, engine.name, voice.voice, stats)
