"""The one small interface every speech engine implements.

An engine turns one chunk of already-normalized text into MP3 frames in the
episode's format (MPEG-2 Layer III, 24 kHz, mono, 48 kbps CBR) plus the
sentence boundaries it spoke.  Retries, timeouts and caching live above the
engine, in `digest.synthesis`, so an engine only has to say whether a failure
is worth retrying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from digest.errors import EngineError

__all__ = ["Boundary", "Engine", "EngineError", "Speech", "VoiceSettings"]


@dataclass(frozen=True)
class VoiceSettings:
    """What a clip is spoken with; part of every cache key."""

    voice: str  # engine-specific voice name, e.g. "zh-CN-XiaoxiaoNeural" or "cmn"
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"
    locale: str = (
        "zh-CN"  # decides script conversion: zh-CN -> Simplified, zh-TW/zh-HK -> Traditional
    )


@dataclass(frozen=True)
class Boundary:
    """One spoken sentence, in seconds from the start of its clip."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Speech:
    """An engine's answer for one chunk: raw MP3 bytes and sentence boundaries."""

    audio: bytes
    boundaries: tuple[Boundary, ...] = field(default_factory=tuple)


class Engine(Protocol):
    name: str  # "edge" or "offline"
    version: str  # goes into cache keys: a new engine version never reuses old clips

    async def synthesize(self, text: str, voice: VoiceSettings) -> Speech:
        """Speak `text` (non-empty, at most a few thousand bytes). Raise EngineError on failure."""
        ...
