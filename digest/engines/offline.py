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
come out slightly different depending on what was spoken before.  Every
utterance therefore gets a freshly loaded library (~1 ms), unloaded afterwards;
voices come from private copies of their voice files with ``flutter 0`` and the
pitch shift written in, and espeakPITCH is never set.  Output is byte-identical
across calls and processes, so cached and fallback episodes are reproducible.
(Re-initializing a library that stays loaded is no substitute: it corrupts
espeak's phoneme tables.)

Workers: each load leaves about 0.36 MB behind that no unload gives back, so
espeak never runs in the build's own process.  It runs in a worker process
(`espeak_worker`; one per `WORKER_CORES` cores) that renews itself (exec, same
process) after `espeak_pool.RECYCLE_AFTER` utterances: memory stays flat however
long the episode.  Leveling and encoding stay in the engine's threads.  A worker
that dies or hangs fails its clip with a retryable EngineError and is replaced;
workers ignore Ctrl-C, end when the engine is closed (after each build's
synthesis, `close`; at the latest at exit), and die with the build.

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
import weakref
from typing import TYPE_CHECKING

from digest.encoding import ENCODER_QUALITY
from digest.engines import espeak_binding as espeak
from digest.engines.base import Boundary, EngineError, EngineSettings, Speaker, Speech
from digest.mp3 import EPISODE_FORMAT
from digest.sentences import sentence_spans

if TYPE_CHECKING:  # imported where used: a warm build only asks for `version`
    from digest.engines.espeak_pool import WorkerPool

ENGINE_REVISION = "4"  # 2, 3: speech leveled to -19 LUFS (3: as encoded; 4: in-process limiter)

BASE_WPM = 220
MIN_WPM, MAX_WPM = 80, 450
BASE_AMPLITUDE = 55  # espeak volume 0..200; 55 keeps peaks near -3 dBFS for cmn
MAX_AMPLITUDE = 60  # above ~65 espeak's own output starts to clip
MAX_PITCH_SHIFT = 100  # Hz

# Cores per espeak worker: espeak takes about 40 ms of a clip's 230 ms of CPU
# (benchmarks/espeak_workers.py, benchmarks/scale.py), the rest is leveling and encoding.
WORKER_CORES = 4

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


def _request(speaker: Speaker) -> tuple[str, str | None, int, int]:
    """(voice name, its deterministic voice file, wpm, amplitude) for `speaker`."""
    wpm = espeak_rate(speaker.rate)
    pitch = espeak_pitch_shift(speaker.pitch)
    amplitude = espeak_amplitude(speaker.volume)
    name = _espeak_voice_name(speaker)
    from digest.engines.espeak_voices import flat_voice_file

    try:
        voice_file = flat_voice_file(espeak.data_path(), name, pitch)
    except espeak.EspeakError as exc:
        raise EngineError(str(exc), retryable=False) from None
    return name, voice_file, wpm, amplitude


def _speech(text: str, pcm: bytes | bytearray, events, in_rate: int) -> Speech:
    """Level and encode espeak's PCM; sentence boundaries from its events."""
    if not pcm:
        raise EngineError("espeak produced no audio for this text", retryable=False)
    # Level the speech before its one encoding: the episode then needs no second generation.
    # (Imported here: numpy is loaded only by a build that synthesizes offline speech.)
    from digest.leveling import encode_leveled

    frames, blocks = encode_leveled(pcm, in_rate)
    boundaries = _boundaries(text, events, in_rate, frames.duration)
    return Speech(audio=frames.data, boundaries=boundaries, blocks=blocks)


def _speak_blocking(text: str, speaker: Speaker, pool: WorkerPool) -> Speech:
    from digest.engines.espeak_pool import WorkerLost

    name, voice_file, wpm, amplitude = _request(speaker)
    try:
        utterance = pool.speak(text, name, voice_file, wpm, amplitude)
    except espeak.EspeakError as exc:
        raise EngineError(str(exc), retryable=False) from None
    except WorkerLost as exc:
        raise EngineError(str(exc), retryable=True) from None
    return _speech(text, utterance.pcm, utterance.events, utterance.sample_rate)


def speak_in_process(text: str, speaker: Speaker) -> Speech:
    """The same clip as `OfflineEngine.synthesize`, spoken by espeak in this process.

    For comparisons (tests, benchmarks): every call leaves about 0.36 MB behind.
    """
    name, voice_file, wpm, amplitude = _request(speaker)
    try:
        with espeak.lock:
            pcm, events, in_rate = espeak.speak(text, name, voice_file, wpm, amplitude)
    except espeak.EspeakError as exc:
        raise EngineError(str(exc), retryable=False) from None
    return _speech(text, pcm, events, in_rate)


def _shut_down(
    pool: WorkerPool, executor: concurrent.futures.ThreadPoolExecutor, wait: bool
) -> None:
    pool.close()
    executor.shutdown(wait=wait, cancel_futures=True)


class OfflineEngine:
    """espeak-ng Mandarin, fully offline. Robotic but intelligible."""

    name = "offline"
    default_voice = "cmn"  # also for zh-TW / zh-HK: cmn reads Traditional characters correctly
    output_format = EPISODE_FORMAT

    def __init__(self, settings: EngineSettings = EngineSettings()) -> None:
        self._version: str | None = None  # network settings mean nothing to a local voice
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool: WorkerPool | None = None
        self._finalizer: weakref.finalize | None = None

    def available(self, timeout: float = 0.0) -> bool:
        """True if an espeak worker starts (the library loads and initializes) and lameenc imports."""
        try:
            import lameenc  # noqa: F401

            from digest.engines.espeak_pool import START_TIMEOUT, Worker

            Worker(START_TIMEOUT).stop()
        except Exception:  # noqa: BLE001 - any failure to start means "not available"
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

    @property
    def workers(self) -> WorkerPool | None:
        """The espeak worker processes of this engine (None before the first clip, after close)."""
        return self._pool

    async def synthesize(self, text: str, speaker: Speaker) -> Speech:
        if not text or not text.strip():
            raise EngineError("empty text", retryable=False)
        if self._pool is None or self._executor is None:
            self._start()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, _speak_blocking, text, speaker, self._pool
        )

    def close(self) -> None:
        """Stop the espeak workers and the engine's threads; a later clip starts new ones."""
        finalizer, self._finalizer = self._finalizer, None
        self._pool = self._executor = None
        detached = finalizer.detach() if finalizer is not None else None
        if detached is not None:
            _engine, _function, (pool, executor, _wait), _kwargs = detached
            _shut_down(pool, executor, wait=True)

    def _start(self) -> None:
        # One thread per core (leveling and encoding, most of a clip's CPU), and one
        # espeak worker per WORKER_CORES cores: espeak is a fifth of a clip's CPU, and
        # each worker adds its interpreter and espeak to the build's memory.
        from digest.engines.espeak_pool import WorkerPool

        cores = os.cpu_count() or 1
        self._pool = WorkerPool(max(1, cores // WORKER_CORES))
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=cores, thread_name_prefix="digest-offline"
        )
        # The safety net for an engine nobody closes: its workers end when it is
        # collected, or at exit (the workers would also see their input end then).
        self._finalizer = weakref.finalize(self, _shut_down, self._pool, self._executor, False)
