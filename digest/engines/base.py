"""The one small interface every speech engine implements.

An engine turns one chunk of already-normalized text into MP3 frames in the
episode's format (`output_format`: MPEG-2 Layer III, 24 kHz, mono, 48 kbps
CBR) plus the sentence boundaries it spoke.  Retries, timeouts, caching and
the completeness checks live above the engine, in `digest.synthesis`, so an
engine only has to say whether a failure is worth retrying (`EngineError`).

An engine whose voice produces PCM (most local neural engines) turns it into
episode frames with `digest.encoding.encode_pcm`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from digest.errors import EngineError

if TYPE_CHECKING:
    from digest.loudness import Blocks
    from digest.mp3 import FrameFormat

__all__ = [
    "Boundary",
    "Engine",
    "EngineError",
    "EngineSettings",
    "Speech",
    "Speaker",
]


@dataclass(frozen=True)
class Speaker:
    """Who speaks a clip and how; part of every cache key.

    In digest, "voice" always means the engine's own voice name (`Speaker.voice`).
    A preset (`digest.voices.VoicePreset`, e.g. "xiaoxiao") is a named Speaker
    plus the engine it belongs to; `--voice` accepts either a preset or a voice name.
    """

    voice: str  # engine-specific voice name, e.g. "zh-CN-XiaoxiaoNeural" or "cmn"
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"
    # Decides script conversion: zh-CN -> Simplified, zh-TW/zh-HK -> Traditional.
    locale: str = "zh-CN"


@dataclass(frozen=True)
class EngineSettings:
    """How an engine reaches its voice; what it does not use it ignores."""

    idle_timeout: float = 20.0  # seconds without data before a stream counts as stalled
    connect_timeout: float = 10.0  # seconds to open a connection
    proxy: str | None = None  # e.g. http://proxy.example:3128; None: the environment's


@dataclass(frozen=True)
class Boundary:
    """One spoken sentence, in seconds from the start of its clip."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Speech:
    """An engine's answer for one chunk: MP3 frames and sentence boundaries.

    An engine that already knows the clip's 100 ms loudness blocks (the
    offline engine computes them while leveling its PCM) returns them in
    `blocks`, so the clip check does not measure the clip again.
    """

    audio: bytes
    boundaries: tuple[Boundary, ...] = field(default_factory=tuple)
    blocks: Blocks | None = None


@runtime_checkable
class Engine(Protocol):
    """A speech engine.  Register a class with `digest.register_engine` or the
    `digest.engines` entry-point group; it is constructed as `cls(EngineSettings)`,
    which must be cheap: `available` is asked of an instance before it is used."""

    name: ClassVar[str]  # the name users choose it by, e.g. "edge"
    default_voice: ClassVar[str]  # the voice used when a preset names another engine's voice
    output_format: ClassVar[FrameFormat]  # always EPISODE_FORMAT today
    version: str  # goes into cache keys: a new engine version never reuses old clips

    # Optional, not part of the protocol's checks: `close()`, called (through
    # `digest.engines.close_engine`) when a build's synthesis is over, even when it
    # failed or was interrupted.  It releases processes and threads; the engine stays
    # usable and starts them again when asked for more speech.
    # Optional too: `paced_requests = True` for a service that answers each request in
    # a latency plus a time in proportion to its text, `concurrency` requests at once
    # (edge).  A build then evens a short script's chunks over those request slots
    # (`digest.script.balance_chunks`), so that none idles while one finishes alone.

    def available(self, timeout: float) -> bool:
        """Can this engine speak right now (network reachable, library loadable)?
        Answers within about `timeout` seconds."""
        ...

    async def synthesize(self, text: str, speaker: Speaker) -> Speech:
        """Speak `text` (non-empty, at most a few thousand bytes). Raise EngineError on failure."""
        ...
