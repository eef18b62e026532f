"""digest: turn Chinese articles into chaptered MP3 podcast episodes.

Build an episode from a file, or from text in memory::

    import digest

    result = digest.build_episode("article.txt", digest.BuildOptions(output_dir="out"))
    result.files.mp3            # the tagged, chaptered MP3
    result.to_dict()            # title, date, show, engine, voice, duration, chapters, files

    options = digest.BuildOptions(engine="offline", date="2026-11-30")
    digest.build_episode_from_text("标题\\n\\n正文。", options)

    digest.normalize("GPT-4 在 2035 年", "zh-CN")    # 'GPT四在二零三五年'

A daily briefing of many sources, and a podcast show to publish it in::

    show = digest.init_show(Path("daily"), name="晨间简报")     # daily/show.toml
    result = digest.brief(["a.txt", "https://example.com/news/1"], digest.load_show(show),
                          digest.BriefOptions(publish_dir=Path("daily")))
    digest.write_feed(Path("daily"))      # feed.xml and index.html, rebuilt from the folder

Speech engines are found by name in one registry (`engine_names()`); add
your own with `register_engine(MyEngine)` or the `digest.engines` entry-point
group, or pass an engine instance as `BuildOptions(engine=...)`.

Every failure is a `DigestError`: `InputError` (bad input or options; its
`SourceError` for sources that cannot be fetched or read), `OutputError`,
`SynthesisError`, `EngineError`, `Mp3Error`.

Names are imported on first use, so `import digest` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "build_episode": "digest.pipeline",
    "build_episode_from_text": "digest.pipeline",
    "prepare_script": "digest.pipeline",
    "prepare_text": "digest.pipeline",
    "BuildOptions": "digest.pipeline",
    "BuildResult": "digest.pipeline",
    "parse_date": "digest.pipeline",
    "RetryPolicy": "digest.clips",
    "brief": "digest.briefing",
    "build_briefing": "digest.briefing",
    "BriefOptions": "digest.briefing",
    "BriefResult": "digest.briefing",
    "collect_stories": "digest.sources",
    "Story": "digest.sources",
    "Show": "digest.show",
    "load_show": "digest.show",
    "resolve_show": "digest.show",
    "init_show": "digest.show",
    "publish_episode": "digest.publish",
    "read_episode": "digest.publish",
    "write_feed": "digest.feed",
    "check_show": "digest.feed_check",
    "normalize": "digest.normalization",
    "explain": "digest.normalization",
    "Rewrite": "digest.normalization",
    "load_lexicon": "digest.normalization",
    "Engine": "digest.engines",
    "EngineSettings": "digest.engines",
    "Speech": "digest.engines",
    "Boundary": "digest.engines",
    "Speaker": "digest.engines",
    "register_engine": "digest.engines",
    "engine_names": "digest.engines",
    "create_engine": "digest.engines",
    "encode_pcm": "digest.encoding",
    "EPISODE_FORMAT": "digest.mp3",
    "DigestError": "digest.errors",
    "InputError": "digest.errors",
    "SourceError": "digest.errors",
    "OutputError": "digest.errors",
    "SynthesisError": "digest.errors",
    "EngineError": "digest.errors",
    "Mp3Error": "digest.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'digest' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from digest.briefing import BriefOptions, BriefResult, brief, build_briefing
    from digest.clips import RetryPolicy
    from digest.encoding import encode_pcm
    from digest.engines import (
        Boundary,
        Engine,
        EngineSettings,
        Speaker,
        Speech,
        create_engine,
        engine_names,
        register_engine,
    )
    from digest.errors import (
        DigestError,
        EngineError,
        InputError,
        Mp3Error,
        OutputError,
        SourceError,
        SynthesisError,
    )
    from digest.feed import write_feed
    from digest.feed_check import check_show
    from digest.mp3 import EPISODE_FORMAT
    from digest.normalization import Rewrite, explain, load_lexicon, normalize
    from digest.pipeline import (
        BuildOptions,
        BuildResult,
        build_episode,
        build_episode_from_text,
        parse_date,
        prepare_script,
        prepare_text,
    )
    from digest.publish import publish_episode, read_episode
    from digest.show import Show, init_show, load_show, resolve_show
    from digest.sources import Story, collect_stories
