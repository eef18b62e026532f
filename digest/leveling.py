"""Leveling synthesized speech in-process: gain, a peak limiter and the clip's loudness blocks.

An engine that makes its own PCM (the offline voice) levels it here before
its one encoding, so its clips need no second generation and nobody measures
them again: `encode_leveled` returns the encoded frames *and* the 100 ms
loudness blocks (`digest.loudness.Blocks`) that the clip check and the
episode's loudness use.  Nothing here starts a process: all of it is numpy on
the PCM, in chunks of about 60,000 samples (memory does not grow with the
clip), in calls that release the GIL, so clips level on both cores.

* Loudness: BS.1770's K-weighting applied exactly (its two biquads' frequency
  response, FFT overlap-add), mean squares per 100 ms block.
* Gain: set so that the limited speech, as encoded, lands on the target.  The
  limiter takes loudness off peaky speech, so the gain is refined a few times
  on per-segment figures (1.6 ms segments) before any sample is touched.
* Limiter: a look-ahead gain envelope on 1.6 ms segments, attack and release
  as dB-per-millisecond ramps (running minima, so no per-sample Python loop),
  interpolated linearly to the samples.  Every sample ends at or below the
  ceiling, the audio keeps its length and timing.
* Blocks as the encoded clip has them: on the clip's own 100 ms grid (lame's
  start delay included, as many blocks as the meter gives for the MP3), with
  the encoder's measured effect on loudness and a margin for its peak
  overshoot (`ENCODER_LOUDNESS_DB`, `ENCODER_PEAK_MARGIN_DB`; checked against
  ffmpeg's measurement of encoded clips in tests/test_leveling.py).
"""

from __future__ import annotations

import math
import os
import threading
from functools import lru_cache

import numpy as np

from digest.loudness import (
    BLOCK_SECONDS,
    DEFAULT_TARGET,
    Blocks,
    integrated_loudness,
    k_weighting_biquads,
)
from digest.mp3 import Frames

# Peaks of the PCM given to the encoder (sample peaks, dBFS).  The episode's
# ceiling is -1 dBTP: this leaves room for inter-sample peaks, the encoder's
# overshoot and a lossless episode gain step.
PCM_PEAK_CEILING = -3.0
# lame at 48 kbps (its low-pass, 22,050 -> 24,000 Hz) changes the K-weighted
# loudness of espeak speech by this much (measured: tests/test_leveling.py) ...
ENCODER_LOUDNESS_DB = -0.45
# ... and its true peaks come out at most this far above the PCM's sample peaks.
ENCODER_PEAK_MARGIN_DB = 0.5
MAX_GAIN_DB = 30.0  # never lift near-silence further than this

SEGMENTS_PER_BLOCK = 63  # 35 samples at 22,050 Hz: 1.6 ms
ATTACK_DB_PER_MS = 2.0  # how fast the gain may fall ahead of a peak
RELEASE_DB_PER_MS = 0.1  # and rise after it (10 dB in 100 ms)
_FFT_SIZE = 1 << 16
_FILTER_TAIL = 4096  # samples: the K-weighting's impulse response has died out by then
_CHUNK = 60_000  # samples handled at a time outside the filter
_LAME_DELAY_SAMPLES = 1105  # at the output rate: where the PCM starts in the encoded clip
# One clip per core is leveled and encoded at a time: both cores busy, and no
# more clips' arrays alive at once than can make progress.
_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


def encode_leveled(
    pcm: bytes, sample_rate: int, target: float = DEFAULT_TARGET
) -> tuple[Frames, Blocks]:
    """16-bit mono PCM at `target` LUFS as encoded, peaks limited; the frames and their blocks.

    The gain is set from the PCM's own K-weighted loudness, with the
    limiter's and the encoder's effect taken into account, and applied with a
    limiter holding sample peaks at `PCM_PEAK_CEILING`; the PCM is encoded
    once.  The audio keeps its length and timing, so sentence boundaries stay
    true.  The blocks describe the encoded clip (its 100 ms grid, its length).
    """
    from digest.encoding import encode_pcm

    with _SLOTS:
        samples = np.frombuffer(pcm, dtype="<i2")
        # One copy of the leveled PCM alive, not two: the bytes the encoder needs,
        # read back as an array for the blocks (3 MB less per long clip in flight).
        leveled = level(samples, sample_rate, target - ENCODER_LOUDNESS_DB).tobytes()
        frames = encode_pcm(leveled, sample_rate)
        return frames, clip_blocks(np.frombuffer(leveled, dtype=np.int16), sample_rate, frames)


