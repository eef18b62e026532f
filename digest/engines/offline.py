"""Offline speech engine: espeak-ng 1.52 (wheel `espeakng-loader`) + lameenc.

No network, no apt: the library and its data come from the `espeakng-loader`
wheel and are driven through ctypes; `lameenc` turns the 22,050 Hz PCM into
the episode format (MPEG-2 Layer III, 24 kHz, mono, 48 kbps CBR, header
``FF F3 64 C4``, 144-byte frames, no ID3 tag, no Xing/Info frame), so its clips
join byte for byte with edge-tts clips.

Voice settings (edge-tts syntax) and how they map:

* ``voice``  - an espeak voice name, default ``"cmn"`` (also for zh-TW/zh-HK:
  ``cmn`` reads Traditional characters correctly).  ``name+variant`` works.
* ``rate``   - ``"+N%"`` scales the 220 wpm base: ``wpm = 220 * (1 + N/100)``,
  clamped to espeak's 80..450.
* ``pitch``  - ``"+NHz"`` shifts the voice file's ``pitch <base> <top>`` line
  (cmn: 80 118 Hz) by N Hz, clamped to +-100 Hz; ``"+N%"`` is read as N Hz
  (relative to ~100 Hz).  espeak's own pitch parameter is never touched: changing
  it leaves state behind that alters later utterances.
* ``volume`` - ``"+N%"`` scales espeak's amplitude from the base 55 (peaks near
  -3 dBFS), capped at 60 because espeak clips internally above that; so
  lowering works, raising saturates early.  Each clip's PCM is then leveled
  to -19 LUFS with peaks limited (`digest.leveling.encode_leveled`, in-process:
  no ffmpeg), which also gives the clip's loudness blocks, so
  ``volume`` only matters through espeak's own timbre at low amplitudes.

Determinism: espeak-ng keeps hidden static state between utterances (the pitch
"flutter" counter, pitch-parameter and clause state), so the same text would
come out slightly different depending on what was spoken before.  The engine
therefore loads the library afresh for every utterance (~1 ms) and unloads it
afterwards, loads voices from private copies of their voice files with
``flutter 0`` and the pitch shift written in, and never sets espeakPITCH.
Output is byte-identical across calls and processes, so cached and fallback
episodes are reproducible.  All calls are serialized by one module lock.

Sentence boundaries come from espeak's synth-callback events (SENTENCE/WORD/
END, with ``text_position`` in characters and ``sample`` in 22,050 Hz samples),
shifted by lame's encoder delay (1,105 samples at 24 kHz) and clamped to the
MP3's duration.  If the events do not give an anchor for every sentence, the
boundaries are estimated by character count over the real audio length.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import re

from digest.encoding import ENCODER_QUALITY
from digest.engines import espeak_binding as espeak
from digest.engines.base import Boundary, EngineError, EngineSettings, Speaker, Speech
from digest.mp3 import EPISODE_FORMAT
from digest.sentences import sentence_spans

ENGINE_REVISION = "4"  # 2, 3: speech leveled to -19 LUFS (3: as encoded; 4: in-process limiter)

BASE_WPM = 220
MIN_WPM, MAX_WPM = 80, 450
BASE_AMPLITUDE = 55  # espeak volume 0..200; 55 keeps peaks near -3 dBFS for cmn
MAX_AMPLITUDE = 60  # above ~65 espeak's own output starts to clip
MAX_PITCH_SHIFT = 100  # Hz

ENCODER_DELAY = 1105 / EPISODE_FORMAT.sample_rate  # lame's start delay without gapless info


def _signed(value: str, unit: str, what: str) -> float:
    m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s*" + re.escape(unit) + r"\s*", value or "")
    if not m:
        raise EngineError(f"bad {what} {value!r}: expected e.g. '+10{unit}'", retryable=False)
    return float(m.group(1))


def espeak_rate(rate: str) -> int:
    pct = _signed(rate, "%", "rate")
    return max(MIN_WPM, min(MAX_WPM, round(BASE_WPM * (1 + pct / 100))))


def espeak_pitch_shift(pitch: str) -> int:
    """Hz to add to the voice file's `pitch <base> <top>` line ("+N%" is taken relative to 100 Hz)."""
    unit = "%" if (pitch or "").strip().endswith("%") else "Hz"
    delta = _signed(pitch, unit, "pitch")
    return max(-MAX_PITCH_SHIFT, min(MAX_PITCH_SHIFT, round(delta)))


