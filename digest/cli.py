"""The `digest` command: parses options, calls digest.pipeline, reports.

Exit codes: 0 success, 1 synthesis failure, 2 bad input or usage, 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer

from digest.errors import DigestError, EngineError, InputError, SynthesisError
from digest.pipeline import DEFAULT_SHOW, BuildOptions, build_episode, prepare_script
from digest.synthesis import Progress, RetryPolicy

app = typer.Typer(
    help="Turn Chinese articles into chaptered MP3 podcast episodes.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int) -> None:
    typer.echo(f"digest: error: {message}", err=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    typer.echo(f"digest: warning: {message}", err=True)


def exit_code(error: DigestError) -> int:
    """1 when speech could not be had, 2 for bad input, usage or an unusable output folder."""
    return 1 if isinstance(error, (SynthesisError, EngineError)) else 2


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's errors into one line on stderr and an exit code."""
    try:
        yield
    except DigestError as exc:
        fail(str(exc), exit_code(exc))
    except KeyboardInterrupt:
        fail("interrupted; finished clips are cached, run the same command to resume", 130)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn("synthesizing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("synthesis", total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


def parse_date(value: Optional[str]) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--date {value!r} is not a date in YYYY-MM-DD form") from None


ArticleArg = typer.Argument(..., help="Article file (text, Markdown or HTML), or - for stdin.")
VoiceOpt = typer.Option(None, "--voice", "-v", help="Voice preset name or edge-tts voice name.")


@app.command()
def build(
    article: str = ArticleArg,
    output_dir: Path = typer.Option(
        Path("output"), "--output-dir", "-o", help="Folder for the episode files."
    ),
    voice: Optional[str] = VoiceOpt,
    engine: str = typer.Option("auto", help="auto (edge-tts, else offline), edge, or offline."),
    rate: Optional[str] = typer.Option(None, help="Speaking rate, e.g. +10% or -5%."),
    pitch: Optional[str] = typer.Option(None, help="Pitch, e.g. +5Hz."),
    volume: Optional[str] = typer.Option(None, help="Volume, e.g. -10%."),
    title: Optional[str] = typer.Option(None, help="Episode title (default: the article's)."),
    show: str = typer.Option(DEFAULT_SHOW, help="Show name for the artist and album tags."),
    date: Optional[str] = typer.Option(None, help="Episode date YYYY-MM-DD (default: today)."),
    concurrency: int = typer.Option(6, help="Requests in flight at once (at most 16)."),
    cache_dir: Optional[Path] = typer.Option(
        None, help="Clip cache folder (default: the user cache folder)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write cached clips."),
    cover: Optional[Path] = typer.Option(None, help="Cover image (JPEG or PNG) to embed."),
    lexicon: Optional[Path] = typer.Option(None, help="Pronunciation lexicon TOML to add."),
    max_chars: int = typer.Option(
        2_000_000, help="Refuse articles longer than this many characters."
    ),
    retries: int = typer.Option(5, min=1, help="Attempts per chunk before the build fails."),
    timeout: float = typer.Option(
        60.0, min=1, help="Seconds a request may take, plus 0.25 s per character."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary instead of the path."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Build a chaptered MP3 episode from an article."""
    with user_errors():
        options = BuildOptions(
            voice=voice,
            engine=engine,
            rate=rate,
            pitch=pitch,
            volume=volume,
            title=title,
            show=show,
            date=parse_date(date),
            output_dir=output_dir,
            concurrency=concurrency,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            cover=cover,
            lexicon=lexicon,
            max_chars=max_chars,
            retry=RetryPolicy(attempts=retries, timeout=timeout),
        )
        with progress_bar(not quiet and sys.stderr.isatty()) as progress:
            result = build_episode(article, options, progress=progress, warn=warn)
    if as_json:
        summary = {
            "output": str(result.files.mp3),
            "chapters_file": str(result.files.chapters),
            "subtitles_file": str(result.files.subtitles),
            "duration": round(result.episode.duration, 3),
            "engine": result.engine,
            "voice": result.voice,
            "requests": result.stats.requests,
            "cached_clips": result.stats.cached,
            "chapters": [
                {"title": c.title, "start": round(c.start, 3), "end": round(c.end, 3)}
                for c in result.episode.chapters
            ],
        }
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        typer.echo(str(result.files.mp3))
        if not quiet:
            minutes, seconds = divmod(round(result.episode.duration), 60)
            typer.echo(
                f"digest: {len(result.episode.chapters)} chapters, {minutes}:{seconds:02d}, "
                f"{result.engine} voice {result.voice} ({result.stats.requests} requests, "
                f"{result.stats.cached} clips from the cache)",
                err=True,
            )


@app.command()
def script(
    article: str = ArticleArg,
    voice: Optional[str] = VoiceOpt,
    title: Optional[str] = typer.Option(None, help="Episode title (default: the article's)."),
    lexicon: Optional[Path] = typer.Option(None, help="Pronunciation lexicon TOML to add."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show what will be spoken, chapter by chapter, without synthesizing."""
    with user_errors():
        prepared = prepare_script(article, BuildOptions(voice=voice, title=title, lexicon=lexicon))
    chapters = prepared.script.chapters
    if as_json:
        document = {
            "title": prepared.script.title,
            "voice": prepared.preset.settings.voice,
            "locale": prepared.script.locale,
            "chapters": [{"title": c.title, "chunks": list(c.chunks)} for c in chapters],
        }
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    for number, chapter in enumerate(chapters, 1):
        typer.echo(f"## {number}. {chapter.title}")
        for chunk in chapter.chunks:
            typer.echo(chunk)
        typer.echo("")


@app.command()
def voices(
    locale: str = typer.Option("zh", help="Show voices whose locale starts with this."),
) -> None:
    """List voice presets and the Chinese edge-tts voices."""
    from digest.voices import EDGE_CHINESE_VOICES, list_presets, locale_of

    with user_errors():
        presets = list_presets()
    typer.echo("Presets (use with --voice):")
    for preset in presets:
        if preset.settings.locale.startswith(locale) or preset.engine == "offline":
            s = preset.settings
            typer.echo(f"  {preset.name:<12} {preset.engine:<8} {s.voice:<30} {preset.description}")
    typer.echo("edge-tts voices:")
    for name, gender in EDGE_CHINESE_VOICES.items():
        if locale_of(name).startswith(locale):
            typer.echo(f"  {name:<30} {gender:<7} {locale_of(name)}")


@app.command()
def normalize(
    voice: Optional[str] = VoiceOpt,
    locale: Optional[str] = typer.Option(None, help="zh-CN (Simplified) or zh-TW (Traditional)."),
    lexicon: Optional[Path] = typer.Option(None, help="Pronunciation lexicon TOML to add."),
) -> None:
    """Filter stdin to stdout, one line in, one line out, normalized for speech."""
    from digest.normalize import load_lexicon
    from digest.normalize import normalize as normalize_text
    from digest.voices import resolve_voice

    with user_errors():
        target = locale or resolve_voice(voice).settings.locale
        words = load_lexicon(lexicon)
    for line in sys.stdin:
        ending = "\n" if line.endswith("\n") else ""
        sys.stdout.write(normalize_text(line.rstrip("\n"), target, words) + ending)
        sys.stdout.flush()


if __name__ == "__main__":
    app()
