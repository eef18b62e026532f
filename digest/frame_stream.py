"""An episode's audio as a list of parts, written out without ever being in memory whole.

A three-hour episode is about 65 MB of MP3 frames.  Holding it (and a joined
copy, and the tag in front of it) would make memory grow with the episode, so
the audio is planned rather than joined: a `FrameStream` is the sequence of
its parts, each either frames in memory (the pauses, a re-encoded intro) or
`StoredFrames`, a clip's frames still in its file in the clip cache.  Every
time and size the tag needs (frame count, byte count, chapter times) follows
from the parts' frame counts, so the tag is written first and the clips are
then copied from the cache one at a time, with the loudness gain applied on
the way.

A stored clip was verified against its SHA-256 when it was looked up; it is
checked again as it is copied, so a cache entry replaced meanwhile (by another
build of the same text) can never put audio of another length into an episode
whose chapter times were computed from the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Union

from digest.cache import MAX_AUDIO_BYTES, BadEntry, StoredClip, read_regular, register_field
from digest.errors import Mp3Error
from digest.mp3 import FrameFormat, Frames, gained, highest_gain, info_frame, parse_header


@dataclass(frozen=True)
class StoredFrames:
    """`length` bytes of bare frames at `start` of the file at `path` (whose SHA-256 is `sha256`)."""

    path: Path
    sha256: str
    start: int
    length: int
    count: int
    format: FrameFormat
    highest_gain: int  # the highest global_gain of a granule with audio (see mp3.highest_gain)

    @property
    def duration(self) -> float:
        return self.count * self.format.samples_per_frame / self.format.sample_rate

    @property
    def byte_length(self) -> int:
        return self.length

    def read_data(self) -> bytes:
        """The frames, read from the file and checked against its digest."""
        try:
            content = read_regular(self.path, MAX_AUDIO_BYTES)
        except FileNotFoundError:
            raise Mp3Error(f"the cached clip {self.path} is gone") from None
        except (OSError, BadEntry) as exc:
            raise Mp3Error(f"the cached clip {self.path} cannot be read: {exc}") from None
        if hashlib.sha256(content).hexdigest() != self.sha256:
            raise Mp3Error(
                f"the cached clip {self.path} changed during the build (another build of the"
                " same text?); build again"
            )
        return content[self.start : self.start + self.length]


ClipAudio = Union[Frames, StoredFrames]  # a clip's frames: in memory, or still on disk


# -- the clip cache's record of where a clip's frames are -------------------------------
#
# A warm build of a 3-hour episode would otherwise parse about 450,000 frame
# headers just to learn what the first build already knew.

FRAMES_FIELD = "frames"


def frames_field(start: int, frames: Frames) -> dict[str, int]:
    """The cache field describing `frames`, found at byte `start` of the clip file."""
    return {
        "start": start,
        "bytes": len(frames.data),
        "count": frames.count,
        "highest_gain": highest_gain(frames.data, frames.format),
    }


def _valid_frames_field(value: object) -> dict[str, int]:
    names = ("start", "bytes", "count", "highest_gain")
    if not isinstance(value, dict) or set(value) != set(names):
        raise ValueError("frames is not an object of start, bytes, count, highest_gain")
    for name in names:
        number = value[name]
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ValueError(f"frames.{name} is not a count")
    if value["highest_gain"] > 255:
        raise ValueError("frames.highest_gain is over 255")
    return dict(value)


register_field(FRAMES_FIELD, _valid_frames_field)


def stored_frames(
    stored: StoredClip, audio: bytes, field: dict[str, int], fmt: FrameFormat
) -> StoredFrames:
    """The clip's frames as the cache field says they are, after a check that costs
    no frame-by-frame parsing: Mp3Error if the file does not match the field."""
    start, length, count = field["start"], field["bytes"], field["count"]
    parsed = parse_header(audio, start)
    if parsed is None or parsed[0] != fmt or start + length > len(audio) or not count:
        raise Mp3Error("the recorded frames are not where the cache says")
    try:
        size = _fixed_frame_length(fmt)
    except ValueError:
        size = None
    if size is not None and (
        length != count * size or audio[start : start + length : size] != b"\xff" * count
    ):
        raise Mp3Error("the recorded frame count does not match the audio")
    return StoredFrames(
        stored.path, stored.sha256, start, length, count, fmt, field["highest_gain"]
    )


def frame_gain_ceiling(part: ClipAudio) -> int:
    """The highest global_gain in a part (its frames are read if they are not in memory)."""
    if isinstance(part, StoredFrames):
        return part.highest_gain
    return highest_gain(part.data, part.format)


@dataclass(frozen=True)
class FrameStream:
    """Frames of one format, in parts, with a global_gain change applied as they are read."""

    parts: tuple[ClipAudio, ...]
    gain_steps: int = 0  # 1.505 dB each (see mp3.apply_gain)

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError("a frame stream needs at least one part")
        fmt = self.parts[0].format
        for part in self.parts:
            if part.format != fmt:
                raise Mp3Error(f"cannot join {part.format} to {fmt}")

    @property
    def format(self) -> FrameFormat:
        return self.parts[0].format

    @property
    def count(self) -> int:
        return sum(part.count for part in self.parts)

    @property
    def byte_length(self) -> int:
        return sum(part.byte_length for part in self.parts)

    @property
    def duration(self) -> float:
        return self.count * self.format.samples_per_frame / self.format.sample_rate

    def highest_gain(self) -> int:
        """The highest global_gain of any granule with audio, before `gain_steps`."""
        return max(frame_gain_ceiling(part) for part in self.parts)

    def with_gain(self, steps: int) -> FrameStream:
        """The same stream, `steps` of global_gain louder (Mp3Error if a granule would saturate)."""
        if steps > 0 and self.highest_gain() + steps > 255:
            raise Mp3Error(f"a gain of {steps} steps saturates a granule")
        return replace(self, gain_steps=steps)

    def chunks(self) -> Iterator[bytes]:
        """The frames, part by part, with the gain applied: one part in memory at a time."""
        for part in self.parts:
            yield gained(part.read_data(), part.format, self.gain_steps)

    def to_frames(self) -> Frames:
        """All of it in memory (for a re-encode or a test; the build itself streams)."""
        return Frames(b"".join(self.chunks()), self.count, self.format)

    def split(self, frames: int) -> tuple[FrameStream, FrameStream]:
        """The first `frames` frames and the rest (frames must all have one length)."""
        if self.gain_steps:
            raise ValueError("split a stream before its gain is set")
        size = _fixed_frame_length(self.format)
        head: list[ClipAudio] = []
        rest: list[ClipAudio] = []
        left = frames
        for part in self.parts:
            if left >= part.count:
                head.append(part)
            elif left <= 0:
                rest.append(part)
            else:
                first, second = _split_part(part, left, size)
                head.append(first)
                rest.append(second)
            left -= part.count
        if left > 0 or not rest:
            raise ValueError(f"cannot split {self.count} frames after frame {frames}")
        return FrameStream(tuple(head)), FrameStream(tuple(rest))

    def write(self, handle: BinaryIO) -> None:
        """Write a CBR Info frame (exact duration, seek table) and then the frames.

        The Info frame copies the header of the first frame, taken from the first
        chunk written (the gain leaves headers alone), so no clip is read twice."""
        chunks = self.chunks()
        first = next((chunk for chunk in chunks if chunk), b"")
        handle.write(self._info_frame(first))
        handle.write(first)
        for chunk in chunks:
            handle.write(chunk)

    def info_frame(self) -> bytes:
        """The Xing/Info frame that goes in front of this stream (see mp3.info_frame)."""
        first = next((part for part in self.parts if part.count), None)
        return self._info_frame(first.read_data() if first is not None else b"")

    def _info_frame(self, first_frames: bytes) -> bytes:
        if not first_frames:
            return b""
        return info_frame(first_frames[:4], self.count, self.byte_length)


def _fixed_frame_length(fmt: FrameFormat) -> int:
    if not fmt.uniform_frames:
        raise ValueError(f"{fmt} has frames of two lengths")
    return fmt.frame_length


def _split_part(part: ClipAudio, frames: int, size: int) -> tuple[Frames, Frames]:
    at = frames * size
    data = part.read_data()
    return (
        Frames(data[:at], frames, part.format),
        Frames(data[at:], part.count - frames, part.format),
    )
