"""ctypes binding to espeak-ng 1.52 (library and data from the `espeakng-loader` wheel).

Only what the offline engine needs: load, initialize, pick a voice, set rate
and volume, synthesize one utterance synchronously collecting PCM and
WORD/SENTENCE/END events, and unload.  espeak keeps process-wide state, so
every use holds `lock`, and each utterance gets a freshly loaded library
(`fresh_espeak`): see `digest.engines.offline` for why.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator
from ctypes import POINTER, c_char_p, c_int, c_short, c_size_t, c_uint, c_void_p

from digest.engines.espeak_voices import flat_voice_file
from digest.errors import EngineError

# espeak constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME = 1, 2
EV_LIST_TERMINATED, EV_WORD, EV_SENTENCE, EV_END = 0, 1, 2, 5

lock = threading.Lock()  # espeak keeps global state: one utterance at a time, process-wide
_library_version: str | None = None


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


class EspeakLibrary:
    """One load of the library. Create, use and close only under `lock`."""

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

    def _on_audio(self, wav, n, events) -> int:
        if n > 0:
            self.pcm.extend(ctypes.string_at(wav, n * 2))
        i = 0
        while events[i].type != EV_LIST_TERMINATED:
            ev = events[i]
            if ev.type in (EV_WORD, EV_SENTENCE, EV_END):
                self.events.append((ev.type, ev.text_position, ev.sample))
            i += 1
        return 0

    def set_voice(self, name: str, pitch_shift: int = 0) -> None:
        flat = flat_voice_file(self.data_path, name, pitch_shift)
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


@contextlib.contextmanager
def fresh_espeak() -> Iterator[EspeakLibrary]:
    """A freshly loaded espeak for one utterance. Call with `lock` held.

    espeak-ng keeps hidden static state between utterances (flutter index, pitch and
    clause state) that makes the same text come out slightly different depending on
    what was spoken before.  Loading the library afresh for each utterance (about
    1 ms) and unloading it afterwards makes every clip byte-identical.
    """
    global _library_version
    engine = EspeakLibrary()
    _library_version = engine.version
    try:
        yield engine
    finally:
        engine.close()


def library_version() -> str:
    """espeak-ng's own version string, or "unavailable" when the library does not load."""
    if _library_version is None:
        try:
            with lock, fresh_espeak():
                pass
        except EngineError:
            return "unavailable"
    return _library_version or "unavailable"
