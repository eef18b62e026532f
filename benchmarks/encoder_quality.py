"""Benchmark: which lame quality the offline voice should encode at (issue 14).

    python benchmarks/encoder_quality.py [--paragraphs 12] [--repeat 3]

A listening proxy, on real espeak-ng speech of the sample articles:
  1. speak each paragraph with the offline engine's espeak (22,050 Hz PCM) and
     peak-limit it as `encode_pcm` does;
  2. the reference: that PCM resampled to 24 kHz by ffmpeg;
  3. for lame quality 2, 5 and 7: `encode_pcm` (CPU time measured, best of
     `--repeat`), decode the MP3 back to 24 kHz PCM with ffmpeg;
  4. align decoded and reference by cross-correlation (the encoder's delay),
     and report the SNR over all paragraphs together.
The choice: the cheapest quality whose SNR is within 0.5 dB of quality 2's.
SNR rewards waveform fidelity, which lame's psychoacoustic modes (the low
quality numbers) trade for noise the ear masks; so a second proxy is printed
beside it: the log-spectral distance over speech frames (dB, lower is better).
Needs numpy (in the `dev` extra).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import numpy as np

import digest.encoding as encoding
from digest.encoding import encode_pcm, limit_peak
from digest.engines import espeak_binding as espeak
from digest.engines.espeak_voices import flat_voice_file
from digest.engines.offline import BASE_AMPLITUDE, BASE_WPM
from digest.ffmpeg import ffmpeg_exe
from digest.normalization import normalize

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
QUALITIES = (2, 5, 7)
TOLERANCE_DB = 0.5
MAX_LAG = 4000  # samples at 24 kHz: lame's delay is about 1,100


def paragraphs(count: int) -> list[str]:
    found = []
    for name in ("meta-talent-war.txt", "ev-market-simplified.txt", "typhoon-traditional.txt"):
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        found += [normalize(line.strip(), "zh-CN") for line in lines[1:] if len(line.strip()) > 60]
    return found[:count]


def speak(text: str) -> tuple[bytes, int]:
    voice_file = flat_voice_file(espeak.data_path(), "cmn", 0)
    with espeak.lock:
        pcm, _, rate = espeak.speak(text, "cmn", voice_file, BASE_WPM, BASE_AMPLITUDE)
    return bytes(pcm), rate


def ffmpeg_pcm(data: bytes, input_args: list[str]) -> np.ndarray:
    command = [ffmpeg_exe(), "-v", "error", *input_args, "-i", "pipe:0"]
    command += ["-f", "s16le", "-ac", "1", "-ar", "24000", "pipe:1"]
    out = subprocess.run(command, input=data, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def aligned_error(reference: np.ndarray, decoded: np.ndarray):
    """(signal energy, error energy, lag, aligned reference, aligned decoded), with
    `decoded` shifted to best match `reference`."""
    size = 1 << (len(reference) + len(decoded)).bit_length()
    spectrum = np.fft.rfft(decoded, size) * np.conj(np.fft.rfft(reference, size))
    correlation = np.fft.irfft(spectrum, size)
    lags = np.r_[0:MAX_LAG, -MAX_LAG:0]
    lag = int(lags[np.argmax(correlation[lags])])
    # decoded[n + lag] lines up with reference[n]
    start, stop = max(0, -lag), min(len(reference), len(decoded) - lag)
    ref, dec = reference[start:stop], decoded[start + lag : stop + lag]
    return float(np.sum(ref**2)), float(np.sum((ref - dec) ** 2)), lag, ref, dec


def log_spectral_distance(reference: np.ndarray, decoded: np.ndarray) -> list[float]:
    """Per-frame RMS difference of the log power spectra (dB), over frames with speech."""
    window, hop = np.hanning(512), 256
    count = (min(len(reference), len(decoded)) - 512) // hop
    if count <= 0:
        return []
    index = np.arange(512)[None, :] + hop * np.arange(count)[:, None]
    ref = np.abs(np.fft.rfft(reference[index] * window)) ** 2
    dec = np.abs(np.fft.rfft(decoded[index] * window)) ** 2
    floor = 1e-6 * ref.max()
    speech = ref.sum(axis=1) > 1e-4 * ref.sum(axis=1).max()
    difference = 10 * np.log10((ref + floor) / (dec + floor))
    return list(np.sqrt(np.mean(difference[speech] ** 2, axis=1)))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paragraphs", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3, help="encodes per clip (best CPU time)")
    args = parser.parse_args()

    clips = [speak(text) for text in paragraphs(args.paragraphs)]
    seconds = sum(len(pcm) / 2 / rate for pcm, rate in clips)
    print(f"{len(clips)} paragraphs of espeak-ng speech, {seconds:.0f} s")
    references = [
        ffmpeg_pcm(limit_peak(pcm), ["-f", "s16le", "-ac", "1", "-ar", str(rate)])
        for pcm, rate in clips
    ]
    saved = encoding.ENCODER_QUALITY
    results = {}
    try:
        for quality in QUALITIES:
            encoding.ENCODER_QUALITY = quality
            cpu, signal, noise, lags, distances = 0.0, 0.0, 0.0, set(), []
            for (pcm, rate), reference in zip(clips, references):
                best = float("inf")
                for _ in range(args.repeat):
                    started = time.process_time()
                    frames = encode_pcm(pcm, rate)
                    best = min(best, time.process_time() - started)
                cpu += best
                s, n, lag, ref, dec = aligned_error(
                    reference, ffmpeg_pcm(frames.data, ["-f", "mp3"])
                )
                signal, noise, lags = signal + s, noise + n, lags | {lag}
                distances += log_spectral_distance(ref, dec)
            snr = 10 * np.log10(signal / noise)
            results[quality] = (snr, cpu, sorted(lags), float(np.mean(distances)))
    finally:
        encoding.ENCODER_QUALITY = saved

    base_snr, base_cpu, _, _ = results[QUALITIES[0]]
    print(
        f"{'quality':>7} {'SNR dB':>8} {'vs q2':>7} {'LSD dB':>7} {'encode CPU s':>13} {'vs q2':>6}  lag"
    )
    for quality, (snr, cpu, lags, lsd) in results.items():
        print(
            f"{quality:>7} {snr:8.2f} {snr - base_snr:+7.2f} {lsd:7.2f} {cpu:13.3f}"
            f" {cpu / base_cpu:6.2f}  {lags}"
        )
    good = [q for q, (snr, *_) in results.items() if snr >= base_snr - TOLERANCE_DB]
    choice = min(good, key=lambda q: results[q][1])
    print(
        f"cheapest within {TOLERANCE_DB} dB of quality 2: quality {choice} "
        f"(digest.encoding.ENCODER_QUALITY is {saved})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
