"""The `digest` command: parses options, calls the library, reports.

Everything here is a thin layer over `digest` (the library): each command
builds its options, calls one library function and prints the result.  This
is the only module that knows exit codes or flag names:
0 success, 1 speech could not be had, 2 bad input or usage, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM).

The library is imported inside each command, not here: `digest --help` must
not pay for OpenCC, the rule tables, pypinyin or the edge-tts client
(tests/test_startup.py checks this).
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

import typer
from typer.main import get_command_name

try:  # typer 0.2x vendors click; older versions use click itself
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, UsageError

from digest import __version__
from digest.errors import DigestError, EngineError, InputError, SynthesisError
from digest.interrupts import Terminated, ignore_further_interrupts, terminate_as_interrupt
from digest.plain_options import PlainGroup, PlainOptions
from digest.show import DEFAULT_SHOW_NAME

if TYPE_CHECKING:
    from digest.clips import Progress

app = typer.Typer(
    help="Turn Chinese articles into chaptered MP3 podcast episodes.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=PlainGroup,
)

# What to tell the user when a setting is the way past an error.
_HINTS = {"max_chars": "raise the limit with --max-chars"}


def _option_names() -> set[str]:
    from dataclasses import fields

    from digest.pipeline import BuildOptions

    return {f.name for f in fields(BuildOptions)}


def exit_code(error: DigestError) -> int:
    """1 when speech could not be had, 2 for bad input, usage or an unusable output folder."""
    return 1 if isinstance(error, (SynthesisError, EngineError)) else 2


def with_flag_name(message: str, setting: str | None = None) -> str:
    """The library says "concurrency 0 ..."; the user typed --concurrency: say that.

    Only the setting the message is about (when known) is renamed.
    """
    word = message.split(" ", 1)[0]
    if setting in (None, word) and word in _option_names():
        return "--" + word.replace("_", "-") + message[len(word) :]
    return message


def message_for(error: DigestError) -> str:
    """The library's one-line message in the CLI's terms, with a hint naming a flag that helps."""
    setting = getattr(error, "setting", None)
    message = with_flag_name(str(error), setting) if setting else str(error)
    hint = _HINTS.get(setting or "")
    if hint:
        message += f" ({hint})"
    if isinstance(error, SynthesisError) and _looks_offline(message):
        message += "; without a network, --engine offline uses the local voice"
    return message


def _looks_offline(message: str) -> bool:
    return any(
        s in message for s in ("connection failed", "could not connect", "unreachable", "stalled")
    )


def fail(message: str, code: int) -> None:
    typer.echo(f"digest: error: {message}", err=True)
    raise typer.Exit(code)


class Reporter:
    """Warnings on stderr as one `digest: warning:` line each; none with --quiet."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            typer.echo(f"digest: warning: {with_flag_name(message)}", err=True)


@contextmanager
def user_errors(interrupted: str = "interrupted") -> Iterator[None]:
    """Turn the library's errors into one line on stderr and an exit code."""
    try:
        with terminate_as_interrupt():
            yield
    except DigestError as exc:
        fail(message_for(exc), exit_code(exc))
    except KeyboardInterrupt as exc:
        ignore_further_interrupts()  # a second Ctrl-C must not break the exit into a traceback
        if isinstance(exc, Terminated):  # SIGTERM: the same cleanup, its own word and code
            fail("terminated" + interrupted.removeprefix("interrupted"), 143)
        fail(interrupted, 130)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
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


def flag(*names: str, help: str) -> bool:
    """A boolean flag shown without a type in --help."""
    return typer.Option(False, *names, help=help, metavar="")


ArticleArg = typer.Argument(
    ...,
    metavar="ARTICLE",
    help="Article file (text, Markdown or HTML), an http(s) URL, or - for stdin.",
)
VoiceOpt = typer.Option(None, "--voice", "-v", help="Voice preset name or edge-tts voice name.")
LexiconOpt = typer.Option(None, help="Pronunciation lexicon TOML to add.")
VocabularyOpt = typer.Option(
    None,
    metavar="mainland|keep",
    help="mainland: Taiwan wording becomes mainland wording for zh-CN voices "
    "(人工智慧 → 人工智能); keep: as written (default, or the voice preset's).",
)
# `digest normalize` reads all of stdin to detect its encoding; a filter's input is text,
# so anything past this is refused rather than read without bound.
MAX_NORMALIZE_BYTES = 16_000_000


