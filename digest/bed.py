"""A music bed or sting under the intro: the one place an episode is re-encoded.

The intro's frames are decoded, the user's audio (any format ffmpeg reads) is
mixed under them with pydub, quieter and faded out, and the result is encoded
back to the episode's exact frame format by `digest.encoding.encode_pcm`.  The new intro is cut
or padded to the same number of frames as the old one, so every chapter time
after it stays exact; story audio is never touched.  Cutting is safe because
the intro ends in encoded silence and the next clip's first frame does not
reach back into the bit reservoir (every clip starts a fresh encoder).
"""

from __future__ import annotations

import io
from pathlib import Path

from digest.encoding import encode_pcm
from digest.errors import InputError
from digest.ffmpeg import decode_audio, pydub_segment_class
from digest.frame_stream import FrameStream
from digest.mp3 import EPISODE_FORMAT, Frames, join, silence

BED_GAIN_DB = -18.0  # under the voice, not competing with it
FADE_OUT_MS = 1500


def mix_under_intro(
    audio: FrameStream, intro_frames: int, bed: Path, gain_db: float = BED_GAIN_DB
) -> FrameStream:
    """`audio` with `bed` mixed under its first `intro_frames` frames; same frame count."""
    if audio.format != EPISODE_FORMAT:
        raise ValueError("a bed is only mixed into the episode format")
    size = EPISODE_FORMAT.frame_length  # every frame of it: 24 kHz, 48 kbps needs no padding
    head, rest = audio.split(intro_frames)
    intro = head.to_frames()
    try:
        music = decode_audio(bed)
    except FileNotFoundError:
        raise InputError(f"intro bed {bed} does not exist") from None
    except Exception as exc:  # pydub raises CouldntDecodeError, ffmpeg's own text inside
        raise InputError(
            f"intro bed {bed}: not audio ffmpeg can decode ({type(exc).__name__})"
        ) from None
    segment = pydub_segment_class()
    voice = segment.from_file(io.BytesIO(intro.data), format="mp3", codec="mp3")
    voice = voice.set_channels(1).set_sample_width(2)
    music = music.set_frame_rate(voice.frame_rate).set_channels(1).set_sample_width(2)
    music = music[: len(voice)].apply_gain(gain_db).fade_out(min(FADE_OUT_MS, len(music)))
    mixed = voice.overlay(music)
    encoded = encode_pcm(mixed.raw_data, mixed.frame_rate)  # peak-limited, so the mix never clips
    if encoded.count >= intro_frames:
        encoded = Frames(encoded.data[: intro_frames * size], intro_frames, encoded.format)
    else:
        missing = intro_frames - encoded.count
        quiet = silence(1.0, encoded.format).data[:size]
        encoded = join([encoded, Frames(quiet * missing, missing, encoded.format)])
    return FrameStream((encoded, *rest.parts))
