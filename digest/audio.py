"""Decoded audio, where it is needed (tests, checks, loudness): pydub over ffmpeg.

The episode itself is never decoded: clips are joined as MP3 frames
(`digest.mp3`).  ffmpeg comes from the system when it is on PATH, otherwise
from the imageio-ffmpeg wheel, which has no ffprobe: pydub is therefore
always given `codec="mp3"`, the one path on which it does not call ffprobe.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from functools import lru_cache

with warnings.catch_warnings():
    # pydub looks for ffmpeg at import time; the converter is set just below.
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg or avconv")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from pydub import AudioSegment


@lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decode_mp3(data: bytes) -> AudioSegment:
    AudioSegment.converter = ffmpeg_exe()
    return AudioSegment.from_file(io.BytesIO(data), format="mp3", codec="mp3")


def decode_errors(path: str) -> str:
    """What ffmpeg complains about while decoding all the audio ('' when clean)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", path, "-map", "0:a", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stderr.strip()
