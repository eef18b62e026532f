"""The daily briefing: many stories in, one chaptered episode out.

    sources.collect_stories -> deduplicate -> plan_briefing (parse_article,
    build_script per story, intro/outro, voices, length budget)
    -> synthesize_script per voice -> assemble (story pauses) -> write_episode

The episode is intro, then per story a headline chapter (a spoken transition
naming the source, the headline and the story's lead; it carries the story's
URL) followed by one chapter per section, then the outro: one flat,
time-ordered chapter list.  Every step a single article goes through is the
same function `digest build` uses; this module only arranges them.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from digest.article import Section, parse_article
from digest.budget import estimate_chunks, fit_stories
from digest.engines import Speaker, close_engine, select_engine
from digest.episode import TAIL, Episode, assemble, set_loudness
from digest.errors import InputError, OutputError
from digest.files import ensure_folder, write_atomically
from digest.normalization import load_lexicon, normalize
from digest.normalization.conversion import is_traditional
from digest.outputs import EpisodeFiles, source_id, write_episode
from digest.pipeline import (
    BuildOptions,
    capped_concurrency,
    choose_engine,
    clip_check,
    load_cover,
    open_cache,
    report_loudness,
    report_throttling,
    run_interruptible,
    spread_over_requests,
)
from digest.script import (
    Line,
    Script,
    ScriptChapter,
    as_sentence,
    build_script,
    chunk_sentences,
    split_sentences,
    split_written,
)
from digest.show import Show
from digest.sources import DEFAULT_SINCE, Story, collect_stories, deduplicate
from digest.synthesis import Progress, SynthesisStats, synthesize_script
from digest.tags import EpisodeInfo
from digest.voices import VoicePreset, resolve_voice

Warn = Callable[[str], None]
STORIES_FILE = "stories.json"
INTRO_TITLE = "开场"
OUTRO_TITLE = "结束语"

_DIGITS = "零一二三四五六七八九"
_WEEKDAYS = "一二三四五六日"


def spoken_date(date: dt.date) -> tuple[str, str]:
    """`2026-11-30` -> ("二零二六年十一月三十日", "星期一"), as an anchor reads them."""
    year = "".join(_DIGITS[int(d)] for d in str(date.year))
    return f"{year}年{_cardinal(date.month)}月{_cardinal(date.day)}日", "星期" + _WEEKDAYS[
        date.weekday()
    ]


def _cardinal(n: int) -> str:
    """1..99 in Chinese numerals."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class BriefOptions:
    """How to build a briefing.  `build` holds what a single episode takes too (engine,
    cache, concurrency, lexicon, date, output folder, cover); its `show`, `voice`,
    `title` and `rate` are not used: the show name, voices and title come from the Show."""

    build: BuildOptions = field(default_factory=BuildOptions)  # engine, cache, output, date ...
    voices: tuple[str, ...] | None = None  # default: the show's
    max_minutes: float | None = None
    fit: bool = False
    intro_bed: Path | None = None  # default: the show's
    publish_dir: Path | None = None  # a show folder: episodes/ and stories.json live there


@dataclass(frozen=True)
class Segment:
    """What one voice reads in one stretch: the intro, a story, or the outro."""

    kind: str  # "intro" | "story" | "outro"
    preset: VoicePreset
    script: Script  # a story's first chapter is its headline chapter
    story: Story | None = None


@dataclass(frozen=True)
class Plan:
    title: str
    date: dt.date
    segments: tuple[Segment, ...]
    estimate: float  # seconds, before synthesis
    dropped: tuple[str, ...] = ()  # "headline / section" for each section cut to fit
    over_budget: bool = False  # even after cutting, the estimate exceeds --max-minutes

    @property
    def stories(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.kind == "story")


