"""digest.block_meter: loudness blocks measured in-process while the MP3 arrives are the
numbers `loudness.analyze` gets from an ffmpeg process, however the stream is cut."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import digest.checks
from digest.block_meter import BlockMeter, MeterError
from digest.clips import RetryPolicy
from digest.engines.base import Speaker
from digest.engines.edge import EdgeEngine
from digest.loudness import analyze
from digest.pipeline import BuildOptions, build_episode
from digest_testing.fake_edge import fake_audio, faulty_audio

SEED = Path(__file__).parent / "data" / "meta-talent-war.txt"


def metered(data: bytes, sizes: list[int]):
    """`data` through a BlockMeter in pieces of `sizes` (cycled), then the rest."""
    meter, position, k = BlockMeter(), 0, 0
    while position < len(data):
        size = sizes[k % len(sizes)] if sizes else len(data)
        meter.feed(data[position : position + size])
        position, k = position + size, k + 1
    return meter.finish()


@pytest.fixture(scope="module")
def clips() -> dict[str, bytes]:
    """Real speech (the offline voice: espeak-ng, encoded by lame) and the fake's tones,
    loud, silent and clipped."""
    from digest.engines import close_engine
    from digest.engines.offline import OfflineEngine

    engine = OfflineEngine()
    try:
        speech = asyncio.run(
            engine.synthesize(
                "台风逼近，气象署发布海上陆上警报。明天起风雨明显增强。", Speaker("cmn")
            )
        )
    finally:
        close_engine(engine)
    text = "台风逼近，气象署发布警报……明天起风雨增强。"
    return {
        "speech": speech.audio,
        "tones": fake_audio(text),
        "silence": faulty_audio(text, "silence"),
        "clipped": faulty_audio(text, "clipped"),
    }


@pytest.fixture(scope="module")
def measured(clips) -> dict:
    return {name: analyze(data, name) for name, data in clips.items()}


@pytest.mark.parametrize("name", ["speech", "tones", "silence", "clipped"])
def test_whole_clips_measure_exactly_as_ffmpeg_does(clips, measured, name):
    blocks = metered(clips[name], [])
    assert len(blocks.energies) == len(measured[name].energies) > 10
    assert blocks.energies == measured[name].energies
    assert blocks.peaks == measured[name].peaks


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 20_000), min_size=1, max_size=8))
def test_a_stream_cut_anywhere_measures_the_same(clips, measured, sizes):
    blocks = metered(clips["speech"], sizes)
    assert blocks.energies == measured["speech"].energies
    assert blocks.peaks == measured["speech"].peaks


def test_what_is_not_mp3_is_refused_for_the_ffmpeg_check_to_judge():
    meter = BlockMeter()
    with pytest.raises(MeterError):
        meter.feed(b"<html>not audio</html>" * 50)
        meter.finish()
    with pytest.raises(MeterError):
        BlockMeter().finish()  # nothing at all


def test_an_edge_build_measures_while_streaming_and_gives_the_same_episode(
    fake_edge, tmp_path, monkeypatch
):
    measured_by_ffmpeg = []
    analyze_clip = digest.checks.analyze

    def counting(*args, **kwargs):
        measured_by_ffmpeg.append(args[1] if len(args) > 1 else "")
        return analyze_clip(*args, **kwargs)

    monkeypatch.setattr(digest.checks, "analyze", counting)

    def options(folder: str) -> BuildOptions:
        return BuildOptions(
            engine="edge",
            output_dir=tmp_path / folder,
            cache_dir=tmp_path / f"cache-{folder}",
            date=dt.date(2026, 11, 29),
            retry=RetryPolicy(attempts=3, base_delay=0.01, timeout=10),
        )

    streamed = build_episode(SEED, options("streamed"))
    assert streamed.stats.requests == 12 and measured_by_ffmpeg == []

    monkeypatch.setattr(EdgeEngine, "meters_while_streaming", False)
    afterwards = build_episode(SEED, options("afterwards"))
    assert len(measured_by_ffmpeg) == 12  # the check measured every clip itself
    for mine, theirs in zip(streamed.files.all, afterwards.files.all):
        assert mine.read_bytes() == theirs.read_bytes(), mine.name
    assert streamed.episode.loudness.to_dict() == afterwards.episode.loudness.to_dict()
