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
  lowering works, raising saturates early.  A final guard scales any clip whose
  PCM peak exceeds -2 dBFS down to -3 dBFS.

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
import atexit
import contextlib
import ctypes
import math
import os
import re
import shutil
import tempfile
import threading
import warnings
from ctypes import POINTER, c_char_p, c_int, c_short, c_size_t, c_uint, c_void_p
from dataclasses import dataclass

from digest.engines.base import Boundary, EngineError, Speech, VoiceSettings
from digest.mp3 import Frames, Mp3Error, read_frames

ENGINE_REVISION = "1"

BASE_WPM = 220
MIN_WPM, MAX_WPM = 80, 450
BASE_AMPLITUDE = 55  # espeak volume 0..200; 55 keeps peaks near -3 dBFS for cmn
MAX_AMPLITUDE = 60  # above ~65 espeak's own output starts to clip
MAX_PITCH_SHIFT = 100  # Hz
MIN_PITCH_HZ = 30

OUT_RATE = 24000
ENCODER_DELAY = 1105 / OUT_RATE  # lame's start delay, seen in every decoder without gapless info
PEAK_GUARD = int(32768 * 10 ** (-2 / 20))  # -2 dBFS
PEAK_TARGET = int(32768 * 10 ** (-3 / 20))  # -3 dBFS

# espeak constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME = 1, 2
_EV_LIST_TERMINATED, _EV_WORD, _EV_SENTENCE, _EV_END = 0, 1, 2, 5

_SENTENCE_END = "。！？；!?;\n"
_CLOSERS = "」』”’\"')）》〉】]"

