"""espeak voice files, made deterministic: private copies with `flutter 0` and a pitch shift.

espeak's pitch parameter leaves state behind that alters later utterances, so
pitch is written into a private copy of the voice file instead, and flutter
(a per-utterance random wobble) is switched off.  The copies live in a short
temporary folder (espeak copies voice paths into a 48-byte buffer) that is
removed at exit.  The engine's parent process writes them; its espeak worker
processes only read them.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading

from digest.errors import EngineError

MIN_PITCH_HZ = 30

_VOICE_FILES: dict[str, str | None] = {}  # "name@shift" -> private copy (None: use the stock voice)
_VOICE_DIR: str | None = None
_LOCK = threading.Lock()  # engine threads ask at the same time; each file is written once


def _find_voice_file(data_path: str, base: str) -> str | None:
    lang_dir = os.path.join(data_path, "lang")
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
                if re.search(rb"(?m)^language\s+" + re.escape(base.encode()) + rb"(\s|$)", head):
                    by_language = path
    return by_language


def _private_dir() -> str | None:
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


def flat_voice_file(data_path: str, name: str, pitch_shift: int) -> str | None:
    """A private copy of voice `name`: `flutter 0` (deterministic) and pitch shifted, or None."""
    with _LOCK:
        return _flat_voice_file(data_path, name, pitch_shift)


def _flat_voice_file(data_path: str, name: str, pitch_shift: int) -> str | None:
    key = f"{name}@{pitch_shift}"
    if key in _VOICE_FILES:
        return _VOICE_FILES[key]
    result = None
    base, _, variant = name.partition("+")
    src = _find_voice_file(data_path, base)
    folder = _private_dir()
    if src and folder:
        with open(src, "rb") as fh:
            lines = [ln for ln in fh.read().splitlines() if not ln.strip().startswith(b"flutter")]
        if variant:
            vpath = os.path.join(data_path, "voices", "!v", variant)
            if not os.path.isfile(vpath):
                raise EngineError(f"unknown espeak voice variant: {variant!r}", retryable=False)
            with open(vpath, "rb") as fh:
                lines += [
                    ln
                    for ln in fh.read().splitlines()
                    if not ln.strip().startswith((b"name", b"language", b"flutter"))
                ]
        lines = shift_pitch(lines, pitch_shift)
        lines.append(b"flutter 0")
        path = os.path.join(folder, f"v{len(_VOICE_FILES)}")
        if len(path) <= 48:
            with open(path, "wb") as fh:
                fh.write(b"\n".join(lines) + b"\n")
            result = path
    _VOICE_FILES[key] = result
    return result


def shift_pitch(lines: list[bytes], shift: int) -> list[bytes]:
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
