"""Our own stages through the in-memory FakeEngine: synthesis retries and throttling,
assembly, tags and output files.  These run in milliseconds; the same behaviour
against real frames and real faults is tested with the edge-tts client and the
fake service in test_faults.py."""

import asyncio
import datetime as dt
import json

import pytest
from mutagen.id3 import ID3

from digest.cache import ClipCache
from digest.engines import Boundary, EngineError, Speaker, Speech
from digest.episode import CHUNK_PAUSE, LEAD_IN, SECTION_PAUSE, TAIL, assemble
from digest.errors import SynthesisError
from digest.mp3 import read_frames
from digest.outputs import write_episode
from digest.script import Script, ScriptChapter
from digest.synthesis import RetryPolicy, SynthesisStats, synthesize_script
from digest.tags import EpisodeInfo, build_tag
from digest_testing.fake_engine import FakeEngine, audio_seconds, tone_speech

VOICE = Speaker(voice="fake-voice")
QUICK = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002, timeout=5)
SCRIPT = Script(
    title="测试节目",
    locale="zh-CN",
    chapters=(
        ScriptChapter("导语", ("测试节目。第一段。", "第二段比较长一些。")),
        ScriptChapter("第二节", ("第二节。内容。",)),
        ScriptChapter("结语", ("总结一下。",)),
    ),
)


def synthesize(engine, *, cache=None, concurrency=4, retry=QUICK, script=SCRIPT):
    stats = SynthesisStats()
    clips = asyncio.run(
        synthesize_script(
            script,
            engine,
            VOICE,
            cache or ClipCache(None),
            concurrency=concurrency,
            retry=retry,
            stats=stats,
        )
    )
    return clips, stats


def failing_then_ok(failures: dict[str, list[Exception]]):
    """A handler that raises the listed errors for a text, in order, then answers."""

    def handler(text, voice):
        pending = failures.get(text)
        if pending:
            raise pending.pop(0)
        return tone_speech(text)

    return handler


# -- synthesis ----------------------------------------------------------------------


def test_every_chunk_is_spoken_once_and_clips_come_back_in_script_order():
    engine = FakeEngine()
    clips, stats = synthesize(engine)
    assert sorted(engine.calls) == sorted(t for c in SCRIPT.chapters for t in c.chunks)
    assert [[c.boundaries[0].text for c in chapter] for chapter in clips] == [
        ["测试节目。", "第二段比较长一些。"],
        ["第二节。"],
        ["总结一下。"],
    ]
    assert stats.requests == 4 and stats.retries == 0 and stats.cached == 0


def test_a_retryable_failure_is_retried_and_a_permanent_one_is_not():
    flaky = "第二节。内容。"
    engine = FakeEngine(
        handler=failing_then_ok({flaky: [EngineError("HTTP 503", retryable=True)] * 2})
    )
    clips, stats = synthesize(engine)
    assert engine.calls.count(flaky) == 3 and stats.retries == 2
    assert clips[1][0].boundaries[0].text == "第二节。"

    broken = FakeEngine(
        handler=failing_then_ok({flaky: [EngineError("bad voice", retryable=False)]})
    )
    with pytest.raises(SynthesisError, match="section 2 .*bad voice") as failure:
        synthesize(broken)
    assert "attempts" not in str(failure.value)
    assert broken.calls.count(flaky) == 1


def test_the_last_attempt_fails_the_build_naming_the_attempts():
    text = "总结一下。"
    engine = FakeEngine(
        handler=failing_then_ok({text: [EngineError("HTTP 503", retryable=True)] * 3})
    )
    with pytest.raises(SynthesisError, match="after 3 attempts: HTTP 503"):
        synthesize(engine)


