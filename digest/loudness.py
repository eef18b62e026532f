"""Loudness: a block-by-block BS.1770 meter, and bringing an episode to a target.

Podcast apps expect about -16 LUFS as heard with true peaks at or below
-1 dBTP.  A mono file is measured once by BS.1770 but played on two ears, so
the same perceived level is -19 LUFS measured on the mono file
(podcast-standards.md §3.1): that is the default target.

Measuring streams.  One ffmpeg process decodes the MP3 (from a pipe or a
file), upsamples it 4x for true peak, and prints two figures per 100 ms block:
the block's true peak, and its K-weighted mean square.  Those block figures
are all the meter needs: BS.1770 gating blocks are 400 ms every 100 ms (four
blocks), EBU 3342 short-term windows 3 s (thirty), so a clip's blocks are kept
with the clip and an episode's loudness is computed from its clips' blocks
without decoding it again.  Memory is two floats per 100 ms, whatever the
length (3 hours: 108,000 blocks).

Adjusting.  `lossless` moves every granule's global_gain (1.5 dB steps, no
re-encoding; `digest.mp3.apply_gain`), as far as the true peak allows.  When
the peaks leave no room, `reencode` decodes once, applies the gain and a
true-peak limiter, and encodes once at the episode's format.
"""

from __future__ import annotations

import array
import base64
import heapq
import math
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from digest.errors import DigestError, InputError, Mp3Error
from digest.ffmpeg import ffmpeg_exe
from digest.frame_stream import FrameStream
from digest.mp3 import (
    EPISODE_FORMAT,
    GAIN_STEP_DB,
    Frames,
    first_format,
    read_frames,
    read_id3v2,
)

DEFAULT_TARGET = -19.0  # LUFS integrated, measured on the mono file (-16 as heard)
TRUE_PEAK_CEILING = -1.0  # dBTP
TOLERANCE = 1.0  # LU either side of the target that counts as on target
LOUDNESS_MODES = ("lossless", "reencode")

BLOCK_SECONDS = 0.1
_OVERSAMPLED_RATE = 96000  # 4x the episode's 24 kHz: BS.1770's true-peak oversampling
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0  # integrated loudness
_LRA_RELATIVE_GATE = -20.0
_SILENT = -math.inf


class LoudnessError(DigestError):
    """Audio could not be measured or adjusted (ffmpeg failed, or the MP3 is unusable)."""


@dataclass(frozen=True)
class Blocks:
    """Per-100 ms measurements of some audio: K-weighted mean square and true peak (linear).

    Held as float64 arrays, whatever sequence they are made from: 8 bytes a value
    rather than a float object's 32, so a 3-hour episode's 108,000 blocks and their
    copies do not make memory grow with the episode.
    """

    energies: Sequence[float]
    peaks: Sequence[float]

    def __post_init__(self) -> None:
        for name in ("energies", "peaks"):
            values = getattr(self, name)
            if not (isinstance(values, array.array) and values.typecode == "d"):
                object.__setattr__(self, name, array.array("d", values))

    __hash__ = None  # type: ignore[assignment]  # arrays are not hashable

    @staticmethod
    def silence(seconds: float) -> Blocks:
        n = max(0, round(seconds / BLOCK_SECONDS))
        return Blocks((0.0,) * n, (0.0,) * n)

    @property
    def duration(self) -> float:
        return len(self.energies) * BLOCK_SECONDS

    def scaled(self, gain_db: float) -> Blocks:
        """The blocks of the same audio made `gain_db` louder (an exact rescaling)."""
        power, amplitude = 10 ** (gain_db / 10), 10 ** (gain_db / 20)
        return Blocks(
            array.array("d", (e * power for e in self.energies)),
            array.array("d", (p * amplitude for p in self.peaks)),
        )

    def to_dict(self) -> dict[str, list[float]]:
        """A JSON-able form (for the clip cache).  Exact: a warm build gives the same bytes."""
        return {"energies": list(self.energies), "peaks": list(self.peaks)}

    def to_packed(self) -> dict[str, str]:
        """A compact JSON-able form: each list as base64 of little-endian float64.

        Exact, like `to_dict`, and a three-hour episode's blocks parse in
        milliseconds instead of the 0.3 s its JSON lists took.
        """
        return {"energies": _pack(self.energies), "peaks": _pack(self.peaks)}

    @staticmethod
    def from_packed(data: dict) -> Blocks:
        """The blocks `to_packed` stored; ValueError if they are not consistent measurements."""
        energies, peaks = _unpack(data["energies"]), _unpack(data["peaks"])
        if len(energies) != len(peaks):
            raise ValueError("inconsistent loudness blocks")
        for values in (energies, peaks):
            if not all(map(math.isfinite, values)) or (values and min(values) < 0):
                raise ValueError("loudness blocks out of range")
        return Blocks(energies, peaks)

    @staticmethod
    def from_dict(data: dict) -> Blocks:
        energies = tuple(float(e) for e in data["energies"])
        peaks = tuple(float(p) for p in data["peaks"])
        if len(energies) != len(peaks) or any(e < 0 or p < 0 for e, p in zip(energies, peaks)):
            raise ValueError("inconsistent loudness blocks")
        return Blocks(energies, peaks)