@dataclass(frozen=True)
class BriefResult:
    """What a briefing made: its files, the episode, the plan (stories, dropped sections)."""

    files: EpisodeFiles
    episode: Episode
    plan: Plan
    engine: str
    stats: SynthesisStats

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary (what `digest brief --json` prints)."""
        return summary(self)


def _story_preset(index: int, story: Story, presets: list[VoicePreset], show: Show) -> VoicePreset:
    if show.traditional_voice and is_traditional(story.text):
        return resolve_voice(show.traditional_voice)
    return presets[index % len(presets)]


def _spoken(title: str, text: str, locale: str, lexicon) -> ScriptChapter:
    """Words of the briefing's own (intro, transition, outro), chunked as build_script does."""
    lines = tuple(
        Line(written, normalize(as_sentence(written), locale, lexicon))
        for written in split_written(text)
    )
    chunks = chunk_sentences([s for line in lines for s in split_sentences(line.spoken)])
    return ScriptChapter(title, tuple(chunks), lines)


def _story_script(
    story: Story, locale: str, lexicon, chunk_chars: int, vocabulary: str = "keep"
) -> Script:
    article = parse_article(story.text)
    if not article.sections:
        raise InputError(f"{story.name}: nothing to speak")
    if article.sections[0].kind != "lead":
        # The headline gets a chapter of its own even when the story starts with a section.
        lead = Section(title=article.title, paragraphs=(), number=None, kind="lead")
        article = replace(article, sections=(lead, *article.sections))
    script = build_script(article, locale, lexicon, max_chars=chunk_chars, vocabulary=vocabulary)
    if not script.chapters:
        raise InputError(f"{story.name}: nothing to speak")
    return script


def plan_briefing(
    stories: list[Story],
    show: Show,
    options: BriefOptions = BriefOptions(),
    *,
    engine_name: str = "edge",
    strict: bool = False,
    warn: Warn = lambda message: None,
) -> Plan:
    """Everything before synthesis: scripts, voices, transitions, intro, outro, budget."""
    names = options.voices or show.voices
    presets = [resolve_voice(name) for name in names]
    lexicon = load_lexicon(options.build.lexicon)
    chunk_chars = options.build.chunk_chars
    date = options.build.date or show.today()
    story_segments: list[Segment] = []
    for story in stories:
        preset = _story_preset(len(story_segments), story, presets, show)
        try:
            vocabulary = options.build.vocabulary or preset.vocabulary or "keep"
            script = _story_script(story, preset.speaker.locale, lexicon, chunk_chars, vocabulary)
            for warning in script.warnings:
                warn(f"{story.name}: {warning}")
        except InputError as exc:
            if strict:
                raise
            warn(f"skipped {exc}")
            continue
        story_segments.append(Segment("story", preset, script, story))
    if not story_segments:
        raise InputError("no story could be read; nothing to brief")

    templates = show.templates
    for number, segment in enumerate(story_segments):
        story = segment.story
        assert story is not None
        if number == 0:
            text = (
                templates.first.format(source=story.site, headline=segment.script.title)
                if story.site
                else templates.first_no_source
            )
        elif story.site:
            text = templates.transition.format(source=story.site, headline=segment.script.title)
        else:
            text = templates.transition_no_source.format(headline=segment.script.title)
        locale = segment.preset.speaker.locale
        headline, *sections = segment.script.chapters
        transition = _spoken("", text, locale, lexicon)
        headline = replace(
            headline,
            chunks=transition.chunks + headline.chunks,
            lines=transition.lines + headline.lines,
            url=story.url,
        )
        story_segments[number] = replace(
            segment, script=replace(segment.script, chapters=(headline, *sections))
        )

    host = presets[0]
    locale = host.speaker.locale
    spoken, weekday = spoken_date(date)
    headlines = [s.script.title for s in story_segments]
    values = {
        "show": show.name,
        "date": spoken,
        "weekday": weekday,
        "count": str(len(headlines)),
        "headlines": "；".join(headlines),
    }
    intro = Script(
        show.name,
        locale,
        (_spoken(INTRO_TITLE, templates.intro.format(**values), locale, lexicon),),
    )
    outro = Script(
        show.name,
        locale,
        (_spoken(OUTRO_TITLE, templates.outro.format(**values), locale, lexicon),),
    )
    segments = [Segment("intro", host, intro), *story_segments, Segment("outro", host, outro)]
    title = f"{show.name} {date.month}月{date.day}日"
    plan = Plan(title, date, tuple(segments), 0.0)
    return budget_plan(plan, show, options, engine_name, warn)


