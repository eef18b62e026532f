"""Decoding for tests: what a player would hear, through pydub and ffmpeg."""

from __future__ import annotations

import io
import subprocess
from typing import TYPE_CHECKING

from digest.ffmpeg import ffmpeg_exe, pydub_segment_class

if TYPE_CHECKING:
    from pydub import AudioSegment

__all__ = ["decode_errors", "decode_mp3", "ffmpeg_exe"]


def decode_mp3(data: bytes) -> AudioSegment:
    return pydub_segment_class().from_file(io.BytesIO(data), format="mp3", codec="mp3")


def decode_errors(path: str) -> str:
    """What ffmpeg complains about while decoding all the audio ('' when clean)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", path, "-map", "0:a", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stderr.strip()