def _pack(values: Sequence[float]) -> str:
    packed = array.array("d", values)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpack(text: object) -> array.array:
    if not isinstance(text, str):
        raise ValueError("packed blocks are not a string")
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) % 8:
        raise ValueError("packed blocks are not whole float64 values")
    values = array.array("d", raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def concatenate(parts: Iterable[Blocks]) -> Blocks:
    """The blocks of audio made by playing `parts` one after the other.

    Parts are joined on the 100 ms grid, so a block may sit up to 100 ms away
    from where it falls in the joined audio: immaterial for loudness, and the
    reason problem times are quoted to a tenth of a second.
    """
    # Joined as arrays of doubles: a 3-hour episode's 108,000 blocks as float objects
    # in lists (then tuples) were the largest thing a build allocated at its end.
    energies, peaks = array.array("d"), array.array("d")
    for part in parts:  # Blocks hold arrays of doubles: each extend is one copy
        energies.extend(part.energies)
        peaks.extend(part.peaks)
    return Blocks(energies, peaks)


@dataclass(frozen=True)
class Loudness:
    """The figures a producer checks: integrated loudness, true peak, loudness range."""

    integrated: float  # LUFS (-inf for silence)
    true_peak: float  # dBTP
    lra: float  # LU

    def to_dict(self) -> dict[str, float | None]:
        def tidy(x: float) -> float | None:
            return round(x, 1) if math.isfinite(x) else None

        return {
            "integrated_lufs": tidy(self.integrated),
            "true_peak_dbtp": tidy(self.true_peak),
            "lra_lu": tidy(self.lra),
        }


def _lufs(mean_square: float) -> float:
    return -0.691 + 10 * math.log10(mean_square) if mean_square > 0 else _SILENT


def _energy(lufs: float) -> float:
    """The mean square whose loudness is `lufs` (the inverse of _lufs): gates compare
    energies, so that a 3-hour episode's 100,000 windows need no logarithm each."""
    return 10 ** ((lufs + 0.691) / 10)


# Above this many 3 s windows (about 33 minutes of audio), the loudness range's
# percentiles are found with heapq rather than by sorting every window.
SORTED_WINDOWS_AT_MOST = 20_000


def _windows(energies: Sequence[float], width: int) -> array.array:
    """Mean energy of every `width`-block window, sliding one block at a time (an array
    of doubles: a 3-hour episode has 108,000 windows, twice a build)."""
    if len(energies) < width:
        return array.array("d", [sum(energies) / width] if energies else [])
    out = array.array("d")
    running = sum(energies[:width])
    out.append(running / width)
    for leaving, entering in zip(energies, energies[width:]):
        running += entering - leaving
        out.append((running if running > 0.0 else 0.0) / width)
    return out


def integrated_loudness(energies: Sequence[float]) -> float:
    """BS.1770-4 gated loudness from 100 ms block energies (400 ms blocks, 75% overlap)."""
    absolute = _energy(_ABSOLUTE_GATE)
    blocks = array.array("d", (b for b in _windows(energies, 4) if b > absolute))
    if not blocks:
        return _SILENT
    relative = _energy(_lufs(sum(blocks) / len(blocks)) + _RELATIVE_GATE)
    gated = array.array("d", (b for b in blocks if b > relative))
    return _lufs(sum(gated) / len(gated))


def loudness_range(energies: Sequence[float]) -> float:
    """EBU Tech 3342 loudness range: 10th to 95th percentile of gated 3 s loudness.

    The gates and the sorting work on energies (loudness is monotonic in energy), so
    only the four values the percentiles interpolate between need a logarithm."""
    absolute = _energy(_ABSOLUTE_GATE)
    short_term = array.array("d", (b for b in _windows(energies, 30) if b > absolute))
    if not short_term:
        return 0.0
    # the mean of 10^(L/10) over the windows is the mean energy, 0.691 dB down
    gate = _lufs(sum(short_term) / len(short_term)) + _LRA_RELATIVE_GATE
    threshold = _energy(gate)
    kept = array.array("d", (b for b in short_term if b > threshold))
    count = len(kept)
    if count < 2:
        return 0.0
    # The two values either side of each position in sorted order.  Sorting all of a
    # 3-hour episode's 108,000 windows as float objects was the largest allocation of its
    # build's last second, so a long episode takes them from the shorter end (heapq); a
    # short one sorts, in half the time of the two heap passes.
    ordered = sorted(kept) if count <= SORTED_WINDOWS_AT_MOST else None

    def percentile(p: float) -> float:
        position = p * (count - 1)
        low = math.floor(position)
        high = min(low + 1, count - 1)
        if ordered is not None:
            below, above = ordered[low], ordered[high]
        elif high < count // 2:
            ends = heapq.nsmallest(high + 1, kept)
            below, above = ends[low], ends[high]
        else:
            ends = heapq.nlargest(count - low, kept)
            below, above = ends[count - 1 - low], ends[count - 1 - high]
        low_lufs, high_lufs = _lufs(below), _lufs(above)
        return low_lufs + (high_lufs - low_lufs) * (position - low)

    return percentile(0.95) - percentile(0.10)


def measure(blocks: Blocks) -> Loudness:
    """Integrated loudness, true peak and loudness range of measured blocks."""
    peak = max(blocks.peaks, default=0.0)
    return Loudness(
        integrated=integrated_loudness(blocks.energies),
        true_peak=20 * math.log10(peak) if peak > 0 else _SILENT,
        lra=loudness_range(blocks.energies),
    )


# -- measuring with ffmpeg ------------------------------------------------------------


def k_weighting_biquads(rate: int) -> tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]:
    """BS.1770's K-weighting at `rate`: ((b, a) of the high shelf, (b, a) of the high pass).

    The coefficients follow from the standard's analogue prototypes at any
    sample rate (the derivation libebur128 and ffmpeg's ebur128 use).
    """
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = (
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
    )
    shelf_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    pass_b = (1.0, -2.0, 1.0)
    pass_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    return (shelf_b, shelf_a), (pass_b, pass_a)


