"""An in-memory speech engine for fast unit tests of our own stages (like httpx's MockTransport).

It speaks nothing: every chunk becomes a quiet tone of 0.2 s per character,
encoded to the episode format, with one boundary per sentence.  A `handler`
may replace the answer or fail: return a Speech, or raise EngineError.
It never stands in for the edge engine in tests of synthesis against the
service: those run the real edge-tts client against `fake_edge`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from digest.encoding import encode_pcm
from digest.engines.base import Boundary, Speaker, Speech
from digest.mp3 import EPISODE_FORMAT
from digest.sentences import sentence_spans

SECONDS_PER_CHAR = 0.2
_RATE = 8000


class FakeEngine:
    """Answers `synthesize` from memory; records every text it was asked for in `calls`."""

    name = "fake"
    default_voice = "fake-voice"
    output_format = EPISODE_FORMAT
    version = "1"

    def __init__(
        self,
        settings: object = None,
        *,
        handler: Callable[[str, Speaker], Speech] | None = None,
    ):
        self.handler = handler or (lambda text, voice: tone_speech(text))
        self.calls: list[str] = []

    def available(self, timeout: float = 0.0) -> bool:
        return True

    async def synthesize(self, text: str, speaker: Speaker) -> Speech:
        self.calls.append(text)
        return self.handler(text, speaker)


def tone_speech(text: str) -> Speech:
    """A clip whose length follows the text, with sentence boundaries spread over it."""
    sentences = sentence_spans(text)
    weights = [max(1, len(s.text)) for s in sentences] or [1]
    audio = _tone(round(sum(weights) * SECONDS_PER_CHAR, 1))
    seconds = audio_seconds(audio)
    boundaries, elapsed = [], 0.0
    for sentence, weight in zip(sentences, weights):
        end = min(seconds, elapsed + weight * SECONDS_PER_CHAR)
        boundaries.append(Boundary(round(elapsed, 3), round(end, 3), sentence.text))
        elapsed = end
    return Speech(audio=audio, boundaries=tuple(boundaries))


def audio_seconds(audio: bytes) -> float:
    frames = len(audio) // 144  # episode-format frames are 144 bytes
    return frames * EPISODE_FORMAT.samples_per_frame / EPISODE_FORMAT.sample_rate


@lru_cache(maxsize=256)
def _tone(seconds: float) -> bytes:
    count = int(seconds * _RATE)
    pcm = b"".join(
        int(3000 * math.sin(2 * math.pi * 220 * i / _RATE)).to_bytes(2, "little", signed=True)
        for i in range(count)
    )
    return encode_pcm(pcm, _RATE).data
