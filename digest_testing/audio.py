"""Decoding for tests: what a player would hear, through pydub and ffmpeg."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from digest.ffmpeg import ffmpeg_exe, pydub_segment_class

if TYPE_CHECKING:
    from pydub import AudioSegment

__all__ = ["decode_errors", "decode_mp3", "ebur128", "ffmpeg_exe"]


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


def ebur128(path: Path) -> dict[str, float]:
    """ffmpeg's own BS.1770 measurement of a file, independent of digest's meter:
    integrated loudness "I" (LUFS), true peak "TP" (dBTP) and loudness range "LRA" (LU)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a"]
        + ["-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        encoding="utf-8",
        errors="replace",  # ffmpeg cuts long tag values mid-character
        check=True,
    )
    summary = result.stderr[result.stderr.rindex("Summary:") :]
    return {
        "I": float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
        "TP": float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1)),
        "LRA": float(re.search(r"LRA:\s+([\d.]+) LU", summary).group(1)),
    }