def _k_weighting(rate: int) -> list[tuple[str, str]]:
    """The K-weighting as two ffmpeg biquads: (filter, options)."""
    names = ("b0", "b1", "b2", "a0", "a1", "a2")
    return [
        ("biquad", ":".join(f"{n}={v:.17g}" for n, v in zip(names, b + a)))
        for b, a in k_weighting_biquads(rate)
    ]


def analysis_chains(rate: int | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The two branches of the analysis, as (filter, options) steps after a mono split:
    K-weighted energy per block, and true peak per block at 4x oversampling.

    The energy branch runs at the audio's own rate when it is known (no
    resampling: the K-weighting is derived for that rate), else at 48 kHz.  One
    description for both ways of running it: an ffmpeg process (`analyze`) and
    the in-process meter of a stream (`digest.block_meter`).
    """
    stats = "metadata=1:reset=1:measure_perchannel=none:measure_overall="
    energy_rate = rate or 48000
    energy = [
        *([] if rate else [("aresample", str(energy_rate))]),
        ("asetnsamples", f"n={round(energy_rate * BLOCK_SECONDS)}:p=1"),
        *_k_weighting(energy_rate),
        ("astats", stats + "RMS_level"),
        ("ametadata", "mode=print:key=lavfi.astats.Overall.RMS_level"),
    ]
    peak = [
        ("aresample", str(_OVERSAMPLED_RATE)),
        ("asetnsamples", f"n={round(_OVERSAMPLED_RATE * BLOCK_SECONDS)}:p=1"),
        ("astats", stats + "Peak_level"),
        ("ametadata", "mode=print:key=lavfi.astats.Overall.Peak_level"),
    ]
    return energy, peak


def _analysis_graph(rate: int | None) -> str:
    """`analysis_chains` as one ffmpeg filter graph: [energy] and [peak] outputs."""
    energy, peak = (
        ",".join(f"{name}={options}" for name, options in chain) for chain in analysis_chains(rate)
    )
    return f"[0:a:0]aformat=channel_layouts=mono,asplit[e][p];[e]{energy}[energy];[p]{peak}[peak]"


def _mp3_rate(audio: bytes | Path) -> int | None:
    """The sample rate of MP3 audio (bytes or a file) from its first frame, or None."""
    if not isinstance(audio, Path):
        fmt = first_format(bytes(audio[:4096]))
        return fmt.sample_rate if fmt else None
    try:
        with open(audio, "rb") as handle:
            read_id3v2(handle)  # skipped: only the first frame after it matters
            fmt = first_format(handle.read(4096))
    except (OSError, Mp3Error):
        return None
    return fmt.sample_rate if fmt else None


def _level(text: str) -> float:
    """A level in dBFS as astats writes it ("-23.456789", "-inf"); _SILENT if not finite."""
    value = text.strip()
    return float(value) if value not in ("-inf", "inf", "nan") else _SILENT


def energy_of(rms_level: str) -> float:
    """A block's K-weighted mean square, from astats' RMS_level of the K-weighted block."""
    level = _level(rms_level)
    return 10 ** (level / 10) if level > _SILENT else 0.0


def peak_of(peak_level: str) -> float:
    """A block's true peak (linear), from astats' Peak_level of the oversampled block."""
    level = _level(peak_level)
    return 10 ** (level / 20) if level > _SILENT else 0.0


def aligned_blocks(energies: list[float], peaks: list[float]) -> Blocks | None:
    """Blocks from the two branches' values; None if their counts differ by more than one.

    The resampled branch may end a block earlier or later than the other.
    """
    if abs(len(peaks) - len(energies)) > 1:
        return None
    return Blocks(energies, (peaks + [0.0])[: len(energies)])  # held as arrays of doubles


def analyze(
    audio: bytes | Path | FrameStream, what: str = "audio", *, pcm_rate: int | None = None
) -> Blocks:
    """Measure MP3 audio (bytes, a frame stream, or a file of any format ffmpeg reads)
    block by block.

    With `pcm_rate`, `audio` is 16-bit little-endian mono PCM at that rate.
    The audio streams through one ffmpeg process: nothing is decoded into memory.
    """
    source = str(audio) if isinstance(audio, Path) else "pipe:0"
    command = [ffmpeg_exe(), "-hide_banner", "-nostats", "-v", "info"]
    if pcm_rate:
        command += ["-f", "s16le", "-ar", str(pcm_rate), "-ac", "1"]
    elif source == "pipe:0":
        command += ["-f", "mp3"]
    if isinstance(audio, FrameStream):
        rate: int | None = audio.format.sample_rate
    else:
        rate = pcm_rate or _mp3_rate(audio)
    command += ["-i", source, "-filter_complex", _analysis_graph(rate)]
    command += ["-map", "[energy]", "-f", "null", "-", "-map", "[peak]", "-f", "null", "-"]
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if source == "pipe:0" else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise LoudnessError(f"cannot run ffmpeg to measure {what}: {exc}") from None
    feeder = None
    failures: list[DigestError] = []
    if source == "pipe:0":
        chunks = audio.chunks() if isinstance(audio, FrameStream) else [bytes(audio)]
        feeder = threading.Thread(target=_feed, args=(process, chunks, failures), daemon=True)
        feeder.start()
    peaks: list[float] = []
    energies: list[float] = []
    tail: list[str] = []
    assert process.stderr is not None
    for raw in process.stderr:
        line = raw.decode("utf-8", "replace")
        if "Overall.Peak_level=" in line:
            peaks.append(peak_of(line.rpartition("=")[2]))
        elif "Overall.RMS_level=" in line:
            energies.append(energy_of(line.rpartition("=")[2]))
        else:
            tail = (tail + [line.strip()])[-3:]
    code = process.wait()
    if feeder is not None:
        feeder.join()
    if failures:
        raise failures[0]
    blocks = aligned_blocks(energies, peaks) if code == 0 else None
    if blocks is None:
        raise LoudnessError(f"cannot measure {what}: ffmpeg: {tail[-1] if tail else code}")
    return blocks


def _feed(process: subprocess.Popen, chunks: Iterable[bytes], failures: list) -> None:
    """Write `chunks` to ffmpeg's stdin (in a thread); an error reading them goes in `failures`."""
    assert process.stdin is not None
    try:
        for data in chunks:
            for start in range(0, len(data), 1 << 16):
                process.stdin.write(data[start : start + (1 << 16)])
    except (BrokenPipeError, OSError):
        pass  # ffmpeg gave up; its exit status says why
    except DigestError as exc:  # a cached clip that changed under us
        failures.append(exc)
    finally:
        try:
            process.stdin.close()
        except OSError:
            pass