def test_audio_shorter_than_its_last_boundary_is_retried_as_truncated():
    text = "第二节。内容。"
    full = tone_speech(text)
    cut = Speech(audio=full.audio[: len(full.audio) // 2], boundaries=full.boundaries)
    answers = [cut, full]
    engine = FakeEngine(handler=lambda t, v: answers.pop(0) if t == text else tone_speech(t))
    clips, stats = synthesize(engine)
    assert stats.retries == 1
    assert clips[1][0].frames.duration == pytest.approx(audio_seconds(full.audio))


def test_a_throttled_answer_halves_the_requests_in_flight():
    in_flight = peak_after_throttle = 0
    throttled = False

    class SlowEngine(FakeEngine):
        async def synthesize(self, text, voice):
            nonlocal in_flight, peak_after_throttle, throttled
            in_flight += 1
            try:
                if throttled:
                    peak_after_throttle = max(peak_after_throttle, in_flight)
                await asyncio.sleep(0.01)
                if not throttled:
                    throttled = True
                    raise EngineError("HTTP 429", retryable=True, throttled=True)
                return tone_speech(text)
            finally:
                in_flight -= 1

    many = Script("t", "zh-CN", (ScriptChapter("a", tuple(f"第{i}句。" for i in range(40))),))
    _, stats = synthesize(SlowEngine(), script=many, concurrency=8)
    assert stats.throttled == 1
    assert 1 <= peak_after_throttle <= 4 + 3  # halved to 4; requests already in flight drain


def test_a_run_of_failures_is_an_outage_and_ends_the_build_early():
    engine = FakeEngine(
        handler=lambda t, v: (_ for _ in ()).throw(EngineError("down", retryable=True))
    )
    many = Script("t", "zh-CN", (ScriptChapter("a", tuple(f"第{i}句。" for i in range(30))),))
    with pytest.raises(SynthesisError, match="fake engine looks down: 10 requests in a row failed"):
        synthesize(
            engine,
            script=many,
            concurrency=2,
            retry=RetryPolicy(attempts=5, base_delay=0.001, max_delay=0.001),
        )
    assert len(engine.calls) < 30 * 5


def test_cached_clips_are_not_requested_again(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    first, _ = synthesize(FakeEngine(), cache=cache)
    engine = FakeEngine()
    again, stats = synthesize(engine, cache=cache)
    assert engine.calls == [] and stats.cached == 4 and stats.requests == 0
    assert [[c.frames.read_data() for c in ch] for ch in again] == [
        [c.frames.read_data() for c in ch] for ch in first
    ]


# -- assembly -------------------------------------------------------------------------


def test_assembly_counts_every_pause_and_keeps_chapters_contiguous():
    clips, _ = synthesize(FakeEngine())
    episode = assemble(SCRIPT, clips)
    frame = 576 / 24000
    clip_seconds = [sum(c.frames.duration for c in chapter) for chapter in clips]

    def pause(seconds):
        return round(seconds / frame) * frame

    expected_first = pause(LEAD_IN) + clip_seconds[0] + pause(CHUNK_PAUSE) + pause(SECTION_PAUSE)
    chapters = episode.chapters
    assert [c.title for c in chapters] == ["导语", "第二节", "结语"]
    assert chapters[0].start == 0
    assert chapters[0].end == pytest.approx(expected_first, abs=1e-9)
    assert all(a.end == b.start for a, b in zip(chapters, chapters[1:]))
    assert chapters[-1].end == pytest.approx(episode.duration, abs=1e-9)
    assert episode.duration == pytest.approx(
        expected_first + clip_seconds[1] + pause(SECTION_PAUSE) + clip_seconds[2] + pause(TAIL),
        abs=1e-9,
    )
    # subtitle cues are shifted by where their clip starts
    second_clip_start = pause(LEAD_IN) + clips[0][0].frames.duration + pause(CHUNK_PAUSE)
    cue = next(c for c in episode.cues if c.text == "第二段比较长一些。")
    assert cue.start == pytest.approx(second_clip_start, abs=1e-9)
    assert read_frames(episode.audio.to_frames().data).count == episode.audio.count


# -- tags and files -------------------------------------------------------------------


def built_episode():
    clips, _ = synthesize(FakeEngine())
    return assemble(SCRIPT, clips)


INFO = EpisodeInfo(
    title="测试节目",
    show="晨间简报",
    date=dt.date(2026, 11, 30),
    description="一段描述",
    engine="fake",
    voice="fake-voice",
)


def test_the_tag_reads_back_with_every_field_and_chapter(tmp_path):
    episode = built_episode()
    path = tmp_path / "e.mp3"
    path.write_bytes(build_tag(episode, INFO) + episode.audio.to_frames().data)
    tag = ID3(path)
    assert tag.version[:2] == (2, 3)
    assert str(tag["TIT2"]) == "测试节目" and str(tag["TPE1"]) == "晨间简报"
    assert str(tag["TALB"]) == "晨间简报" and str(tag["TCON"]) == "Podcast"
    assert str(tag["TLEN"]) == str(round(episode.duration * 1000))
    assert str(tag["TXXX:digest:engine"]) == "fake"
    toc = tag.getall("CTOC")
    assert len(toc) == 1 and toc[0].child_element_ids == ["chp0", "chp1", "chp2"]
    chapters = sorted(tag.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == ["导语", "第二节", "结语"]
    assert [c.start_time for c in chapters] == [round(c.start * 1000) for c in episode.chapters]


def test_write_episode_writes_the_three_files_named_after_date_and_title(tmp_path):
    episode = built_episode()
    files = write_episode(episode, INFO, tmp_path)
    assert files.mp3.name == "2026-11-30-ce-shi-jie-mu.mp3"
    assert read_frames(files.mp3.read_bytes()).count == episode.audio.count
    document = json.loads(files.chapters.read_text(encoding="utf-8"))
    assert [c["title"] for c in document["chapters"]] == ["导语", "第二节", "结语"]
    assert document["chapters"][-1]["endTime"] == round(episode.duration, 3)
    subtitles = files.subtitles.read_text(encoding="utf-8")
    assert subtitles.startswith("1\n00:00:00,504 --> ")  # the lead-in is 21 whole frames
    assert "第二段比较长一些。" in subtitles


def test_boundaries_are_plain_values():
    b = Boundary(0.0, 1.0, "好。")
    assert (b.start, b.end, b.text) == (0.0, 1.0, "好。")
