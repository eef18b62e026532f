"""ctypes binding to espeak-ng 1.52 (library and data from the `espeakng-loader` wheel).

Only what the offline engine needs: load, initialize, pick a voice, set rate
and volume, synthesize one utterance synchronously collecting PCM and
WORD/SENTENCE/END events, and unload.  Each utterance gets a freshly loaded
library (`speak`, `fresh_espeak`): see `digest.engines.offline` for why.

Standard library only, and nothing from digest: the espeak worker process
(`digest.engines.espeak_worker`) loads this file by its path, so that a worker
costs an interpreter and espeak, not the digest package.  Failures raise
`EspeakError`; the engine turns them into `EngineError`s.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator
from ctypes import POINTER, c_char_p, c_int, c_short, c_size_t, c_uint, c_void_p

# espeak constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME = 1, 2
EV_LIST_TERMINATED, EV_WORD, EV_SENTENCE, EV_END = 0, 1, 2, 5

# espeak keeps global state: in one process, one utterance at a time (the engine itself
# speaks in worker processes, one utterance at a time each; this is for in-process use)
lock = threading.Lock()
_library_version: str | None = None

Event = tuple[int, int, int]  # (type, text_position, sample)


class EspeakError(Exception):
    """espeak cannot do what was asked (library missing, unknown voice, synthesis failed).
    Asking again gives the same answer."""


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


def _load() -> tuple[ctypes.CDLL, str]:
    """The library, freshly loaded, and espeak's data folder."""
    try:
        import espeakng_loader

        return ctypes.CDLL(espeakng_loader.get_library_path()), espeakng_loader.get_data_path()
    except Exception as exc:  # ImportError, OSError
        raise EspeakError(f"espeak-ng library unavailable: {exc}") from exc


def _unload(lib: ctypes.CDLL) -> None:
    handle = getattr(lib, "_handle", None)
    if handle is None:
        return
    import _ctypes

    unload = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
    if unload is not None:
        with contextlib.suppress(OSError):
            unload(handle)


class EspeakLibrary:
    """One load of the library. Create, use and close it in one thread, one at a time per process."""

    def __init__(self) -> None:
        self.lib, self.data_path = _load()
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
            _unload(lib)
            raise EspeakError(f"espeak_Initialize failed ({self.sample_rate})")
        self.version = (lib.espeak_Info(None) or b"?").decode("ascii", "replace")

        self.pcm = bytearray()
        self.events: list[Event] = []
        # Keep the callback referenced while the library is loaded: espeak holds a raw pointer.
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

    def set_voice(self, name: str, voice_file: str | None) -> None:
        """Speak with `voice_file` (a deterministic copy, see `espeak_voices`), else voice `name`."""
        if voice_file is not None and self.lib.espeak_SetVoiceByFile(voice_file.encode()) == 0:
            return
        # Fallback: the stock voice (works, but espeak's flutter makes it non-deterministic
        # and the pitch setting is ignored).
        if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise EspeakError(f"unknown espeak voice: {name!r}")

    def close(self) -> None:
        """Terminate espeak and unload the library, so the next load starts from clean statics."""
        try:
            self.lib.espeak_Terminate()
        finally:
            lib, self.lib = self.lib, None  # type: ignore[assignment]
            _unload(lib)

    # -- synthesis --------------------------------------------------------
    def synth(
        self, text: str, voice: str, voice_file: str | None, wpm: int, amplitude: int
    ) -> tuple[bytearray, list[Event]]:
        """16-bit mono PCM at `sample_rate` and the WORD/SENTENCE/END events of `text`."""
        # Pitch goes into the voice file, never through espeakPITCH: changing that parameter
        # leaves state behind that alters later utterances (breaks determinism).
        self.set_voice(voice, voice_file)
        self.lib.espeak_SetParameter(_RATE, wpm, 0)
        self.lib.espeak_SetParameter(_VOLUME, amplitude, 0)
        self.pcm = bytearray()
        self.events = []
        data = text.encode("utf-8") + b"\0"
        rc = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if rc != 0:
            raise EspeakError(f"espeak_Synth failed ({rc})")
        self.lib.espeak_Synchronize()
        pcm, events = self.pcm, self.events
        self.pcm, self.events = bytearray(), []
        return pcm, events


@contextlib.contextmanager
def fresh_espeak() -> Iterator[EspeakLibrary]:
    """A freshly loaded espeak for one utterance (in-process: hold `lock`).

    espeak-ng keeps hidden static state between utterances (flutter index, pitch and
    clause state) that makes the same text come out slightly different depending on
    what was spoken before.  Loading the library afresh for each utterance (about
    1 ms) and unloading it afterwards makes every clip byte-identical.  Each load
    leaves about 0.36 MB behind in the process, which is why the engine speaks in
    worker processes that renew themselves every few utterances.
    """
    global _library_version
    engine = EspeakLibrary()
    _library_version = engine.version
    try:
        yield engine
    finally:
        engine.close()


def speak(
    text: str, voice: str, voice_file: str | None, wpm: int, amplitude: int
) -> tuple[bytearray, list[Event], int]:
    """One utterance from a fresh library: (PCM, events, sample rate). In-process: hold `lock`."""
    with fresh_espeak() as library:
        pcm, events = library.synth(text, voice, voice_file, wpm, amplitude)
        return pcm, events, library.sample_rate


def data_path() -> str:
    """espeak's data folder (voices, dictionaries); EspeakError when the wheel is missing."""
    try:
        import espeakng_loader

        return espeakng_loader.get_data_path()
    except Exception as exc:  # ImportError
        raise EspeakError(f"espeak-ng library unavailable: {exc}") from exc


def library_version() -> str:
    """espeak-ng's own version string, or "unavailable" when the library does not load.

    Asked of a loaded but uninitialized library (espeak_Info only returns a static
    string), so it costs a load and an unload and leaves nothing behind.
    """
    global _library_version
    if _library_version is None:
        with lock:
            try:
                lib, _ = _load()
            except EspeakError:
                return "unavailable"
            try:
                lib.espeak_Info.argtypes = [POINTER(c_char_p)]
                lib.espeak_Info.restype = c_char_p
                _library_version = (lib.espeak_Info(None) or b"?").decode("ascii", "replace")
            finally:
                _unload(lib)
    return _library_version or "unavailable"