# -- bringing audio to a target ---------------------------------------------------------


def parse_target(value: str | float | None, setting: str | None = None) -> float | None:
    """`-19`, `-19 LUFS`, `off` -> the target in LUFS, or None (no adjustment)."""
    if value is None:
        return DEFAULT_TARGET
    if isinstance(value, bool):
        raise InputError(f"loudness {value!r} is not a level in LUFS", setting=setting)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = value.strip().lower().removesuffix("lufs").strip()
        if text in ("off", "none", "no", "false"):
            return None
        try:
            number = float(text)
        except ValueError:
            raise InputError(
                f"loudness {value!r} is not a level in LUFS (such as -19) or off", setting=setting
            ) from None
    if not -40.0 <= number <= -5.0:
        raise InputError(f"loudness {number:g} LUFS is out of range (-40 to -5)", setting=setting)
    return number


@dataclass(frozen=True)
class Adjustment:
    """What was done to an episode's level, and what came of it."""

    target: float | None
    mode: str  # "lossless", "reencode" or "off"
    gain_db: float
    before: Loudness
    after: Loudness
    shortfall: str = ""  # why the target was not reached, for the summary

    @property
    def on_target(self) -> bool:
        return self.target is None or abs(self.after.integrated - self.target) <= TOLERANCE

    def to_dict(self) -> dict:
        return {
            "target_lufs": self.target,
            "mode": self.mode,
            "gain_db": round(self.gain_db, 2),
            **self.after.to_dict(),
            "before": self.before.to_dict(),
            "on_target": self.on_target,
            **({"note": self.shortfall} if self.shortfall else {}),
        }