_lock = threading.Lock()  # espeak keeps global state: one utterance at a time, process-wide


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", c_int),
        ("unique_identifier", c_uint),
        ("text_position", c_int),
        ("length", c_int),
        ("audio_position", c_int),
        ("sample", c_int),
        ("user_data", c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_SynthCallback = ctypes.CFUNCTYPE(c_int, POINTER(c_short), c_int, POINTER(_Event))


class _Espeak:
    """One load of the library. Create, use and close only under `_lock`."""

    def __init__(self) -> None:
        try:
            import espeakng_loader

            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
            self.data_path = espeakng_loader.get_data_path()
        except Exception as exc:  # ImportError, OSError
            raise EngineError(f"espeak-ng library unavailable: {exc}", retryable=False) from exc
        lib = self.lib
        lib.espeak_Initialize.argtypes = [c_int, c_int, c_char_p, c_int]
        lib.espeak_Initialize.restype = c_int
        lib.espeak_Info.argtypes = [POINTER(c_char_p)]
        lib.espeak_Info.restype = c_char_p
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetVoiceByName.argtypes = [c_char_p]
        lib.espeak_SetVoiceByFile.argtypes = [c_char_p]
        lib.espeak_SetParameter.argtypes = [c_int, c_int, c_int]
        lib.espeak_Synth.argtypes = [
            c_char_p,
            c_size_t,
            c_uint,
            c_int,
            c_uint,
            c_uint,
            c_void_p,
            c_void_p,
        ]
        lib.espeak_Synth.restype = c_int
        lib.espeak_Synchronize.restype = c_int

        self.sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, self.data_path.encode(), 0
        )
        if self.sample_rate <= 0:
            raise EngineError(f"espeak_Initialize failed ({self.sample_rate})", retryable=False)
        self.version = (lib.espeak_Info(None) or b"?").decode("ascii", "replace")

        self.pcm = bytearray()
        self.events: list[tuple[int, int, int]] = []  # (type, text_position, sample)
        # Keep the callback referenced for the life of the process: espeak holds a raw pointer.
        self._callback = _SynthCallback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)
        self._voice_files = _VOICE_FILES  # private voice copies outlive the library instance

    def _on_audio(self, wav, n, events) -> int:
        if n > 0:
            self.pcm.extend(ctypes.string_at(wav, n * 2))
        i = 0
        while events[i].type != _EV_LIST_TERMINATED:
            ev = events[i]
            if ev.type in (_EV_WORD, _EV_SENTENCE, _EV_END):
                self.events.append((ev.type, ev.text_position, ev.sample))
            i += 1
        return 0

    # -- voices ---------------------------------------------------------
    def _find_voice_file(self, base: str) -> str | None:
        lang_dir = os.path.join(self.data_path, "lang")
        by_language = None
        for root, _dirs, files in sorted(os.walk(lang_dir)):
            for f in sorted(files):
                path = os.path.join(root, f)
                if f.lower() == base.lower():
                    return path
                if by_language is None:
                    try:
                        with open(path, "rb") as fh:
                            head = fh.read(2048)
                    except OSError:
                        continue
                    if re.search(
                        rb"(?m)^language\s+" + re.escape(base.encode()) + rb"(\s|$)", head
                    ):
                        by_language = path
        return by_language

    def _private_dir(self) -> str | None:
        # espeak copies voice paths into a small fixed buffer: keep them short (<= 48 chars).
        global _VOICE_DIR
        if _VOICE_DIR is None:
            for parent in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
                if len(parent) > 28 or not os.path.isdir(parent):
                    continue
                try:
                    _VOICE_DIR = tempfile.mkdtemp(prefix="dgst", dir=parent)
                    atexit.register(shutil.rmtree, _VOICE_DIR, True)
                    break
                except OSError:
                    continue
        return _VOICE_DIR

    def _flat_voice_file(self, name: str, pitch_shift: int) -> str | None:
        """A private copy of voice `name`: `flutter 0` (deterministic) and pitch shifted, or None."""
        key = f"{name}@{pitch_shift}"
        if key in self._voice_files:
            return self._voice_files[key]
        result = None
        base, _, variant = name.partition("+")
        src = self._find_voice_file(base)
        folder = self._private_dir()
        if src and folder:
            with open(src, "rb") as fh:
                lines = [
                    ln for ln in fh.read().splitlines() if not ln.strip().startswith(b"flutter")
                ]
            if variant:
                vpath = os.path.join(self.data_path, "voices", "!v", variant)
                if not os.path.isfile(vpath):
                    raise EngineError(f"unknown espeak voice variant: {variant!r}", retryable=False)
                with open(vpath, "rb") as fh:
                    lines += [
                        ln
                        for ln in fh.read().splitlines()
                        if not ln.strip().startswith((b"name", b"language", b"flutter"))
                    ]
            lines = _shift_pitch(lines, pitch_shift)
            lines.append(b"flutter 0")
            path = os.path.join(folder, f"v{len(self._voice_files)}")
            if len(path) <= 48:
                with open(path, "wb") as fh:
                    fh.write(b"\n".join(lines) + b"\n")
                result = path
        self._voice_files[key] = result
        return result

    def set_voice(self, name: str, pitch_shift: int = 0) -> None:
        flat = self._flat_voice_file(name, pitch_shift)
        if flat is not None and self.lib.espeak_SetVoiceByFile(flat.encode()) == 0:
            return
        # Fallback: the stock voice (works, but espeak's flutter makes it non-deterministic
        # and the pitch setting is ignored).
        if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise EngineError(f"unknown espeak voice: {name!r}", retryable=False)

    def close(self) -> None:
        """Terminate espeak and unload the library, so the next load starts from clean statics."""
        try:
            self.lib.espeak_Terminate()
        finally:
            handle = getattr(self.lib, "_handle", None)
            self.lib = None  # type: ignore[assignment]
            if handle is not None:
                import _ctypes

                unload = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
                if unload is not None:
                    try:
                        unload(handle)
                    except OSError:
                        pass

    # -- synthesis --------------------------------------------------------
    def synth(self, text: str, voice: str, wpm: int, pitch_shift: int, amplitude: int):
        # Pitch goes into the voice file, never through espeakPITCH: changing that parameter
        # leaves state behind that alters later utterances (breaks determinism).
        self.set_voice(voice, pitch_shift)
        self.lib.espeak_SetParameter(_RATE, wpm, 0)
        self.lib.espeak_SetParameter(_VOLUME, amplitude, 0)
        self.pcm = bytearray()
        self.events = []
        data = text.encode("utf-8") + b"\0"
        rc = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if rc != 0:
            raise EngineError(f"espeak_Synth failed ({rc})", retryable=False)
        self.lib.espeak_Synchronize()
        pcm, events = bytes(self.pcm), list(self.events)
        self.pcm, self.events = bytearray(), []
        return pcm, events