def _chapter_estimates(segment: Segment, engine_name: str) -> list[float]:
    rate = segment.preset.speaker.rate
    return [estimate_chunks(c.chunks, engine_name, rate) for c in segment.script.chapters]


def _pauses(plan: Plan, show: Show) -> float:
    chapters = sum(len(s.script.chapters) for s in plan.segments)
    return show.pauses.story * (len(plan.segments) - 1) + show.pauses.section * (
        chapters - len(plan.segments)
    )


def budget_plan(
    plan: Plan, show: Show, options: BriefOptions, engine_name: str, warn: Warn
) -> Plan:
    """Estimate the length; warn past --max-minutes; with fit, drop sections until it fits."""
    stories = [_chapter_estimates(s, engine_name) for s in plan.stories]
    fixed = sum(sum(_chapter_estimates(s, engine_name)) for s in plan.segments if s.kind != "story")
    fixed += _pauses(plan, show)
    total = fixed + sum(sum(s) for s in stories)
    plan = replace(plan, estimate=total)
    if options.max_minutes is None or total <= options.max_minutes * 60:
        return plan
    limit = options.max_minutes * 60
    if not options.fit:
        warn(
            f"the briefing is estimated at {total / 60:.1f} minutes, over the {options.max_minutes:g} allowed"
        )
        return replace(plan, over_budget=True)
    # Pauses shrink with each dropped section: count them with the chapters.
    with_pauses = [
        [c + (show.pauses.section if j else 0) for j, c in enumerate(s)] for s in stories
    ]
    fitted = fit_stories(
        with_pauses, fixed - show.pauses.section * sum(len(s) - 1 for s in stories), limit
    )
    dropped: list[str] = []
    segments = list(plan.segments)
    for index, segment in enumerate(segments):
        if segment.kind != "story":
            continue
        story_number = sum(1 for s in segments[:index] if s.kind == "story")
        keep = fitted.keep[story_number]
        chapters = segment.script.chapters
        dropped += [f"{segment.script.title} / {c.title}" for c in chapters[keep:]]
        segments[index] = replace(segment, script=replace(segment.script, chapters=chapters[:keep]))
    if not fitted.fits:
        warn(
            f"even the stories' leads alone come to {fitted.total / 60:.1f} minutes, over the "
            f"{options.max_minutes:g} allowed; building the leads"
        )
    return replace(
        plan,
        segments=tuple(segments),
        estimate=fitted.total,
        dropped=tuple(dropped),
        over_budget=not fitted.fits,
    )


def load_published(show_dir: Path) -> set[str]:
    """The story keys a show has already published (SHOWDIR/stories.json)."""
    path = show_dir / STORIES_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable story record ({exc})".splitlines()[0]) from None
    return {key for entry in document.get("stories", []) for key in entry.get("keys", [])}


