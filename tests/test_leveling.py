"""In-process leveling of offline speech: on target, peaks held, timing kept, measured once.

The offline engine levels its PCM with numpy (digest.leveling) and returns the
clip's loudness blocks with the clip.  Every figure below is checked against
an independent measurement of the *encoded* clip or episode: digest's ffmpeg
block meter (`loudness.analyze`) or ffmpeg's own ebur128 filter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

import digest.checks
import digest.episode
from digest import leveling
from digest.checks import ClipCheck
from digest.engines.base import Speaker
from digest.engines.offline import OfflineEngine
from digest.loudness import analyze, integrated_loudness, measure
from digest.mp3 import read_frames
from digest.pipeline import BuildOptions, build_episode
from digest.synthesis import RetryPolicy
from digest_testing.audio import ebur128

pytestmark = pytest.mark.skipif(
    not OfflineEngine().available(), reason="espeak-ng library not loadable"
)

TEXT = "市交通委员会昨天宣布，从下月起，地铁一号线和二号线将在周五和周六延长运营一小时。"
RATE = 22050
CEILING = 32768 * 10 ** (leveling.PCM_PEAK_CEILING / 20)


def speak(text: str, speaker: Speaker):
    return asyncio.run(OfflineEngine().synthesize(text, speaker))


@pytest.mark.parametrize(
    "speaker",
    [Speaker("cmn"), Speaker("cmn", volume="-60%"), Speaker("cmn", rate="+40%", pitch="+20Hz")],
    ids=["default", "quiet", "fast-high"],
)
def test_each_clip_leaves_the_engine_on_target_with_its_blocks(speaker, tmp_path):
    speech = speak(TEXT, speaker)
    clip = tmp_path / "clip.mp3"
    clip.write_bytes(speech.audio)
    independent = ebur128(clip)
    assert independent["I"] == pytest.approx(-19.0, abs=0.5)
    assert independent["TP"] <= -2.0

    # The blocks the engine returns are those the meter gives for the encoded clip.
    measured = analyze(speech.audio, "the clip")
    ours = speech.blocks
    assert ours is not None and len(ours.energies) == len(measured.energies)
    assert measure(ours).integrated == pytest.approx(measure(measured).integrated, abs=0.2)
    # Peaks are an upper bound on the encoded clip's true peaks, and a close one.
    assert (
        measure(measured).true_peak <= measure(ours).true_peak <= measure(measured).true_peak + 1.5
    )
    for mine, theirs in zip(ours.energies, measured.energies):
        if theirs > 1e-5:  # louder than -50 LUFS: speech, not the noise floor
            assert 10 * math.log10(mine / theirs) == pytest.approx(0, abs=0.5)


def peaky_speech(seconds: float = 3.0) -> np.ndarray:
    """A 180 Hz buzz with a 5 ms burst at 2 kHz every 0.4 s, 25 dB above it."""
    t = np.arange(round(seconds * RATE)) / RATE
    buzz = 0.05 * np.sign(np.sin(2 * np.pi * 180 * t))
    bursts = ((t % 0.4) < 0.005) * 0.9 * np.sin(2 * np.pi * 2000 * t)
    return np.rint((buzz + bursts) * 32767).astype(np.int16)


def test_limiter_holds_peaks_and_keeps_length_and_timing():
    source = peaky_speech()
    target = -16.0
    leveled = leveling.level(source, RATE, target)
    assert len(leveled) == len(source)
    assert np.abs(leveled.astype(np.int32)).max() <= CEILING + 1
    achieved = integrated_loudness(analyze(leveled.tobytes(), "x", pcm_rate=RATE).energies)
    assert achieved == pytest.approx(target, abs=0.3)
    # Only a gain was applied, sample by sample: no shift, no sign change, and a
    # smooth one (at most 0.2 dB from one sample to the next: no clicks).
    loud = np.abs(source) > 200
    gain = leveled[loud] / source[loud]
    assert (gain > 0).all()
    steps = np.abs(np.diff(20 * np.log10(gain)))
    contiguous = np.diff(np.flatnonzero(loud)) == 1
    assert steps[contiguous].max() < 0.2


def test_silence_is_left_silent_and_judged_dead_air():
    frames, blocks = leveling.encode_leveled(bytes(2 * RATE), RATE)
    assert set(blocks.energies) == {0.0} and len(blocks.energies) == math.ceil(
        round(frames.duration * 10, 6)
    )
    with pytest.raises(Exception, match="dead air"):
        asyncio.run(ClipCheck(None)("说点什么", frames, blocks))


ARTICLE = """早间简报

一、地铁延长运营

市交通委员会昨天宣布，从下月起，地铁一号线和二号线将在周五和周六延长运营一小时。

二、公交线路调整

十二条公交线路将重新规划走向，以减少与地铁线路的重复。部分站点会合并。
"""


def test_an_offline_build_measures_no_clip_again_and_ends_on_target(tmp_path, monkeypatch):
    calls: list[str] = []

    def counted(audio, what="audio", **kwargs):
        calls.append(what)
        return analyze(audio, what, **kwargs)

    monkeypatch.setattr(digest.checks, "analyze", counted)
    monkeypatch.setattr(digest.episode, "analyze", counted)
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    options = BuildOptions(
        engine="offline",
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        date=dt.date(2026, 11, 30),
        retry=RetryPolicy(attempts=2, base_delay=0.01),
    )
    warnings: list[str] = []
    result = build_episode(article, options, warn=warnings.append)
    assert calls == [] and not warnings
    measured = ebur128(Path(result.files.mp3))
    assert measured["I"] == pytest.approx(-19.0, abs=1.0)  # -16 LUFS as heard on two ears
    assert measured["TP"] <= -1.0
    assert result.episode.loudness.after.integrated == pytest.approx(measured["I"], abs=0.3)


def test_engine_blocks_that_do_not_cover_the_clip_are_measured_instead():
    speech = speak(TEXT, Speaker("cmn"))
    frames = read_frames(speech.audio)
    short = type(speech.blocks)(speech.blocks.energies[:-3], speech.blocks.peaks[:-3])
    blocks = asyncio.run(ClipCheck(None)(TEXT, frames, short))
    assert len(blocks.energies) == len(speech.blocks.energies)