def level(samples: np.ndarray, rate: int, target: float) -> np.ndarray:
    """`samples` (int16) made `target` LUFS loud with sample peaks at most `PCM_PEAK_CEILING`."""
    segment = max(1, round(rate * BLOCK_SECONDS / SEGMENTS_PER_BLOCK))
    energies = _k_energies(samples, rate, segment)  # mean square per segment
    peaks = _segment_peaks(samples, segment, len(energies))
    if not np.any(energies > 0):
        return samples.copy()
    ms_per_segment = 1000 * segment / rate
    # Whole 100 ms blocks of segments (a clip shorter than a block is one block).
    per_block = min(SEGMENTS_PER_BLOCK, len(energies))
    whole = len(energies) - len(energies) % per_block

    def loudness_of(segment_energies: np.ndarray) -> float:
        blocks = segment_energies[:whole].reshape(-1, per_block).mean(axis=1)
        return integrated_loudness(blocks.tolist())

    def limited(gain_db: float) -> tuple[float, np.ndarray]:
        envelope = _envelope(peaks, gain_db, ms_per_segment)
        return loudness_of(energies * 10 ** ((gain_db + envelope) / 10)), envelope

    gain = min(target - loudness_of(energies), MAX_GAIN_DB)
    achieved, envelope = limited(gain)
    # More gain makes the limiter work harder: a few rounds on segment figures.
    for _round in range(8):
        if not math.isfinite(achieved) or abs(achieved - target) < 0.02:
            break
        gain = min(gain + (target - achieved), MAX_GAIN_DB)
        achieved, envelope = limited(gain)
    return _apply(samples, envelope, gain, segment)


def clip_blocks(leveled: np.ndarray, rate: int, frames: Frames) -> Blocks:
    """The 100 ms blocks of `frames`, the encoding of `leveled`, computed from the PCM.

    The grid is the encoded clip's: lame starts the audio `_LAME_DELAY_SAMPLES`
    late and the clip lasts `frames.duration`, of which the meter gives
    ceil(duration / 100 ms) blocks.
    """
    block = round(rate * BLOCK_SECONDS)
    count = math.ceil(round(frames.duration / BLOCK_SECONDS, 6))
    lead = round(_LAME_DELAY_SAMPLES * rate / frames.format.sample_rate)
    stream = _Delayed(leveled, lead, count * block)
    energies = _k_energies(stream, rate, block) * 10 ** (ENCODER_LOUDNESS_DB / 10)
    peaks = _segment_peaks(stream, block, count) * 10 ** (ENCODER_PEAK_MARGIN_DB / 20)
    return Blocks(tuple(energies.tolist()), tuple(peaks.tolist()))


# -- the pieces ---------------------------------------------------------------------


class _Delayed:
    """`samples` after `lead` samples of silence, `length` samples in all (silence-padded).

    Sliced like an array, without copying the whole clip.
    """

    def __init__(self, samples: np.ndarray, lead: int, length: int):
        self.samples, self.lead, self.length = samples, lead, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, span: slice) -> np.ndarray:
        start, stop, _ = span.indices(self.length)
        out = np.zeros(max(0, stop - start), dtype=self.samples.dtype)
        first, last = max(start, self.lead), min(stop, self.lead + len(self.samples))
        if last > first:
            out[first - start : last - start] = self.samples[first - self.lead : last - self.lead]
        return out


@lru_cache(maxsize=4)
def _k_response(rate: int, size: int) -> np.ndarray:
    """The K-weighting's frequency response on an rfft grid of `size` points."""
    z = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)
    response = np.ones_like(z)
    for b, a in k_weighting_biquads(rate):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return response