def text_argument(value: Optional[str], flag_name: str) -> Optional[str]:
    """An option's text as typed; argv that is not valid UTF-8 arrives surrogate-escaped."""
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            fail(f"{flag_name} is not valid UTF-8 text", 2)
    return value


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"digest {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False,
        "--version",
        callback=version_callback,
        is_eager=True,
        metavar="",
        help="Print the version and exit.",
    ),
) -> None:
    """Turn Chinese articles into chaptered MP3 podcast episodes."""


@app.command(cls=PlainOptions)
def build(
    article: str = ArticleArg,
    output_dir: Path = typer.Option(
        Path("output"), "--output-dir", "-o", help="Folder for the episode files."
    ),
    voice: Optional[str] = VoiceOpt,
    engine: str = typer.Option(
        "auto", help="auto (edge-tts, else offline), or an engine: see `digest engines`."
    ),
    rate: Optional[str] = typer.Option(None, help="Speaking rate, e.g. +10% or -5%."),
    pitch: Optional[str] = typer.Option(None, help="Pitch, e.g. +5Hz."),
    volume: Optional[str] = typer.Option(None, help="Volume, e.g. -10%."),
    title: Optional[str] = typer.Option(None, help="Episode title (default: the article's)."),
    show: str = typer.Option(
        DEFAULT_SHOW_NAME, envvar="DIGEST_SHOW", help="Show name for the artist and album tags."
    ),
    date: Optional[str] = typer.Option(None, help="Episode date YYYY-MM-DD (default: today)."),
    concurrency: int = typer.Option(6, help="Requests in flight at once (at most 16)."),
    cache_dir: Optional[Path] = typer.Option(
        None, help="Clip cache folder (default: the user cache folder)."
    ),
    no_cache: bool = flag("--no-cache", help="Neither read nor write cached clips."),
    cover: Optional[Path] = typer.Option(None, help="Cover image (JPEG or PNG) to embed."),
    lexicon: Optional[Path] = LexiconOpt,
    vocabulary: Optional[str] = VocabularyOpt,
    max_chars: int = typer.Option(
        2_000_000, help="Refuse articles longer than this many characters."
    ),
    retries: int = typer.Option(5, min=1, help="Attempts per chunk before the build fails."),
    timeout: float = typer.Option(
        60.0, min=1, help="Seconds a request may take, plus 0.25 s per character."
    ),
    proxy: Optional[str] = typer.Option(
        None,
        help="HTTP proxy for the online voices, e.g. http://host:3128 (default: the environment's).",
    ),
    loudness: Optional[str] = typer.Option(
        None,
        show_default=False,
        help="Integrated loudness in LUFS measured on the mono file, true peak <= -1 dBTP "
        "[default: -19, which is -16 as heard on two ears; or the --publish show's]; "
        "off leaves the level as spoken.",
    ),
    loudness_mode: str = typer.Option(
        "lossless",
        help="lossless (1.5 dB global_gain steps, no re-encoding) or reencode "
        "(decode once, gain and a true-peak limiter, encode once).",
    ),
    as_json: bool = flag("--json", help="Print a JSON summary instead of the path."),
    quiet: bool = flag("--quiet", "-q", help="No progress bar, no warnings."),
    publish: Optional[Path] = typer.Option(
        None, "--publish", metavar="SHOWDIR", help="Also publish the episode into this show folder."
    ),
) -> None:
    """Build a chaptered MP3 episode from an article."""
    # The modules imported here live as long as the process: collecting while they are
    # created finds nothing, and once frozen they are never looked at again.
    gc.disable()
    from digest.clips import RetryPolicy
    from digest.loudness import DEFAULT_TARGET
    from digest.pipeline import BuildOptions, build_episode

    gc.freeze()
    gc.enable()
    cached = "finished clips are cached, run the same command to resume"
    text_argument(title, "--title")
    text_argument(show, "--show")
    with user_errors(f"interrupted; {cached}" if not no_cache else "interrupted"):
        if publish is not None:
            from digest.publish import open_show

            show_settings = open_show(publish)  # a bad show folder fails before synthesis
            if show == DEFAULT_SHOW_NAME:
                show = show_settings.name
            if loudness is None:
                loudness = "off" if show_settings.loudness is None else str(show_settings.loudness)
        options = BuildOptions(
            voice=voice,
            engine=engine,
            rate=rate,
            pitch=pitch,
            volume=volume,
            title=title,
            show=show,
            date=date,
            output_dir=output_dir,
            concurrency=concurrency,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            cover=cover,
            lexicon=lexicon,
            vocabulary=vocabulary,
            max_chars=max_chars,
            retry=RetryPolicy(attempts=retries, timeout=timeout),
            proxy=proxy,
            loudness=DEFAULT_TARGET if loudness is None else loudness,
            loudness_mode=loudness_mode,
        )
        with progress_bar(not quiet and sys.stderr.isatty()) as progress:
            result = build_episode(article, options, progress=progress, warn=Reporter(quiet))
        published = None
        if publish is not None:
            from digest.publish import publish_episode

            published = publish_episode(result.files.mp3, publish).mp3
    if as_json:
        summary = result.to_dict()
        if published is not None:
            summary["published"] = str(published)
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    typer.echo(str(published or result.files.mp3))
    if not quiet:
        minutes, seconds = divmod(round(result.episode.duration), 60)
        typer.echo(
            f"digest: {len(result.episode.chapters)} chapters, {minutes}:{seconds:02d}, "
            f"{result.engine} voice {result.voice} ({result.stats.requests} requests, "
            f"{result.stats.cached} clips from the cache)" + level(result),
            err=True,
        )


