"""Speech engines behind one interface, found by name in one registry.

Engines are classes implementing `digest.engines.base.Engine`.  The built-in
ones (`edge`: Microsoft's online voices; `offline`: espeak-ng) are in the
registry from the start, each as a loader that imports its module on first
use.  A third party's engine registers through the `digest.engines`
entry-point group:

    [project.entry-points."digest.engines"]
    myengine = "my_package.engine:MyEngine"

or at run time with `register_engine(MyEngine)`.  Entry points are read only
when a name is not built in or every name is listed: reading them imports
importlib.metadata, which a build with a built-in engine does without (issue
14: a warm re-run pays for every import).  A plugin cannot take a built-in
name; `register_engine(..., replace_existing=True)` can.

`auto` is not an engine but a choice: the voice's own engine when it is
available, otherwise the offline engine, for the whole episode (one briefing
never mixes two voices).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from digest.engines.base import (
    Boundary,
    Engine,
    EngineError,
    EngineSettings,
    Speaker,
    Speech,
)
from digest.errors import InputError

ENTRY_POINT_GROUP = "digest.engines"
AUTO = "auto"
FALLBACK_ENGINE = "offline"

__all__ = [
    "AUTO",
    "Boundary",
    "Engine",
    "EngineError",
    "EngineSettings",
    "Speech",
    "Speaker",
    "close_engine",
    "create_engine",
    "engine_class",
    "engine_names",
    "is_engine_name",
    "register_engine",
    "select_engine",
]


def _edge_engine() -> type:
    from digest.engines.edge import EdgeEngine

    return EdgeEngine


def _offline_engine() -> type:
    from digest.engines.offline import OfflineEngine

    return OfflineEngine


# name -> the engine class, or a loader that imports it on first use
_registry: dict[str, type | Callable[[], type]] = {"edge": _edge_engine, "offline": _offline_engine}
_entry_points_read = False


def register_engine(engine_class: type, *, replace_existing: bool = False) -> type:
    """Make `engine_class` choosable by its `name` (e.g. `--engine NAME`, `BuildOptions(engine=NAME)`).

    Returns the class, so it can be used as a decorator.  Registering a name
    twice is refused unless `replace_existing` is true.
    """
    name = getattr(engine_class, "name", None)
    if not isinstance(name, str) or not name or name == AUTO:
        raise ValueError(f"an engine class needs a `name` other than {AUTO!r}: {engine_class!r}")
    _read_entry_points()
    if name in _registry and not replace_existing and _registry[name] is not engine_class:
        raise ValueError(f"an engine named {name!r} is already registered")
    _registry[name] = engine_class
    return engine_class


def engine_names() -> tuple[str, ...]:
    """Every registered engine's name, sorted (entry points are read, not imported)."""
    _read_entry_points()
    return tuple(sorted(_registry))


def engine_choices() -> tuple[str, ...]:
    """What a user may ask for: `auto` and every engine name."""
    return (AUTO, *engine_names())


def engine_class(name: str) -> type:
    """The engine class registered as `name`; InputError listing the choices if there is none."""
    if name not in _registry:
        _read_entry_points()
    entry = _registry.get(name)
    if entry is None:
        raise InputError(f"unknown engine {name!r}: choose {', '.join(engine_choices())}")
    if not isinstance(entry, type):
        try:
            entry = entry()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not be a traceback
            raise InputError(f"engine {name!r} could not be loaded: {exc}") from None
        _registry[name] = entry
    return entry


def create_engine(name: str, settings: EngineSettings = EngineSettings()) -> Engine:
    """An engine instance by name, constructed with `settings`."""
    return engine_class(name)(settings)


def close_engine(engine: Engine) -> None:
    """Let `engine` release what it holds (processes, threads) once a run is over, if it
    has a `close` method; it must stay usable, starting them again when next asked."""
    close = getattr(engine, "close", None)
    if callable(close):
        close()


def select_engine(
    choice: str | Engine,
    preset_engine: str,
    speaker: Speaker,
    settings: EngineSettings = EngineSettings(),
    *,
    probe_timeout: float = 3.0,
    warn: Callable[[str], None] = lambda message: None,
) -> tuple[Engine, Speaker]:
    """Pick one engine for a whole episode, and the voice it speaks with.

    `choice` is an engine instance, an engine name, or `auto`.  `preset_engine`
    is the engine the voice belongs to.  `auto` uses it when it is available
    and the offline engine otherwise (with a warning through `warn`).  Asking
    for an engine other than the voice's own makes it speak with its default
    voice, except that an offline-only voice cannot be sent to another engine.
    """
    if not isinstance(choice, str):
        return choice, _voice_for(choice, preset_engine, speaker)
    if choice != AUTO:
        engine_class(choice)  # an unknown name fails before the preset is considered
    if preset_engine == FALLBACK_ENGINE and choice not in (AUTO, FALLBACK_ENGINE):
        raise InputError(
            f"voice {speaker.voice!r} is an offline voice; the {choice} engine cannot use it"
        )
    engine = create_engine(preset_engine if choice == AUTO else choice, settings)
    if choice == AUTO and engine.name != FALLBACK_ENGINE and not engine.available(probe_timeout):
        warn(
            f"the {engine.name} engine is unreachable; using the offline voice (espeak-ng)"
            " for this episode"
        )
        engine = create_engine(FALLBACK_ENGINE, settings)
    return engine, _voice_for(engine, preset_engine, speaker)


def _voice_for(engine: Engine, preset_engine: str, speaker: Speaker) -> Speaker:
    """The preset's voice when it belongs to `engine`, else the engine's default voice."""
    if engine.name == preset_engine:
        return speaker
    return replace(speaker, voice=type(engine).default_voice)


def is_engine_name(name: str) -> bool:
    """True if `name` is a registered engine (entry points are read only for a name not built in)."""
    if name not in _registry:
        _read_entry_points()
    return name in _registry


def _read_entry_points() -> None:
    global _entry_points_read
    if _entry_points_read:
        return
    _entry_points_read = True
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        _registry.setdefault(point.name, point.load)
