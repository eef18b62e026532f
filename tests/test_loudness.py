"""Loudness: the block meter agrees with ffmpeg's ebur128, and episodes end on target.

Every figure asserted here is measured independently of digest's own meter,
by ffmpeg's ebur128 filter on the finished file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import subprocess
from pathlib import Path

import mutagen.mp3
import pytest
from mutagen.id3 import ID3
from typer.testing import CliRunner

from digest.cli import app
from digest.engines.base import Boundary, Speaker, Speech
from digest.engines.offline import OfflineEngine
from digest.ffmpeg import ffmpeg_exe
from digest.loudness import analyze, measure, parse_target
from digest.mp3 import (
    GAIN_STEP_DB,
    apply_gain,
    join,
    read_frames,
    read_info_frame,
    silence,
)
from digest.pipeline import BuildOptions, build_episode
from digest.synthesis import RetryPolicy
from digest_testing.audio import ebur128
from digest_testing.fake_edge import expected_boundaries, fake_audio

ARTICLE = """早间简报

一、地铁延长运营

市交通委员会昨天宣布，从下月起，地铁一号线和二号线将在周五和周六延长运营一小时。

二、公交线路调整

十二条公交线路将重新规划走向，以减少与地铁线路的重复。部分站点会合并。
"""
DATE = dt.date(2026, 11, 30)


class ScaledFakeEngine:
    """In memory: the fake service's audio made `steps` x 1.5 dB louder or quieter."""

    name = "memory"
    default_voice = "fake"
    version = "1"

    def __init__(self, steps: int | tuple[int, int]):
        self.steps = steps

    async def synthesize(self, text: str, speaker: Speaker) -> Speech:
        steps = self.steps
        if isinstance(steps, tuple):  # quiet and loud clips in one episode, by text
            steps = steps[len(text) % 2]
        frames = apply_gain(read_frames(fake_audio(text)), steps)
        return Speech(frames.data, fake_boundaries(text))


class PeakyFakeEngine:
    """In memory: quiet fake speech with one frame 21 dB louder (peaks far above loudness)."""

    name = "memory"
    default_voice = "fake"
    version = "1"

    async def synthesize(self, text: str, speaker: Speaker) -> Speech:
        frames = apply_gain(read_frames(fake_audio(text)), -8)
        middle = (frames.count // 2) * 144
        peak = apply_gain(read_frames(frames.data[middle : middle + 144]), 14)
        audio = frames.data[:middle] + peak.data + frames.data[middle + 144 :]
        return Speech(audio, fake_boundaries(text))


def fake_boundaries(text: str) -> tuple[Boundary, ...]:
    return tuple(
        Boundary(b["offset"] / 1e7, (b["offset"] + b["duration"]) / 1e7, b["text"])
        for b in expected_boundaries(text)
    )


def build_with(engine, tmp_path: Path, monkeypatch, **overrides):
    tmp_path.mkdir(parents=True, exist_ok=True)
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    options = BuildOptions(
        engine=engine,
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        date=DATE,
        retry=RetryPolicy(attempts=2, base_delay=0.01),
        **overrides,
    )
    warnings: list[str] = []
    return build_episode(article, options, warn=warnings.append), warnings


@pytest.fixture(scope="module")
def offline_clip() -> bytes:
    speech = asyncio.run(
        OfflineEngine().synthesize(
            "市交通委员会昨天宣布，从下月起，地铁一号线将延长运营一小时。", Speaker("cmn")
        )
    )
    return speech.audio


def test_block_meter_agrees_with_ffmpeg_ebur128(offline_clip, tmp_path):
    audio = silence(1.0).data + offline_clip + silence(0.5).data + offline_clip
    path = tmp_path / "speech.mp3"
    path.write_bytes(audio)
    ours = measure(analyze(audio))
    theirs = ebur128(path)
    assert ours.integrated == pytest.approx(theirs["I"], abs=0.15)
    assert ours.true_peak == pytest.approx(theirs["TP"], abs=0.15)
    assert ours.lra == pytest.approx(theirs["LRA"], abs=0.5)
    assert measure(analyze(path)) == ours  # a file streams the same as a pipe


def test_global_gain_steps_rescale_exactly_and_leave_silence_alone(offline_clip, tmp_path):
    frames = join([silence(0.2), read_frames(offline_clip)])
    louder = apply_gain(frames, 2)
    assert len(louder.data) == len(frames.data) and louder.count == frames.count
    assert louder.data[: silence(0.2).count * 144] == silence(0.2).data
    (tmp_path / "a.mp3").write_bytes(frames.data)
    (tmp_path / "b.mp3").write_bytes(louder.data)
    before, after = ebur128(tmp_path / "a.mp3"), ebur128(tmp_path / "b.mp3")
    assert after["I"] - before["I"] == pytest.approx(2 * GAIN_STEP_DB, abs=0.1)
    assert after["TP"] - before["TP"] == pytest.approx(2 * GAIN_STEP_DB, abs=0.1)
    assert apply_gain(louder, -2).data == frames.data


@pytest.mark.parametrize("steps", [-10, 8, (-10, 6)], ids=["quiet", "loud", "mixed"])
def test_quiet_and_loud_clips_end_on_target_with_peaks_below_ceiling(steps, tmp_path, monkeypatch):
    result, warnings = build_with(ScaledFakeEngine(steps), tmp_path, monkeypatch)
    measured = ebur128(result.files.mp3)
    assert measured["I"] == pytest.approx(-19.0, abs=1.0)
    assert measured["TP"] <= -1.0
    assert result.episode.loudness.on_target and not warnings
    assert result.episode.loudness.after.integrated == pytest.approx(measured["I"], abs=0.2)
    tags = ID3(result.files.mp3)
    assert tags["TXXX:digest:integrated_loudness"].text[0] == (
        f"{result.episode.loudness.after.integrated:.1f} LUFS"
    )
    assert tags["TXXX:digest:true_peak"].text[0].endswith(" dBTP")
    assert tags["TXXX:digest:loudness_range"].text[0].endswith(" LU")


def test_loudness_off_leaves_the_audio_as_spoken(tmp_path, monkeypatch):
    result, _ = build_with(ScaledFakeEngine(-10), tmp_path, monkeypatch, loudness=None)
    assert result.episode.loudness.gain_db == 0
    assert ebur128(result.files.mp3)["I"] < -30


def test_reencode_reaches_the_target_when_peaks_block_the_lossless_step(tmp_path, monkeypatch):
    # Quiet speech with peaks far above its loudness: the lossless gain would clip.
    engine = PeakyFakeEngine()
    lossless, warnings = build_with(engine, tmp_path / "a", monkeypatch)
    assert not lossless.episode.loudness.on_target
    assert any("reencode" in w for w in warnings)
    assert ebur128(lossless.files.mp3)["TP"] <= -1.0

    reencoded, warnings = build_with(engine, tmp_path / "b", monkeypatch, loudness_mode="reencode")
    measured = ebur128(reencoded.files.mp3)
    assert measured["I"] == pytest.approx(-19.0, abs=1.0)
    assert measured["TP"] <= -1.0
    assert not warnings
    # Same length and chapters: the re-encoded audio stays on its frames.
    assert reencoded.episode.audio.count == lossless.episode.audio.count
    assert reencoded.episode.chapters == lossless.episode.chapters


def test_info_frame_gives_exact_duration_to_mutagen_and_ffmpeg(tmp_path, monkeypatch):
    result, _ = build_with(ScaledFakeEngine(0), tmp_path, monkeypatch)
    path = result.files.mp3
    exact = result.episode.audio.count * 576 / 24000
    data = path.read_bytes()
    info = read_info_frame(data)
    assert info["frames"] == result.episode.audio.count and info["toc"] == 1
    assert info["bytes"] == len(data) - data.index(result.episode.audio.info_frame())
    assert mutagen.mp3.MP3(path).info.length == pytest.approx(exact, abs=1e-9)
    assert int(ID3(path)["TLEN"].text[0]) == round(exact * 1000)
    probe = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
    ).stderr
    assert "Estimating duration from bitrate" not in probe
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", probe).groups()
    assert int(h) * 3600 + int(m) * 60 + float(s) == pytest.approx(exact, abs=0.01)