def lossless_steps(before: Loudness, target: float, ceiling: float = TRUE_PEAK_CEILING) -> int:
    """Whole global_gain steps toward `target`, as many as the true-peak ceiling allows."""
    if not math.isfinite(before.integrated):
        return 0
    steps = round((target - before.integrated) / GAIN_STEP_DB)
    while math.isfinite(before.true_peak) and before.true_peak + steps * GAIN_STEP_DB > ceiling:
        steps -= 1
    return steps


def adjust_lossless(
    audio: FrameStream, blocks: Blocks, target: float
) -> tuple[FrameStream, Blocks, Adjustment]:
    """Move the audio toward `target` in 1.5 dB global_gain steps, keeping true peak <= -1 dBTP."""
    before = measure(blocks)
    steps = lossless_steps(before, target)
    try:
        adjusted = audio.with_gain(steps)
    except Mp3Error:
        steps, adjusted = 0, audio
    gain = steps * GAIN_STEP_DB
    after_blocks = blocks.scaled(gain)
    after = measure(after_blocks)
    shortfall = ""
    if math.isfinite(after.integrated) and abs(after.integrated - target) > TOLERANCE:
        shortfall = (
            f"the episode is at {after.integrated:.1f} LUFS, not {target:g}: its peaks "
            f"({before.true_peak:+.1f} dBTP before adjustment) leave no room for a lossless gain"
        )
    return (
        adjusted,
        after_blocks,
        Adjustment(target, "lossless", gain, before, after, shortfall),
    )