_VOICE_FILES: dict[str, str | None] = {}
_VOICE_DIR: str | None = None
_LIB_VERSION: str | None = None


@contextlib.contextmanager
def _fresh_espeak():
    """A freshly loaded espeak for one utterance. Call with `_lock` held.

    espeak-ng keeps hidden static state between utterances (flutter index, pitch and
    clause state) that makes the same text come out slightly different depending on
    what was spoken before.  Loading the library afresh for each utterance (about
    1 ms) and unloading it afterwards makes every clip byte-identical.
    """
    global _LIB_VERSION
    engine = _Espeak()
    _LIB_VERSION = engine.version
    try:
        yield engine
    finally:
        engine.close()


def offline_available() -> bool:
    """True if the espeak-ng library loads and initializes (and lameenc imports)."""
    try:
        with _lock, _fresh_espeak():
            pass
        import lameenc  # noqa: F401
    except Exception:
        return False
    return True


# -- settings ---------------------------------------------------------------
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


def _shift_pitch(lines: list[bytes], shift: int) -> list[bytes]:
    """Shift every `pitch <base> <top>` line by `shift` Hz (espeak's default is 82 118)."""
    if not shift:
        return lines
    out, seen = [], False
    for ln in lines:
        parts = ln.split()
        if len(parts) >= 3 and parts[0] == b"pitch" and parts[1].isdigit() and parts[2].isdigit():
            lo, hi = int(parts[1]) + shift, int(parts[2]) + shift
            ln, seen = b"pitch %d %d" % (max(MIN_PITCH_HZ, lo), max(MIN_PITCH_HZ + 10, hi)), True
        out.append(ln)
    if not seen:
        out.append(
            b"pitch %d %d" % (max(MIN_PITCH_HZ, 82 + shift), max(MIN_PITCH_HZ + 10, 118 + shift))
        )
    return out


def espeak_amplitude(volume: str) -> int:
    pct = _signed(volume, "%", "volume")
    return max(0, min(MAX_AMPLITUDE, round(BASE_AMPLITUDE * (1 + pct / 100))))


# -- PCM / MP3 ----------------------------------------------------------------
def _audioop():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop  # type: ignore[import-not-found]
        except ImportError:  # Python >= 3.13 without audioop-lts
            return None
    return audioop


def _limit_peak(pcm: bytes) -> bytes:
    """Scale the clip down to -3 dBFS if its peak is above -2 dBFS."""
    ao = _audioop()
    if ao is not None:
        peak = ao.max(pcm, 2) if pcm else 0
        if peak > PEAK_GUARD:
            return ao.mul(pcm, 2, PEAK_TARGET / peak)
        return pcm
    import array

    a = array.array("h")
    a.frombytes(pcm)
    peak = max((abs(x) for x in a), default=0)
    if peak > PEAK_GUARD:
        f = PEAK_TARGET / peak
        a = array.array("h", (int(x * f) for x in a))
    return a.tobytes()


def _encode_mp3(pcm: bytes, in_rate: int) -> Frames:
    try:
        import lameenc
    except ImportError as exc:
        raise EngineError(f"lameenc unavailable: {exc}", retryable=False) from exc
    enc = lameenc.Encoder()
    enc.set_in_sample_rate(in_rate)
    enc.set_out_sample_rate(OUT_RATE)
    enc.set_channels(1)
    enc.set_bit_rate(48)
    enc.set_quality(2)
    mp3 = bytes(enc.encode(pcm) + enc.flush())
    try:
        frames = read_frames(mp3)  # every frame in the episode format, nothing else
    except Mp3Error as exc:
        raise EngineError(f"lameenc produced unexpected output: {exc}", retryable=False) from exc
    if frames.data != mp3:
        raise EngineError("lameenc output is not whole bare frames", retryable=False)
    return frames