def espeak_amplitude(volume: str) -> int:
    pct = _signed(volume, "%", "volume")
    return max(0, min(MAX_AMPLITUDE, round(BASE_AMPLITUDE * (1 + pct / 100))))


# -- sentence boundaries ---------------------------------------------------------
def _boundaries(text: str, events, in_rate: int, duration: float) -> tuple[Boundary, ...]:
    sentences = sentence_spans(text)
    if not sentences:
        return ()
    speech_end = duration
    # first event sample inside each sentence (text_position is 1-based code points)
    starts: list[float | None] = []
    for s in sentences:
        samples = [
            smp
            for typ, pos, smp in events
            if typ in (espeak.EV_WORD, espeak.EV_SENTENCE) and s.start < pos <= s.end
        ]
        starts.append(min(samples) / in_rate + ENCODER_DELAY if samples else None)
    ok = all(x is not None for x in starts) and all(
        starts[k] <= starts[k + 1]
        for k in range(len(starts) - 1)  # type: ignore[operator]
    )
    if ok:
        times = [0.0] + [float(x) for x in starts[1:]]  # type: ignore[arg-type]
        times = [min(t, speech_end) for t in times] + [speech_end]
    else:
        # estimate: distribute the real audio length by speakable characters
        weights = [max(1, sum(1 for ch in s.text if ch.isalnum())) for s in sentences]
        total = sum(weights)
        times, acc = [0.0], 0
        for w in weights:
            acc += w
            times.append(speech_end * acc / total)
    out = []
    for k, s in enumerate(sentences):
        a, b = round(times[k], 3), round(times[k + 1], 3)
        b = min(b, math.floor(duration * 1000) / 1000)
        a = min(a, b)
        out.append(Boundary(a, b, s.text))
    return tuple(out)


def _espeak_voice_name(speaker: Speaker) -> str:
    """The espeak voice to use; edge-tts names (``*Neural``) and blanks become ``cmn``."""
    name = (speaker.voice or "").strip()
    if not name or name.endswith("Neural"):
        return "cmn"  # also for zh-TW / zh-HK: cmn reads Traditional characters correctly
    return name


def _speak_blocking(text: str, speaker: Speaker) -> Speech:
    wpm = espeak_rate(speaker.rate)
    pitch = espeak_pitch_shift(speaker.pitch)
    amplitude = espeak_amplitude(speaker.volume)
    name = _espeak_voice_name(speaker)
    with espeak.lock, espeak.fresh_espeak() as library:
        pcm, events = library.synth(text, name, wpm, pitch, amplitude)
        in_rate = library.sample_rate
    if not pcm:
        raise EngineError("espeak produced no audio for this text", retryable=False)
    # Level the speech before its one encoding: the episode then needs no second generation.
    # (Imported here: numpy is loaded only by a build that synthesizes offline speech.)
    from digest.leveling import encode_leveled

    frames, blocks = encode_leveled(pcm, in_rate)
    boundaries = _boundaries(text, events, in_rate, frames.duration)
    return Speech(audio=frames.data, boundaries=boundaries, blocks=blocks)


class OfflineEngine:
    """espeak-ng Mandarin, fully offline. Robotic but intelligible."""

    name = "offline"
    default_voice = "cmn"  # also for zh-TW / zh-HK: cmn reads Traditional characters correctly
    output_format = EPISODE_FORMAT

    def __init__(self, settings: EngineSettings = EngineSettings()) -> None:
        self._version: str | None = None  # network settings mean nothing to a local voice
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def available(self, timeout: float = 0.0) -> bool:
        """True if the espeak-ng library loads and initializes and lameenc imports."""
        try:
            with espeak.lock, espeak.fresh_espeak():
                pass
            import lameenc  # noqa: F401
        except Exception:  # noqa: BLE001 - any failure to load means "not available"
            return False
        return True

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = (
                f"espeak-ng-{espeak.library_version()}+lameenc-q{ENCODER_QUALITY}"
                f"+digest-offline-r{ENGINE_REVISION}"
            )
        return self._version

    async def synthesize(self, text: str, speaker: Speaker) -> Speech:
        if not text or not text.strip():
            raise EngineError("empty text", retryable=False)
        # Its own threads, one per core: more clips in flight would not be faster (the
        # work is CPU), and each thread's allocator keeps what a clip's PCM once took.
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=os.cpu_count() or 1, thread_name_prefix="digest-offline"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _speak_blocking, text, speaker)
