"""Dead air, clipping and speaking-rate checks; chapters that start on their heading."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.checks import (
    DEFAULT_SECONDS_PER_CHAR,
    Problem,
    expected_duration,
    find_problems,
    judge_clip,
    rate_factor,
)
from digest.cli import app
from digest.engines.base import EngineError
from digest.episode import SECTION_PAUSE
from digest.errors import SynthesisError
from digest.loudness import Blocks, analyze
from digest.mp3 import read_frames
from digest.pipeline import BuildOptions, build_episode
from digest.synthesis import RetryPolicy
from digest_testing.audio import decode_mp3
from digest_testing.fake_edge import fake_audio, faulty_audio

ARTICLE = """晨间简报

一、地铁延长运营

市交通委员会昨天宣布，从下月起，地铁一号线和二号线将在周五和周六延长运营一小时。

二、公交线路调整

十二条公交线路将重新规划走向，以减少与地铁线路的重复。部分站点会合并。

三、共享单车

企业必须在高峰时段派人整理车辆。
"""
DATE = dt.date(2026, 11, 30)
SPEECH = "市交通委员会昨天宣布，从下月起，地铁一号线将延长运营一小时。"


def options(tmp_path: Path, **overrides) -> BuildOptions:
    settings = dict(
        engine="edge",
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        date=DATE,
        retry=RetryPolicy(attempts=3, base_delay=0.01, timeout=10),
        idle_timeout=2.0,
    )
    settings.update(overrides)
    return BuildOptions(**settings)


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def test_a_silent_answer_is_retried_like_a_truncated_one(fake_edge, article, tmp_path):
    fake_edge.fail_next("silence", times=1, when=lambda r: "十二条" in (r.text or ""))
    warnings: list[str] = []
    result = build_episode(article, options(tmp_path), warn=warnings.append)
    assert fake_edge.count(fault="silence") == 1
    assert fake_edge.texts().count(next(t for t in fake_edge.texts() if "十二条" in t)) == 2
    assert not warnings
    # The retried clip is the real one: the episode holds the good audio only.
    audio = result.files.mp3.read_bytes()
    good = next(t for t in fake_edge.texts() if "十二条" in t)
    assert fake_audio(good)[200:400] in audio


def test_a_voice_that_keeps_answering_silence_fails_the_build_naming_the_section(
    fake_edge, article, tmp_path
):
    fake_edge.fail_next("silence", times=None, when=lambda r: "十二条" in (r.text or ""))
    with pytest.raises(SynthesisError, match=r"section 2 .*dead air"):
        build_episode(article, options(tmp_path))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    result = CliRunner().invoke(
        app, ["build", str(article), "--engine", "edge", "-o", str(tmp_path / "o"),
              "--cache-dir", str(tmp_path / "cache"), "--retries", "2"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "dead air" in result.output and "Traceback" not in result.output


def test_clipped_audio_is_reported_with_its_time(fake_edge, article, tmp_path):
    fake_edge.fail_next("clipped", times=None, when=lambda r: "十二条" in (r.text or ""))
    warnings: list[str] = []
    result = build_episode(article, options(tmp_path), warn=warnings.append)
    clipped = [p for p in result.episode.problems if p.kind == "clipping"]
    assert clipped and len(clipped) == len([w for w in warnings if w.startswith("clipping at")])
    # The clipped clip is section 2's (二、公交线路调整): the report falls inside it.
    chapter = result.episode.chapters[1]
    assert len(clipped) == 1
    assert all(chapter.start - 0.1 <= p.start < p.end <= chapter.end + 0.1 for p in clipped)
    assert clipped[0].start == pytest.approx(chapter.start + 0.1, abs=0.15)
    # ... and the rest of the episode was brought to the target, peaks included.
    assert result.episode.loudness.after.true_peak <= -1.0
    summary = CliRunner().invoke(
        app, ["build", str(article), "--engine", "edge", "-o", str(tmp_path / "o2"),
              "--cache-dir", str(tmp_path / "cache"), "--json", "--date", "2026-11-30"],
    )  # fmt: skip
    assert summary.exit_code == 0, summary.output
    document = json.loads(summary.stdout[summary.stdout.index("{") :])
    assert [p["kind"] for p in document["problems"]] == ["clipping"] * len(clipped)
    assert document["loudness"]["true_peak_dbtp"] <= -1.0


def test_dead_air_and_implausible_durations_are_refused():
    speech = read_frames(fake_audio(SPEECH))
    blocks = analyze(speech.data)
    bounds = DEFAULT_SECONDS_PER_CHAR["edge"]
    judge_clip(SPEECH, speech, blocks, bounds)  # normal speech passes
    silent = read_frames(faulty_audio(SPEECH, "silence"))
    with pytest.raises(EngineError, match="dead air") as caught:
        judge_clip(SPEECH, silent, analyze(silent.data), bounds)
    assert caught.value.retryable
    short = read_frames(fake_audio("市交通委员会"))
    with pytest.raises(EngineError, match="expected"):
        judge_clip(SPEECH * 3, short, analyze(short.data), bounds)
    long = read_frames(fake_audio(SPEECH * 4))
    with pytest.raises(EngineError, match="expected"):
        judge_clip("市交通", long, analyze(long.data), bounds)
    # A chunk with nothing to say may be silent.
    judge_clip("……", silent, analyze(silent.data), bounds)


def test_rate_bounds_leave_room_for_slow_short_and_fast_speech():
    low, high = expected_duration("结语", DEFAULT_SECONDS_PER_CHAR["offline"])
    assert low < 0.3 and high > 3.0  # a two-character heading with its pauses
    slow = expected_duration(SPEECH, DEFAULT_SECONDS_PER_CHAR["edge"], rate_factor("-50%"))
    fast = expected_duration(SPEECH, DEFAULT_SECONDS_PER_CHAR["edge"], rate_factor("+100%"))
    assert slow[1] > 2 * 0.25 * 28 and fast[0] < 0.5 * 0.2 * 28
    assert rate_factor("+25%") == 1.25 and rate_factor("junk") == 1.0


def test_long_silences_and_clipping_found_in_blocks():
    speech = Blocks((1e-2,) * 20, (0.3,) * 20)
    hot = Blocks((1e-2,) * 5, (1.5,) * 5)
    blocks = Blocks(
        speech.energies + Blocks.silence(1.5).energies + speech.energies
        + Blocks.silence(3.5).energies + hot.energies,
        speech.peaks + Blocks.silence(1.5).peaks + speech.peaks
        + Blocks.silence(3.5).peaks + hot.peaks,
    )  # fmt: skip
    problems = find_problems(blocks)
    assert [p.kind for p in problems] == ["silence", "clipping"]
    assert problems[0].start == pytest.approx(5.5) and problems[0].end == pytest.approx(9.0)
    assert problems[1].start == pytest.approx(9.0)
    assert problems[0].describe() == "silence at 0:05.5–0:09.0 (3.5 s)"
    assert Problem("silence", 3725.0, 3729.0).describe().startswith("silence at 1:02:05.0")


def _speech_starts(samples, rate: int, start: float, level: int = 300) -> float:
    first = int(start * rate)
    for i in range(first, len(samples)):
        if abs(samples[i]) > level:
            return i / rate
    return float("inf")


@pytest.mark.parametrize("engine", ["edge", "offline"])
def test_chapters_start_on_the_first_frame_of_their_heading(engine, request, article, tmp_path):
    if engine == "edge":
        request.getfixturevalue("fake_edge")
    result = build_episode(article, options(tmp_path, engine=engine, voice="xiaoxiao"))
    decoded = decode_mp3(result.episode.audio.to_frames().data)
    samples = decoded.get_array_of_samples()
    rate = decoded.frame_rate
    frame = 576 / rate
    lead_in = 0.1  # the clip's own silence before its first sound (both engines)
    for chapter in result.episode.chapters[1:]:
        # The whole pause lies before the start (one frame allowed for the decoder's overlap) ...
        before = samples[
            int((chapter.start - SECTION_PAUSE + frame) * rate) : int(chapter.start * rate)
        ]
        assert max(abs(x) for x in before) < 30, chapter.title
        # ... and the heading is heard within its clip's lead-in plus one frame.
        spoken = _speech_starts(samples, rate, chapter.start)
        assert chapter.start < spoken <= chapter.start + lead_in + frame, chapter.title


def test_inserted_pauses_do_not_count_as_dead_air():
    speech = Blocks((1e-2,) * 20, (0.3,) * 20)
    gap = Blocks.silence(3.5)
    blocks = Blocks(
        speech.energies + gap.energies + speech.energies, speech.peaks + gap.peaks + speech.peaks
    )
    assert [p.kind for p in find_problems(blocks)] == ["silence"]
    assert find_problems(blocks, intended=[(2.0, 5.0)]) == []  # 0.5 s left: the voice's


def test_a_long_silence_inside_a_clip_is_reported_with_its_time(fake_edge, tmp_path):
    article = tmp_path / "pause.txt"
    article.write_text(
        "停顿测试\n\n一、开场\n\n今天的节目现在开始。\n\n二、长停顿\n\n"
        "他停了很久" + "……" * 12 + "然后继续说话，一直说到节目结束。\n",
        encoding="utf-8",
    )
    warnings: list[str] = []
    result = build_episode(article, options(tmp_path), warn=warnings.append)
    silences = [p for p in result.episode.problems if p.kind == "silence"]
    assert len(silences) == 1 and warnings == [silences[0].describe()]
    chapter = result.episode.chapters[1]
    assert chapter.start < silences[0].start < silences[0].end < chapter.end
    assert silences[0].end - silences[0].start == pytest.approx(24 * 0.192, abs=0.3)


def test_a_warm_build_measures_nothing_the_cache_keeps_each_clips_blocks(
    fake_edge, article, tmp_path, monkeypatch
):
    import digest.checks

    first = build_episode(article, options(tmp_path, output_dir=tmp_path / "a"))
    measured: list[int] = []
    real = digest.checks.analyze
    monkeypatch.setattr(
        digest.checks, "analyze", lambda *a, **k: measured.append(1) or real(*a, **k)
    )
    warm = build_episode(article, options(tmp_path, output_dir=tmp_path / "b"))
    assert warm.stats.requests == 0 and warm.stats.cached > 0
    assert measured == []
    assert warm.episode.loudness == first.episode.loudness
    assert warm.files.mp3.read_bytes() == first.files.mp3.read_bytes()


def test_cache_entries_without_blocks_are_measured_once_and_completed(
    fake_edge, article, tmp_path, monkeypatch
):
    import digest.checks

    build_episode(article, options(tmp_path, output_dir=tmp_path / "a", check_clips=False))
    measured: list[int] = []
    real = digest.checks.analyze
    monkeypatch.setattr(
        digest.checks, "analyze", lambda *a, **k: measured.append(1) or real(*a, **k)
    )
    second = build_episode(article, options(tmp_path, output_dir=tmp_path / "b"))
    assert len(measured) == second.stats.cached > 0 and second.stats.requests == 0
    build_episode(article, options(tmp_path, output_dir=tmp_path / "c"))
    assert len(measured) == second.stats.cached  # the third build measured nothing