def _k_energies(samples: np.ndarray | _Delayed, rate: int, group: int) -> np.ndarray:
    """Mean square of the K-weighted signal over consecutive groups of `group` samples.

    The filter runs by FFT overlap-add: each hop of input is transformed with
    room for the filter's tail, which is added to the next hop's output, so
    the result is the biquads' own output (to within their impulse response
    beyond `_FILTER_TAIL` samples, about 1e-19 of it).  The last group is
    padded with silence.
    """
    hop = max(group, (_FFT_SIZE - _FILTER_TAIL) // group * group)
    size = 1 << math.ceil(math.log2(hop + _FILTER_TAIL))
    response = _k_response(rate, size)
    count = math.ceil(len(samples) / group)
    sums = np.empty(count)
    carry = np.zeros(size - hop)
    for start in range(0, count * group, hop):
        piece = samples[start : start + hop].astype(np.float64) / 32768.0
        filtered = np.fft.irfft(np.fft.rfft(piece, size) * response, size)
        filtered[: len(carry)] += carry
        carry = filtered[hop:]
        out = filtered[:hop]
        whole = min(hop, count * group - start)
        squares = out[:whole] * out[:whole]
        first = start // group
        sums[first : first + whole // group] = squares.reshape(-1, group).sum(axis=1)
    return sums / group


def _segment_peaks(samples: np.ndarray | _Delayed, segment: int, count: int) -> np.ndarray:
    """Largest absolute sample of each `segment`-sample stretch, full scale 1.0 (`count` of them)."""
    padded = count * segment
    peaks = np.zeros(count)
    step = _CHUNK // segment * segment
    for start in range(0, min(len(samples), padded), step):
        piece = samples[start : start + step]
        tail = (-len(piece)) % segment
        if tail:
            piece = np.concatenate([piece, np.zeros(tail, dtype=piece.dtype)])
        rows = piece.reshape(-1, segment).astype(np.int32)
        first = start // segment
        peaks[first : first + len(rows)] = np.abs(rows).max(axis=1)
    return peaks / 32768.0


def _envelope(peaks: np.ndarray, gain_db: float, ms_per_segment: float) -> np.ndarray:
    """The limiter's gain (dB, <= 0) at each segment's centre, for `gain_db` of make-up gain.

    Each centre's gain is no more than what its own segment and both
    neighbours need, so the linear interpolation between centres keeps every
    sample under the ceiling; then the gain may fall at most
    `ATTACK_DB_PER_MS` ahead of a peak and rise at most `RELEASE_DB_PER_MS`
    after it (running minima over ramps).
    """
    with np.errstate(divide="ignore"):
        level = 20 * np.log10(peaks) + gain_db
    need = np.minimum(0.0, PCM_PEAK_CEILING - level)
    need[1:] = np.minimum(need[1:], need[:-1].copy())
    need[:-1] = np.minimum(need[:-1], need[1:].copy())
    steps = np.arange(len(need), dtype=np.float64)
    attack = ATTACK_DB_PER_MS * ms_per_segment
    release = RELEASE_DB_PER_MS * ms_per_segment
    # gain[k] <= need[j] + attack * (j - k) for j >= k: a reversed running minimum
    ahead = np.minimum.accumulate((need + attack * steps)[::-1])[::-1] - attack * steps
    # gain[k] <= ahead[j] + release * (k - j) for j <= k
    return np.minimum.accumulate(ahead - release * steps) + release * steps


def _apply(samples: np.ndarray, envelope: np.ndarray, gain_db: float, segment: int) -> np.ndarray:
    """`samples` times the make-up gain and the envelope (interpolated between segment centres)."""
    centres = np.arange(len(envelope)) * segment + (segment - 1) / 2
    factors = 10 ** ((envelope + gain_db) / 20)
    out = np.empty(len(samples), dtype=np.int16)
    for start in range(0, len(samples), _CHUNK):
        stop = min(len(samples), start + _CHUNK)
        gain = np.interp(np.arange(start, stop, dtype=np.float64), centres, factors)
        scaled = np.rint(samples[start:stop] * gain)
        np.clip(scaled, -32768, 32767, out=scaled)
        out[start:stop] = scaled
    return out