def level(result) -> str:
    """`, -19.2 LUFS, true peak -2.1 dBTP` for the summary line, when measured."""
    figures = result.episode.loudness.after if result.episode.loudness else None
    if figures is None or figures.integrated == float("-inf"):
        return ""
    return f", {figures.integrated:.1f} LUFS, true peak {figures.true_peak:.1f} dBTP"


@app.command()
def script(
    article: str = ArticleArg,
    voice: Optional[str] = VoiceOpt,
    title: Optional[str] = typer.Option(None, help="Episode title (default: the article's)."),
    lexicon: Optional[Path] = LexiconOpt,
    vocabulary: Optional[str] = VocabularyOpt,
    as_json: bool = flag("--json", help="Print JSON."),
) -> None:
    """Show what will be spoken, chapter by chapter, without synthesizing."""
    text_argument(title, "--title")
    from digest.pipeline import BuildOptions, prepare_script

    with user_errors():
        options = BuildOptions(voice=voice, title=title, lexicon=lexicon, vocabulary=vocabulary)
        prepared = prepare_script(article, options)
    chapters = prepared.script.chapters
    if as_json:
        document = {
            "title": prepared.script.title,
            "voice": prepared.preset.speaker.voice,
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
def inspect(
    episode: Path = typer.Argument(..., help="An MP3 episode (ours or another tool's)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check an episode before publishing: duration, format, loudness, chapters, tags, problems."""
    from digest.inspection import inspect_episode

    with user_errors():
        report = inspect_episode(episode)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(report.to_text())


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
        if preset.speaker.locale.startswith(locale) or preset.engine == "offline":
            s = preset.speaker
            typer.echo(f"  {preset.name:<12} {preset.engine:<8} {s.voice:<30} {preset.description}")
    typer.echo("edge-tts voices:")
    for name, gender in EDGE_CHINESE_VOICES.items():
        if locale_of(name).startswith(locale):
            typer.echo(f"  {name:<30} {gender:<7} {locale_of(name)}")


@app.command()
def engines(
    check: bool = flag("--check", help="Also say whether each engine can speak right now."),
) -> None:
    """List the speech engines (built-in and plugins) that --engine accepts."""
    from digest.engines import EngineSettings, engine_class, engine_names

    with user_errors():
        for name in engine_names():
            cls = engine_class(name)
            line = f"  {name:<10} {(cls.__doc__ or '').strip().splitlines()[0]}"
            if check:
                line += (
                    "  [available]" if cls(EngineSettings()).available(3.0) else "  [unavailable]"
                )
            typer.echo(line)


@app.command(cls=PlainOptions)
def normalize(
    voice: Optional[str] = VoiceOpt,
    locale: Optional[str] = typer.Option(
        None, help="zh-CN (Simplified), zh-TW or zh-HK (Traditional); default: the voice's."
    ),
    lexicon: Optional[Path] = LexiconOpt,
    vocabulary: Optional[str] = VocabularyOpt,
    explain: bool = flag(
        "--explain", help="For each line, list the rewrites: rule, before, after."
    ),
) -> None:
    """Filter stdin to stdout, one line in, one line out, normalized for speech."""
    from digest.normalization import VOCABULARIES, is_mainland, load_lexicon
    from digest.normalization import explain as explain_text
    from digest.normalization import normalize as normalize_text
    from digest.reading import decode_bytes
    from digest.voices import check_locale, resolve_voice

    with user_errors():
        preset = None if locale is not None else resolve_voice(voice)
        target = check_locale(locale) if preset is None else preset.speaker.locale
        vocabulary = vocabulary or (preset.vocabulary if preset else None) or "keep"
        if vocabulary not in VOCABULARIES:
            fail(f"--vocabulary {vocabulary!r} is not one of {', '.join(VOCABULARIES)}", 2)
        words = load_lexicon(lexicon)
        data = _read_stdin_bytes(MAX_NORMALIZE_BYTES)
        text = decode_bytes(data, "stdin") if data else ""
    from digest.normalization.contract import leftover_warning

    report = Reporter()
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = "\n" if body != line else ""
        spoken = normalize_text(body, target, words, vocabulary)
        warning = leftover_warning(spoken, body) if is_mainland(target) else None
        if warning:
            report(warning)
        if explain:
            sys.stdout.write(f"> {body}\n")
            for rewrite in explain_text(body, target, words, vocabulary):
                before = json.dumps(rewrite.before, ensure_ascii=False)
                after = json.dumps(rewrite.after, ensure_ascii=False)
                sys.stdout.write(f"{rewrite.rule}: {before} → {after}\n")
            sys.stdout.write(f"= {spoken}\n")
        else:
            sys.stdout.write(spoken + ending)
    sys.stdout.flush()


def _read_stdin_bytes(limit: int) -> bytes:
    """All of stdin, refusing more than `limit` bytes (one line, exit 2)."""
    from digest.errors import InputError

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream (tests, embedding): already decoded
        return sys.stdin.read(limit + 1).encode("utf-8", "surrogatepass")
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"stdin is larger than {limit:,} bytes; normalize a smaller text")
    return data


ShowDirArg = typer.Argument(..., help="The show folder (with its show.toml).")


class Notes(Reporter):
    """Notes (a story skipped as already published) on stderr; none with --quiet."""

    def __call__(self, message: str) -> None:
        if not self.quiet:
            typer.echo(f"digest: note: {message}", err=True)


@app.command()
def brief(
    sources: Optional[list[str]] = typer.Argument(
        None,
        metavar="SOURCE",
        help="Article files, folders, URLs of pages or RSS/Atom feeds, or - for stdin.",
    ),
    from_list: Optional[Path] = typer.Option(
        None, "--from", help="A file listing sources, one a line (# comments)."
    ),
    config: Optional[Path] = typer.Option(
        None, "--config", help="Show file (default: ./show.toml when present)."
    ),
    output_dir: Optional[Path] = typer.Option(
        None, "--output-dir", "-o", help="Folder for the episode files (default: output)."
    ),
    publish: Optional[Path] = typer.Option(
        None, "--publish", help="Show folder: read its show.toml, write into its episodes/."
    ),
    date: Optional[str] = typer.Option(
        None, help="Episode date YYYY-MM-DD (default: today in the show's time zone)."
    ),
    voices: Optional[str] = typer.Option(
        None, help="Presets alternating story by story, e.g. xiaoxiao,yunyang."
    ),
    max_minutes: Optional[float] = typer.Option(
        None, "--max-minutes", min=0.1, help="Warn when the estimated length is longer."
    ),
    fit: bool = flag("--fit", help="Drop sections from the longest stories to fit --max-minutes."),
    since: str = typer.Option("24h", help="Feed items published within this long (24h, 2d)."),
    strict: bool = flag("--strict", help="Any source that fails fails the run."),
    show: Optional[str] = typer.Option(
        None, help="Show name (default: the show file's, else $DIGEST_SHOW)."
    ),
    engine: str = typer.Option(
        "auto", help="auto (edge-tts, else offline), or an engine: see `digest engines`."
    ),
    bed: Optional[Path] = typer.Option(None, help="Music or a sting mixed under the intro."),
    concurrency: int = typer.Option(6, help="Requests in flight at once (at most 16)."),
    cache_dir: Optional[Path] = typer.Option(None, help="Clip cache folder."),
    no_cache: bool = flag("--no-cache", help="Neither read nor write cached clips."),
    lexicon: Optional[Path] = LexiconOpt,
    as_json: bool = flag("--json", help="Print a JSON summary instead of the path."),
    quiet: bool = flag("--quiet", "-q", help="No progress bar, no warnings."),
) -> None:
    """Build one briefing episode from many stories: intro, headlines, stories, outro."""
    from digest.briefing import BriefOptions, brief
    from digest.pipeline import BuildOptions
    from digest.show import find_show_file, resolve_show
    from digest.sources import parse_since, read_source_list

    warn = Reporter(quiet)
    with user_errors():
        if publish is not None and output_dir is not None:
            raise InputError("--publish and --output-dir both say where the episode goes; use one")
        if fit and max_minutes is None:
            raise InputError("--fit needs --max-minutes")
        # $DIGEST_SHOW names the show only when no show file does.
        if not show and find_show_file(config, publish) is None:
            show = os.environ.get("DIGEST_SHOW")
        show_settings = resolve_show(config, publish, show)
        listed = list(sources or [])
        if from_list is not None:
            listed += read_source_list(from_list)
        if not listed:
            raise InputError("no sources: name files, folders, URLs or feeds, or use --from LIST")
        options = BriefOptions(
            build=BuildOptions(
                engine=engine,
                date=date,
                output_dir=output_dir or Path("output"),
                concurrency=concurrency,
                cache_dir=cache_dir,
                use_cache=not no_cache,
                lexicon=lexicon,
            ),
            voices=tuple(v.strip() for v in voices.split(",") if v.strip()) if voices else None,
            max_minutes=max_minutes,
            fit=fit,
            intro_bed=bed,
            publish_dir=publish,
        )
        with progress_bar(not quiet and sys.stderr.isatty()) as progress:
            result = brief(
                listed,
                show_settings,
                options,
                since=parse_since(since),
                strict=strict,
                progress=progress,
                warn=warn,
                note=Notes(quiet),
            )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(str(result.files.mp3))
    if not quiet:
        minutes, seconds = divmod(round(result.episode.duration), 60)
        typer.echo(
            f"digest: {len(result.plan.stories)} stories, {len(result.episode.chapters)} chapters, "
            f"{minutes}:{seconds:02d} (estimated {result.plan.estimate / 60:.1f} min), "
            f"{result.engine} engine",
            err=True,
        )
        for dropped in result.plan.dropped:
            typer.echo(f"digest: dropped to fit: {dropped}", err=True)


@app.command()
def init(
    show_dir: Path = ShowDirArg,
    name: Optional[str] = typer.Option(None, help="The show's name."),
) -> None:
    """Create a show folder with a commented show.toml."""
    from digest.show import init_show

    with user_errors():
        typer.echo(str(init_show(show_dir, name)))


@app.command(name="publish")
def publish_command(
    episode: Path = typer.Argument(..., help="The episode's MP3 (its side files beside it)."),
    to: Path = typer.Option(..., "--to", metavar="SHOWDIR", help="The show folder."),
    keep: Optional[int] = typer.Option(
        None, min=1, help="Keep only the newest N episodes (default: the show file's keep)."
    ),
) -> None:
    """Add an episode to a show folder and rebuild its feed and page."""
    from digest.publish import publish_episode

    with user_errors():
        published = publish_episode(episode, to, keep=keep)
    typer.echo(str(published.mp3))


@app.command()
def feed(
    show_dir: Path = ShowDirArg,
    check: bool = flag("--check", help="Check feed.xml against Apple's requirements."),
    keep: Optional[int] = typer.Option(None, min=1, help="Retire all but the newest N episodes."),
) -> None:
    """Rebuild feed.xml and index.html from the show folder; --check validates them."""
    from digest.feed import write_feed
    from digest.feed_check import check_show
    from digest.publish import open_show, retire_episodes

    with user_errors():
        if check:
            findings = check_show(show_dir)
        else:
            if keep is not None:
                retire_episodes(show_dir, keep, open_show(show_dir))
            state = write_feed(show_dir)
            typer.echo(f"{show_dir / 'feed.xml'}: {len(state.episodes)} episode(s)")
            return
    for finding in findings:
        typer.echo(finding.message)
    problems = sum(1 for f in findings if f.problem)
    if problems:
        fail(f"{problems} problem(s) in {show_dir / 'feed.xml'}", 1)
    typer.echo(f"{show_dir / 'feed.xml'}: no problems")


@app.command()
def serve(
    show_dir: Path = ShowDirArg,
    port: int = typer.Option(8000, help="Port to listen on (0: any free one)."),
    host: str = typer.Option("0.0.0.0", help="Address to listen on."),
) -> None:
    """Serve the show folder on the local network, with a QR code of the feed URL."""
    from digest.serve import serve_forever

    with user_errors():
        serve_forever(show_dir, host, port)


cache_app = typer.Typer(help="Look after the clip cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
CacheDirOpt = typer.Option(None, help="Clip cache folder (default: the user cache folder).")


@cache_app.command("info")
def cache_info_command(cache_dir: Optional[Path] = CacheDirOpt) -> None:
    """Where the clip cache is, how many clips it holds and how much space they take."""
    from digest.cache import default_cache_dir
    from digest.cache_maintenance import cache_info
    from digest.sizes import format_size

    root = cache_dir or default_cache_dir()
    info = cache_info(root)
    scripts = f", {info.scripts} article scripts" if info.scripts else ""
    typer.echo(f"{root}: {info.clips} clips{scripts}, {format_size(info.size)}")
    if info.oldest_use is not None and info.newest_use is not None:
        oldest = dt.datetime.fromtimestamp(info.oldest_use).strftime("%Y-%m-%d %H:%M")
        newest = dt.datetime.fromtimestamp(info.newest_use).strftime("%Y-%m-%d %H:%M")
        typer.echo(f"least recently used {oldest}, most recently used {newest}")


@cache_app.command("prune")
def cache_prune_command(
    older_than: Optional[str] = typer.Option(
        None, help="Remove clips unused for this long, e.g. 30d, 12h, 2w."
    ),
    max_size: Optional[str] = typer.Option(
        None, help="Then remove the least recently used clips until the cache fits, e.g. 2G."
    ),
    cache_dir: Optional[Path] = CacheDirOpt,
) -> None:
    """Remove clips: those unused for --older-than, then least recently used down to --max-size."""
    from digest.cache import default_cache_dir
    from digest.cache_maintenance import prune
    from digest.sizes import parse_age, parse_size

    with user_errors():
        if older_than is None and max_size is None:
            raise InputError("say what to remove: --older-than AGE and/or --max-size SIZE")
        try:
            age = parse_age(older_than) if older_than is not None else None
        except ValueError as exc:
            raise InputError(f"--older-than: {exc}") from None
        try:
            size = parse_size(max_size) if max_size is not None else None
        except ValueError as exc:
            raise InputError(f"--max-size: {exc}") from None
        root = cache_dir or default_cache_dir()
        if not root.is_dir():
            raise InputError(f"cache folder {root} does not exist")
        result = prune(root, older_than=age, max_size=size)
    typer.echo(f"{root}: {result.describe()}")


def main(argv: list[str] | None = None) -> None:
    """The console entry point: usage errors become one line, like every other error.

    It ends the process (SystemExit in every case).
    """
    try:
        _run(argv)
    finally:
        # The process ends here.  Its objects need no collecting, but the interpreter's
        # teardown still runs full garbage collections over every one of them: about
        # 0.1 s after a build that spoke (aiohttp, asyncio), 10 ms after `--help`.
        # Frozen objects are left to the OS; files are closed by reference counting.
        gc.freeze()


def _app_for(args: list[str]) -> typer.Typer:
    """`app` with only the command `args` name, when they start with one.

    typer builds the click object of every command (signatures, type hints, options)
    before it reads the arguments: about 3 ms of a warm `digest build`, spent on the
    other twelve.  The group's help, its options and an unknown name (which gets
    click's suggestions) still see the whole app.
    """
    if not args or args[0].startswith("-"):
        return app
    chosen = [
        command
        for command in app.registered_commands
        if command.callback is not None
        and (command.name or get_command_name(command.callback.__name__)) == args[0]
    ]
    if not chosen:
        return app
    only = copy.copy(app)
    only.registered_commands = chosen
    only.registered_groups = []
    return only


def _run(argv: list[str] | None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = _app_for(args)(args=args, prog_name="digest", standalone_mode=False)
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `digest`: the help is the answer
            exc.show()
            sys.exit(0)
        command = exc.ctx.command_path if exc.ctx else "digest"
        typer.echo(f"digest: error: {exc.format_message()} (see '{command} --help')", err=True)
        sys.exit(2)
    except ClickException as exc:
        typer.echo(f"digest: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("digest: error: interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
