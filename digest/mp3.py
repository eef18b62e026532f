"""MPEG audio frames: just enough parsing to join clips without re-encoding.

Joining MP3 files byte for byte breaks players (an ID3 tag or a Xing/Info frame
in mid-stream gives decode errors and a wrong duration), while decoding and
re-encoding costs a second lossy generation.  So each clip is reduced to its
bare audio frames, and the frames are concatenated.  For CBR audio the
duration is then exact: frames x samples per frame / sample rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.errors import Mp3Error

# Layer III bitrates in kbps, indexed by the 4-bit bitrate field.
_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class FrameFormat:
    """What must match for two frame streams to be joined."""

    version: int  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5 (the header's own encoding)
    sample_rate: int
    bitrate_kbps: int
    channels: int

    @property
    def samples_per_frame(self) -> int:
        return 1152 if self.version == 3 else 576


# edge-tts always answers in this format; the offline engine encodes to it too.
EPISODE_FORMAT = FrameFormat(version=2, sample_rate=24000, bitrate_kbps=48, channels=1)


@dataclass(frozen=True)
class Frames:
    """Bare MPEG audio frames of one format, without tags or a Xing/Info frame."""

    data: bytes
    count: int
    format: FrameFormat

    @property
    def duration(self) -> float:
        return self.count * self.format.samples_per_frame / self.format.sample_rate


def _parse_header(b: bytes, pos: int) -> tuple[FrameFormat, int] | None:
    """Return (format, frame length) for a Layer III header at `pos`, or None."""
    if pos + 4 > len(b) or b[pos] != 0xFF or (b[pos + 1] & 0xE0) != 0xE0:
        return None
    version = (b[pos + 1] >> 3) & 0x3
    layer = (b[pos + 1] >> 1) & 0x3
    bitrate_index = b[pos + 2] >> 4
    rate_index = (b[pos + 2] >> 2) & 0x3
    padding = (b[pos + 2] >> 1) & 0x1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = (_BITRATES_V1 if version == 3 else _BITRATES_V2)[bitrate_index]
    sample_rate = _SAMPLE_RATES[version][rate_index]
    channels = 1 if (b[pos + 3] >> 6) == 3 else 2
    coefficient = 144 if version == 3 else 72
    length = coefficient * bitrate * 1000 // sample_rate + padding
    return FrameFormat(version, sample_rate, bitrate, channels), length


ID3_HEADER_SIZE = 10


def id3v2_body_size(header: bytes) -> int:
    """The size of an ID3v2 tag's frames and padding, from its 10-byte header (a syncsafe integer)."""
    size = 0
    for byte in header[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return size


def _skip_id3v2(b: bytes) -> int:
    pos = 0
    while b[pos : pos + 3] == b"ID3" and len(b) >= pos + ID3_HEADER_SIZE:
        footer = 10 if b[pos + 5] & 0x10 else 0
        pos += ID3_HEADER_SIZE + id3v2_body_size(b[pos : pos + ID3_HEADER_SIZE]) + footer
    return pos


def _trailing_tags_start(b: bytes) -> int:
    end = len(b)
    if end >= 128 and b[end - 128 : end - 125] == b"TAG":
        end -= 128
    if end >= 32 and b[end - 32 : end - 24] == b"APETAGEX":
        ape_size = int.from_bytes(b[end - 20 : end - 16], "little")
        end -= ape_size + (32 if b[end - 32 + 23] & 0x80 else 0)
    return max(end, 0)


def _is_info_frame(b: bytes, pos: int, fmt: FrameFormat, length: int) -> bool:
    # The Xing/Info tag sits right after the header and the side information.
    if fmt.version == 3:
        side_info = 17 if fmt.channels == 1 else 32
    else:
        side_info = 9 if fmt.channels == 1 else 17
    tag = b[pos + 4 + side_info : pos + 8 + side_info]
    return tag in (b"Xing", b"Info") or b[pos + 36 : pos + 40] == b"VBRI"


def read_frames(mp3: bytes, expected: FrameFormat | None = EPISODE_FORMAT) -> Frames:
    """Strip tags and the Xing/Info frame; check every frame has the same format.

    A truncated last frame (a stream cut mid-frame) is dropped rather than kept,
    because a partial frame is a decode error in every player.
    """
    pos = _skip_id3v2(mp3)
    end = _trailing_tags_start(mp3)
    start = pos
    count = 0
    fmt: FrameFormat | None = None
    first = True
    while pos < end:
        parsed = _parse_header(mp3, pos)
        if parsed is None:
            raise Mp3Error(f"no MPEG audio frame at byte {pos}")
        frame_format, length = parsed
        if pos + length > end:
            break
        if first:
            first = False
            if _is_info_frame(mp3, pos, frame_format, length):
                pos += length
                start = pos
                continue
        if fmt is None:
            fmt = frame_format
        elif frame_format != fmt:
            raise Mp3Error(f"frame at byte {pos} is {frame_format}, earlier frames are {fmt}")
        pos += length
        count += 1
    if fmt is None:
        raise Mp3Error("no MPEG audio frames")
    if expected is not None and fmt != expected:
        raise Mp3Error(f"audio is {fmt}, expected {expected}")
    return Frames(data=mp3[start:pos], count=count, format=fmt)


def silence(seconds: float, fmt: FrameFormat = EPISODE_FORMAT) -> Frames:
    """Encoded digital silence: whole frames with empty side info and main data.

    Frames whose main data is all zero decode to silence and use no bit
    reservoir, so they can sit between any two clips.
    """
    if fmt != EPISODE_FORMAT:
        raise ValueError("silence is only built for the episode format")
    frame = bytes([0xFF, 0xF3, 0x64, 0xC4]) + bytes(140)
    count = round(seconds * fmt.sample_rate / fmt.samples_per_frame)
    return Frames(data=frame * count, count=count, format=fmt)


def join(parts: list[Frames]) -> Frames:
    if not parts:
        raise ValueError("nothing to join")
    fmt = parts[0].format
    for part in parts:
        if part.format != fmt:
            raise Mp3Error(f"cannot join {part.format} to {fmt}")
    return Frames(
        data=b"".join(p.data for p in parts), count=sum(p.count for p in parts), format=fmt
    )