def test_loudness_option_is_checked_before_any_work(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    runner = CliRunner()
    for bad in (["--loudness", "loud"], ["--loudness", "-60"], ["--loudness-mode", "fast"]):
        result = runner.invoke(app, ["build", str(article), "-o", str(tmp_path / "o"), *bad])
        assert result.exit_code == 2, result.output
        assert "error:" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    assert parse_target("off") is None and parse_target("-16 LUFS") == -16.0


def test_global_gain_steps_work_on_mpeg1_stereo_too(tmp_path):
    # Another encoder's file: MPEG-1 Layer III, 44.1 kHz joint stereo, two granules a frame.
    source = tmp_path / "tone.mp3"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=4",
         "-af", "volume=-20dB", "-ac", "2", "-ar", "44100", "-b:a", "128k",
         "-write_xing", "0", str(source)],
        check=True,
    )  # fmt: skip
    frames = read_frames(source.read_bytes(), expected=None)
    assert frames.format.version == 3 and frames.format.channels == 2
    louder = tmp_path / "louder.mp3"
    louder.write_bytes(apply_gain(frames, 3).data)
    plain = tmp_path / "plain.mp3"
    plain.write_bytes(frames.data)
    gained = ebur128(louder)["I"] - ebur128(plain)["I"]
    assert gained == pytest.approx(3 * GAIN_STEP_DB, abs=0.1)


@pytest.mark.parametrize("seed", range(40))
def test_the_loudness_range_is_the_same_whether_its_windows_are_sorted_or_heaped(seed, monkeypatch):
    """A short episode's percentiles come from sorting its windows, a long one's from
    heapq: both are the same order statistics, so the same figure to the last bit."""
    import random

    from digest import loudness

    rng = random.Random(seed)
    blocks = [
        0.0 if rng.random() < 0.1 else 10 ** rng.uniform(-8, -0.5)
        for _ in range(rng.choice([31, 60, 500, 3000]))
    ]
    monkeypatch.setattr(loudness, "SORTED_WINDOWS_AT_MOST", 10**9)
    sorted_figure = loudness.loudness_range(blocks)
    monkeypatch.setattr(loudness, "SORTED_WINDOWS_AT_MOST", 0)
    assert loudness.loudness_range(blocks) == sorted_figure
    assert sorted_figure > 0
