"""ffmpeg, and pydub over it, for audio that is not ours to join frame by frame.

Story audio is never decoded: clips are joined as MP3 frames (`digest.mp3`).
What does need decoding is audio a user supplies in any format (an intro
jingle or a music bed) and measurement.  ffmpeg comes from the system when it
is on PATH, otherwise from the imageio-ffmpeg wheel, which has no ffprobe:
pydub is therefore always told the format, the path on which it does not call
ffprobe.
"""

from __future__ import annotations

import shutil
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydub import AudioSegment


@lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    """The path of an ffmpeg binary: the system's, else the one the imageio-ffmpeg wheel ships."""
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def pydub_segment_class() -> type[AudioSegment]:
    """pydub's AudioSegment, pointed at our ffmpeg (imported on first use: it is slow)."""
    with warnings.catch_warnings():
        # pydub looks for ffmpeg at import time; the converter is set just below.
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg or avconv")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_exe()
    return AudioSegment


def decode_audio(path: Path, format: str | None = None) -> AudioSegment:
    """Decode an audio file in any format ffmpeg reads (mp3, wav, m4a, ogg, flac, ...).

    `format` defaults to the file's extension.
    """
    segment = pydub_segment_class()
    fmt = format or path.suffix.lstrip(".").lower() or None
    return segment.from_file(str(path), format=fmt, codec="mp3" if fmt == "mp3" else None)
