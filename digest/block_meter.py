"""Measure a clip's loudness blocks in-process, while its MP3 arrives.

`loudness.analyze` runs an ffmpeg process over a finished clip: about 0.1 s of
CPU and 31 MB for a one-minute clip, one clip at a time.  A build's last round
of answers arrives together, so their measurements queued after the last answer.
A `BlockMeter` runs the same filters (`loudness.analysis_chains`) through
PyAV's bindings to the same libraries, a piece at a time as the service sends
the audio: when the answer ends, so has its measurement.  The blocks are the same
numbers `analyze` gives (tests/test_block_meter.py compares them).

PyAV is imported on first use: a build whose clips are all cached never loads it.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from digest.loudness import Blocks, aligned_blocks, analysis_chains, energy_of, peak_of

_ENERGY_KEY = "lavfi.astats.Overall.RMS_level"
_PEAK_KEY = "lavfi.astats.Overall.Peak_level"


class MeterError(Exception):
    """The audio could not be measured in-process (the caller measures it another way)."""


class BlockMeter:
    """Loudness blocks of one MP3 stream, fed in pieces of any size.

    `feed` bytes as they arrive, then `finish` for the Blocks.  Raises
    MeterError for audio that does not decode (the caller then leaves the
    measurement to `loudness.analyze`, which gives the error its wording).
    """

    def __init__(self) -> None:
        import av

        self._av = av
        # ffmpeg's default MP3 decoder, the one `analyze` gets from the command line.
        self._decoder = av.CodecContext.create("mp3float", "r")
        # One thread each, decoder and graph (audio gains nothing from slice threads): a
        # pool per meter, six meters at once, gave each thread its own malloc arena, and a
        # build's memory grew with its clip count.
        self._decoder.thread_count = 1
        self._graph: Any = None
        self._source: Any = None
        self._sinks: list[Any] = []
        self._samples = 0
        self._energies: list[float] = []
        self._peaks: list[float] = []

    def feed(self, data: bytes) -> None:
        try:
            for packet in self._decoder.parse(data):
                self._decode(packet)
        except self._av.FFmpegError as exc:
            raise MeterError(str(exc)) from None

    def finish(self) -> Blocks:
        """The blocks of everything fed.  The meter is spent afterwards: its decoder and
        graph are released (call `trim_heap` once it is dropped)."""
        try:
            for packet in self._decoder.parse(b""):
                self._decode(packet)
            self._decode(None)
            if self._source is None:
                raise MeterError("no audio")
            self._source.push(None)
            self._drain()
        except self._av.FFmpegError as exc:
            raise MeterError(str(exc)) from None
        finally:
            self._release()
        blocks = aligned_blocks(self._energies, self._peaks)
        if blocks is None:
            raise MeterError("the two branches disagree on the number of blocks")
        return blocks

    def _release(self) -> None:
        self._graph = self._source = self._decoder = None
        self._sinks = []

    def _decode(self, packet: Any) -> None:
        for frame in self._decoder.decode(packet):
            if self._source is None:
                self._build(frame)
            # A bare decoder stamps no time: the buffer source needs one.
            frame.pts = self._samples
            frame.time_base = Fraction(1, frame.sample_rate)
            self._samples += frame.samples
            self._source.push(frame)
            self._drain()

    def _build(self, first: Any) -> None:
        """The graph `analyze` runs, for the stream's format; its outputs are 16-bit,
        as ffmpeg's null outputs negotiate them (the peaks are read after that)."""
        graph = self._av.filter.Graph()
        graph.threads = 1
        source = graph.add_abuffer(
            format=first.format.name,
            sample_rate=first.sample_rate,
            layout=first.layout.name,
            time_base=Fraction(1, first.sample_rate),
        )
        mono = graph.add("aformat", "channel_layouts=mono")
        split = graph.add("asplit")
        source.link_to(mono)
        mono.link_to(split)
        for output, chain in enumerate(analysis_chains(first.sample_rate)):
            previous, pad = split, output
            for name, options in chain:
                node = graph.add(name, options)
                previous.link_to(node, pad, 0)
                previous, pad = node, 0
            to_16_bit = graph.add("aformat", "sample_fmts=s16")
            sink = graph.add("abuffersink")
            previous.link_to(to_16_bit)
            to_16_bit.link_to(sink)
            self._sinks.append(sink)
        graph.configure()
        # The graph owns the filter contexts: it must live as long as they are used.
        self._graph, self._source = graph, source

    def _drain(self) -> None:
        for sink, key, values, value_of in (
            (self._sinks[0], _ENERGY_KEY, self._energies, energy_of),
            (self._sinks[1], _PEAK_KEY, self._peaks, peak_of),
        ):
            while True:
                try:
                    frame = sink.pull()
                except (self._av.BlockingIOError, self._av.EOFError):
                    break
                level = frame.metadata.get(key)
                if level is not None:
                    values.append(value_of(level))


@functools.cache
def _heap_trimmer() -> Callable[[], object]:
    """glibc's malloc_trim, or a no-op (another C library)."""
    try:
        release = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: release(0)


def trim_heap() -> None:
    """Give the heap's free pages back to the system (glibc; elsewhere nothing).

    Six meters at once, each allocating and freeing libav buffers, leave freed pages
    scattered through the heap, and a build's memory grew with its clip count: a
    1-hour build peaked at 85 MiB without a trim after each dropped meter, 80-81 with it.
    """
    _heap_trimmer()()