def adjust_reencode(
    audio: FrameStream, blocks: Blocks, target: float
) -> tuple[FrameStream, Blocks, Adjustment]:
    """Decode once, apply the gain and a true-peak limiter, encode once at the episode's format.

    The result has exactly as many frames as the input and is time-aligned
    with it, so chapter times stay valid.  Unlike the rest of a build, this
    holds the re-encoded episode in memory (about 22 MB an hour).
    """
    before = measure(blocks)
    if not math.isfinite(before.integrated):
        return audio, blocks, Adjustment(target, "reencode", 0.0, before, before)
    gain = target - before.integrated
    limit_db = TRUE_PEAK_CEILING - 1.0  # lame's reconstruction overshoots a little
    # The limiter takes some loudness away, and the encoder can overshoot the
    # ceiling: a second pass from the original corrects both (still one generation).
    for _attempt in range(3):
        encoded = FrameStream((_reencode(audio, gain, limit_db),))
        after_blocks = analyze(encoded, "the re-encoded episode")
        after = measure(after_blocks)
        if after.true_peak > TRUE_PEAK_CEILING:
            limit_db -= after.true_peak - TRUE_PEAK_CEILING + 0.2
        elif abs(after.integrated - target) > TOLERANCE / 4:
            gain += target - after.integrated
        else:
            break
    shortfall = ""
    if after.true_peak > TRUE_PEAK_CEILING:
        shortfall = f"the episode's true peak is {after.true_peak:+.1f} dBTP after re-encoding"
    return encoded, after_blocks, Adjustment(target, "reencode", gain, before, after, shortfall)


# lame delays its output by 576 + 529 samples, which ffmpeg's decoder keeps
# when the stream has no LAME tag, and a decode-encode round trip through
# ffmpeg comes out another 24 samples late (measured by cross-correlation).
# Trimming them before encoding puts every sound back on the frame it came from.
_LAME_DELAY = 1129


def _reencode(audio: FrameStream, gain_db: float, limit_db: float) -> Frames:
    fmt = audio.format
    if fmt != EPISODE_FORMAT:
        raise LoudnessError("re-encoding is only done at the episode format")
    rate = _OVERSAMPLED_RATE
    limit = 10 ** (limit_db / 20)
    chain = ",".join(
        [
            f"atrim=start_sample={_LAME_DELAY}",
            "asetpts=N/SR/TB",
            f"volume={gain_db:.3f}dB",
            f"aresample={rate}",
            f"alimiter=limit={limit:.5f}:level=disabled:attack=1:release=50:asc=1",
            f"aresample={fmt.sample_rate}",
        ]
    )
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostats", "-v", "error",
        "-f", "mp3", "-i", "pipe:0", "-af", chain,
        "-c:a", "libmp3lame", "-b:a", f"{fmt.bitrate_kbps}k", "-ar", str(fmt.sample_rate),
        "-ac", "1", "-write_xing", "0", "-id3v2_version", "0", "-write_id3v1", "0",
        "-f", "mp3", "pipe:1",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors
            )
        except OSError as exc:
            raise LoudnessError(f"cannot run ffmpeg to re-encode: {exc}") from None
        failures: list[DigestError] = []
        feeder = threading.Thread(
            target=_feed, args=(process, audio.chunks(), failures), daemon=True
        )
        feeder.start()
        assert process.stdout is not None
        output = process.stdout.read()
        feeder.join()
        if failures:
            raise failures[0]
        if process.wait() != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise LoudnessError(f"re-encoding failed: ffmpeg: {message[-1] if message else '?'}")
    try:
        encoded = read_frames(output, fmt)
    except Mp3Error as exc:
        raise LoudnessError(f"re-encoding gave unusable audio: {exc}") from None
    # Same length as before: the encoder's tail padding is dropped, a short end padded.
    frame_length = len(encoded.data) // max(encoded.count, 1)
    if encoded.count >= audio.count:
        data = encoded.data[: audio.count * frame_length]
    else:
        from digest.mp3 import silence

        data = encoded.data + silence((audio.count - encoded.count) * 0.024, fmt).data
    return read_frames(data, fmt)


def adjust(audio: FrameStream, blocks: Blocks, target: float | None, mode: str = "lossless"):
    """Bring `audio` to `target` LUFS by `mode`; returns (frames, blocks, Adjustment)."""
    if mode not in LOUDNESS_MODES:
        raise InputError(f"unknown loudness mode {mode!r}: choose {', '.join(LOUDNESS_MODES)}")
    if target is None:
        figures = measure(blocks)
        return audio, blocks, Adjustment(None, "off", 0.0, figures, figures)
    if mode == "reencode":
        return adjust_reencode(audio, blocks, target)
    return adjust_lossless(audio, blocks, target)