def record_published(show_dir: Path, plan: Plan, episode_file: Path) -> None:
    """Add this episode's stories to SHOWDIR/stories.json (written atomically)."""
    path = show_dir / STORIES_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        document = {"stories": []}
    except (OSError, ValueError):
        document = {"stories": []}
    for segment in plan.stories:
        assert segment.story is not None
        document["stories"].append(
            {
                "keys": list(segment.story.keys),
                "title": segment.script.title,
                "date": plan.date.isoformat(),
                "episode": episode_file.name,
            }
        )
    try:
        write_atomically(
            path, (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        )
    except OSError as exc:
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None


def brief(
    sources: list[str],
    show: Show = Show(),
    options: BriefOptions = BriefOptions(),
    *,
    since: dt.timedelta = DEFAULT_SINCE,
    strict: bool = False,
    progress: Progress | None = None,
    warn: Warn = lambda message: None,
    note: Warn = lambda message: None,
) -> BriefResult:
    """Build one briefing episode from `sources`: article files, folders, "-" (stdin), URLs of
    pages, RSS/Atom feeds (their items published within `since`).

    A source that cannot be read is skipped with a warning (with `strict`, its InputError is
    raised); the same story twice, or one the show folder (`options.publish_dir`) already
    published, is left out with a `note`.  Raises InputError when no story remains.
    """
    stories = collect_stories(sources, since=since, strict=strict, warn=warn)
    published = load_published(options.publish_dir) if options.publish_dir else set()
    stories = deduplicate(stories, published, note=note)
    if not stories:
        raise InputError("no story could be read; nothing to brief")
    return build_briefing(stories, show, options, strict=strict, progress=progress, warn=warn)


def build_briefing(
    stories: list[Story],
    show: Show,
    options: BriefOptions = BriefOptions(),
    *,
    strict: bool = False,
    progress: Progress | None = None,
    warn: Warn = lambda message: None,
) -> BriefResult:
    """Plan, synthesize, assemble and write one briefing episode."""
    build = options.build
    output_dir = options.publish_dir or build.output_dir
    ensure_folder(output_dir, "show folder" if options.publish_dir else "output folder")
    cover_path = build.cover or show.cover
    cover = load_cover(cover_path) if cover_path else None
    bed = options.intro_bed or show.intro_bed
    if bed is not None and not bed.is_file():
        raise InputError(f"intro bed {bed} does not exist")
    host = resolve_voice((options.voices or show.voices)[0])
    engine, _ = choose_engine(host, build, warn)
    plan = plan_briefing(stories, show, options, engine_name=engine.name, strict=strict, warn=warn)
    concurrency = capped_concurrency(build, warn)
    cache = open_cache(build, warn)

    # One synthesis run per speaker: chapters of every segment that speaker reads.
    groups: dict[Speaker, list[int]] = {}
    # The engine is chosen once (one briefing never mixes engines); each preset's speaker on it.
    speakers = [select_engine(engine, s.preset.engine, s.preset.speaker)[1] for s in plan.segments]
    for index, speaker in enumerate(speakers):
        groups.setdefault(speaker, []).append(index)
    stats = SynthesisStats()
    # One run per speaker, its chunks evened over the request slots (pipeline.spread_over_requests).
    runs = []
    for speaker, members in groups.items():
        chapters = tuple(c for i in members for c in plan.segments[i].script.chapters)
        script = Script(plan.title, speaker.locale, chapters)
        runs.append(
            (
                speaker,
                members,
                spread_over_requests(script, engine, concurrency, build.chunk_chars, cache.root),
            )
        )
    total_chunks = sum(script.chunk_count for _, _, script in runs)
    spoken: dict[int, tuple[ScriptChapter, ...]] = {}  # each segment's chapters as spoken

    async def speak_all():
        done_before = 0
        clips_by_segment: dict[int, list] = {}
        for speaker, members, script in runs:
            offset = done_before
            tick = (
                (lambda done, total, offset=offset: progress(offset + done, total_chunks))
                if progress
                else None
            )
            clips = await synthesize_script(
                script,
                engine,
                speaker,
                cache,
                concurrency=concurrency,
                retry=build.retry,
                progress=tick,
                stats=stats,
                check=clip_check(plan.segments[members[0]].preset, engine, speaker),
            )
            done_before += script.chunk_count
            position = 0
            for i in members:
                count = len(plan.segments[i].script.chapters)
                clips_by_segment[i] = clips[position : position + count]
                spoken[i] = script.chapters[position : position + count]
                position += count
        return clips_by_segment

    try:
        clips_by_segment = run_interruptible(speak_all())
    finally:
        close_engine(engine)  # e.g. the offline engine's espeak workers
    report_throttling(stats, warn)
    chapters, clips, gaps = [], [], []
    for index in range(len(plan.segments)):
        last_segment = index == len(plan.segments) - 1
        for number, chapter in enumerate(spoken[index]):
            chapters.append(chapter)
            clips.append(clips_by_segment[index][number])
            end_of_segment = number == len(spoken[index]) - 1
            if end_of_segment:
                gaps.append(TAIL if last_segment else show.pauses.story)
            else:
                gaps.append(show.pauses.section)
    episode = assemble(Script(plan.title, speakers[0].locale, tuple(chapters)), clips, gaps)
    if bed is not None:
        from digest.bed import mix_under_intro

        fmt = episode.audio.format
        intro_frames = round(episode.chapters[0].end * fmt.sample_rate / fmt.samples_per_frame)
        # The intro was re-encoded under the bed: measure the mixed audio itself.
        episode = replace(
            episode, audio=mix_under_intro(episode.audio, intro_frames, bed), blocks=None
        )
    episode = set_loudness(episode, show.loudness, build.loudness_mode)
    report_loudness(episode, warn)
    headlines = [s.script.title for s in plan.stories]
    info = EpisodeInfo(
        title=plan.title,
        show=show.name,
        date=plan.date,
        description="；".join(headlines),
        engine=engine.name,
        voice=speakers[0].voice,
        cover=cover[0] if cover else None,
        cover_mime=cover[1] if cover else "image/jpeg",
        # One briefing per show and day: a rebuild replaces it, another show's keeps its name.
        source_id=source_id(f"briefing:{show.name}:{plan.date.isoformat()}"),
    )
    if options.publish_dir is None:
        files = write_episode(episode, info, output_dir)
    else:
        files = _publish(episode, info, options.publish_dir)
        record_published(options.publish_dir, plan, files.mp3)
    return BriefResult(files, episode, plan, engine.name, stats)


def _publish(episode: Episode, info: EpisodeInfo, show_dir: Path) -> EpisodeFiles:
    """Write the episode beside the show folder, then publish it into the show (feed, page)."""
    from digest.publish import publish_episode

    try:
        staging = tempfile.TemporaryDirectory(dir=show_dir, prefix=".brief-")
    except OSError as exc:
        raise OutputError(f"could not write into {show_dir}: {exc.strerror or exc}") from None
    with staging as folder:
        staged = write_episode(episode, info, Path(folder))
        published = publish_episode(staged.mp3, show_dir).mp3
    return EpisodeFiles(
        **{f.name: published.with_name(getattr(staged, f.name).name) for f in fields(staged)}
    )


def summary(result: BriefResult) -> dict[str, object]:
    """The `--json` summary of a briefing."""
    plan = result.plan
    return {
        "output": str(result.files.mp3),
        "files": result.files.to_dict(),
        "title": plan.title,
        "date": plan.date.isoformat(),
        "duration": round(result.episode.duration, 3),
        "estimate": round(plan.estimate, 1),
        "engine": result.engine,
        "requests": result.stats.requests,
        "cached_clips": result.stats.cached,
        "loudness": result.episode.loudness.to_dict() if result.episode.loudness else None,
        "problems": [p.to_dict() for p in result.episode.problems],
        "stories": [
            {
                "headline": s.script.title,
                "source": s.story.name if s.story else None,
                "url": s.story.url if s.story else None,
                "voice": s.preset.name,
                "sections": [c.title for c in s.script.chapters[1:]],
            }
            for s in plan.stories
        ],
        "dropped": list(plan.dropped),
        "chapters": [
            {
                "title": c.title,
                "start": round(c.start, 3),
                "end": round(c.end, 3),
                **({"url": c.url} if c.url else {}),
            }
            for c in result.episode.chapters
        ],
    }


__all__ = [
    "BriefOptions",
    "BriefResult",
    "Plan",
    "build_briefing",
    "plan_briefing",
    "spoken_date",
]