# -- sentence boundaries ---------------------------------------------------------
@dataclass
class _Sentence:
    start: int  # code-point offset into the text (0-based, inclusive)
    end: int  # exclusive
    text: str


def split_sentences(text: str) -> list[_Sentence]:
    """Split at 。！？；!?; and newlines, keeping closing quotes with their sentence."""
    out: list[_Sentence] = []
    i, n, start = 0, len(text), 0
    while i < n:
        if text[i] in _SENTENCE_END:
            j = i + 1
            while j < n and (text[j] in _SENTENCE_END.replace("\n", "") or text[j] in _CLOSERS):
                j += 1
            out.append(_Sentence(start, j, text[start:j]))
            start = i = j
        else:
            i += 1
    if start < n:
        out.append(_Sentence(start, n, text[start:]))
    # drop whitespace-only pieces; merge pieces with nothing speakable into the previous one
    merged: list[_Sentence] = []
    for s in out:
        if not s.text.strip():
            continue
        if merged and not any(ch.isalnum() for ch in s.text):
            prev = merged[-1]
            merged[-1] = _Sentence(prev.start, s.end, text[prev.start : s.end])
        else:
            merged.append(s)
    for k, s in enumerate(merged):
        lead = len(s.text) - len(s.text.lstrip())
        merged[k] = _Sentence(s.start + lead, s.end, s.text.strip())
    return merged


def _boundaries(text: str, events, in_rate: int, duration: float) -> tuple[Boundary, ...]:
    sentences = split_sentences(text)
    if not sentences:
        return ()
    speech_end = duration
    # first event sample inside each sentence (text_position is 1-based code points)
    starts: list[float | None] = []
    for s in sentences:
        samples = [
            smp
            for typ, pos, smp in events
            if typ in (_EV_WORD, _EV_SENTENCE) and s.start < pos <= s.end
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


def _espeak_voice_name(voice: VoiceSettings) -> str:
    """The espeak voice to use; edge-tts names (``*Neural``) and blanks become ``cmn``."""
    name = (voice.voice or "").strip()
    if not name or name.endswith("Neural"):
        return "cmn"  # also for zh-TW / zh-HK: cmn reads Traditional characters correctly
    return name


def _speak_blocking(text: str, voice: VoiceSettings) -> Speech:
    wpm = espeak_rate(voice.rate)
    pitch = espeak_pitch_shift(voice.pitch)
    amplitude = espeak_amplitude(voice.volume)
    name = _espeak_voice_name(voice)
    with _lock, _fresh_espeak() as engine:
        pcm, events = engine.synth(text, name, wpm, pitch, amplitude)
        in_rate = engine.sample_rate
    if not pcm:
        raise EngineError("espeak produced no audio for this text", retryable=False)
    pcm = _limit_peak(pcm)
    frames = _encode_mp3(pcm, in_rate)
    boundaries = _boundaries(text, events, in_rate, frames.duration)
    return Speech(audio=frames.data, boundaries=boundaries)


def _library_version() -> str:
    if _LIB_VERSION is None:
        try:
            with _lock, _fresh_espeak():
                pass
        except EngineError:
            return "unavailable"
    return _LIB_VERSION or "unavailable"


class OfflineEngine:
    """espeak-ng Mandarin, fully offline. Robotic but intelligible."""

    name = "offline"

    def __init__(self) -> None:
        self._version: str | None = None

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = (
                f"espeak-ng-{_library_version()}+lameenc+digest-offline-r{ENGINE_REVISION}"
            )
        return self._version

    async def synthesize(self, text: str, voice: VoiceSettings) -> Speech:
        if not text or not text.strip():
            raise EngineError("empty text", retryable=False)
        return await asyncio.to_thread(_speak_blocking, text, voice)
