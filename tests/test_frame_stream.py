"""Issue 14, flat memory: an episode's clips stay in the cache until the MP3 is written,
their frame counts come from the cache's records, and the written file is the same
bytes the old join-everything-in-memory path gave."""

import asyncio
import hashlib
import json
import math
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import digest.mp3 as mp3
from digest.cache import ClipCache
from digest.checks import LISTED_LOUDNESS_FIELD, LOUDNESS_FIELD, ClipCheck
from digest.clips import cached_clips
from digest.encoding import encode_pcm
from digest.episode import assemble, set_loudness
from digest.errors import Mp3Error
from digest.frame_stream import FRAMES_FIELD, FrameStream, StoredFrames
from digest.loudness import Blocks
from digest.mp3 import EPISODE_FORMAT, Frames, apply_gain, info_frame, read_frames, silence
from digest.outputs import write_episode
from digest.synthesis import SynthesisStats, synthesize_script
from digest_testing.fake_engine import FakeEngine
from tests.test_stages import INFO, QUICK, SCRIPT, VOICE

# -- the fast global_gain path against the frame-by-frame one ---------------------------


def speech_like(seconds: float, seed: int) -> Frames:
    """Encoded audio with quiet and loud stretches (granules of many different gains)."""
    rate = 24000
    samples = array(
        "h",
        (
            int(12000 * math.sin(i * (0.05 + seed / 97)) * abs(math.sin(i / (900 + seed))))
            for i in range(int(seconds * rate))
        ),
    )
    return encode_pcm(samples.tobytes(), rate)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 50), steps=st.one_of(st.integers(-30, 30), st.integers(-250, 250)))
def test_the_column_wise_gain_equals_the_frame_by_frame_one(seed, steps):
    """Equal bytes, or the same error naming the same frame (gains pushed past 255);
    gains pushed below 0 stop at 0."""
    frames = speech_like(1.0, seed)
    data = frames.data + silence(0.2).data  # silent granules must be left alone
    assert mp3._uniform_frame_length(data, EPISODE_FORMAT) == 144
    slow_highest = max(
        (g for _pos, gains in mp3._walk_granules(data, EPISODE_FORMAT) for g in gains), default=0
    )
    assert mp3.highest_gain(data, EPISODE_FORMAT) == slow_highest
    if slow_highest + steps > 255:
        with pytest.raises(Mp3Error) as slow_error:
            mp3._gained_frame_by_frame(data, EPISODE_FORMAT, steps)
        with pytest.raises(Mp3Error, match=f"^{slow_error.value}$"):
            mp3.gained(data, EPISODE_FORMAT, steps)
    else:
        fast = mp3.gained(data, EPISODE_FORMAT, steps)
        assert fast == mp3._gained_frame_by_frame(data, EPISODE_FORMAT, steps)
        assert (fast != data) == (steps != 0)


def test_frames_with_a_crc_take_the_frame_by_frame_path():
    frames = speech_like(0.3, 1)
    protected = bytearray(frames.data)
    protected[1::144] = bytes([protected[1] & 0xFE]) * frames.count  # "has a CRC"
    assert mp3._uniform_frame_length(bytes(protected), EPISODE_FORMAT) is None


# -- clips stay on disk ------------------------------------------------------------------


def synthesize(engine, cache, check=None):
    return asyncio.run(
        synthesize_script(
            SCRIPT, engine, VOICE, cache, concurrency=4, retry=QUICK, stats=SynthesisStats(),
            check=check,
        )
    )  # fmt: skip


def test_cached_clips_are_planned_not_read_and_the_file_equals_the_joined_audio(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    cold = synthesize(FakeEngine(), cache)
    assert all(isinstance(c.frames, StoredFrames) for chapter in cold for c in chapter)
    episode = set_loudness(assemble(SCRIPT, cold), -19.0)
    # What the old path wrote: everything joined in memory, the gain applied to the whole.
    joined = mp3.join([p if isinstance(p, Frames) else read_part(p) for p in episode.audio.parts])
    expected_audio = apply_gain(joined, episode.audio.gain_steps)
    (tmp_path / "out").mkdir()
    files = write_episode(episode, INFO, tmp_path / "out")
    data = files.mp3.read_bytes()
    audio_start = mp3.id3v2_end(data)
    head = info_frame(expected_audio.data[:4], expected_audio.count, len(expected_audio.data))
    assert data[audio_start:] == head + expected_audio.data
    assert read_frames(data).count == episode.audio.count == expected_audio.count


def read_part(part: StoredFrames) -> Frames:
    return Frames(part.read_data(), part.count, part.format)


def test_a_warm_build_takes_frame_counts_from_the_cache_without_parsing(tmp_path, monkeypatch):
    cache = ClipCache(tmp_path / "cache")
    cold = synthesize(FakeEngine(), cache)

    def no_parsing(*args, **kwargs):
        raise AssertionError("a cached clip's frames were parsed")

    monkeypatch.setattr("digest.clips.locate_frames", no_parsing)
    engine = FakeEngine()
    warm = synthesize(engine, cache)
    assert engine.calls == []
    assert [[c.frames for c in ch] for ch in warm] == [[c.frames for c in ch] for ch in cold]


def test_an_entry_from_before_frame_records_is_parsed_once_and_recorded(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    cold = synthesize(FakeEngine(), cache)
    for meta in (tmp_path / "cache").glob("*/*.json"):
        strip_field(meta, FRAMES_FIELD)
    warm = synthesize(FakeEngine(), cache)
    assert [[c.frames.count for c in ch] for ch in warm] == [
        [c.frames.count for c in ch] for ch in cold
    ]
    for meta in (tmp_path / "cache").glob("*/*.json"):
        assert FRAMES_FIELD in json.loads(meta.read_text())["fields"]


def strip_field(meta_path, name, replace_with=None):
    """Rewrite an entry's metadata without field `name` (or with it under another name),
    its digest recomputed: what an earlier version wrote."""
    document = json.loads(meta_path.read_text())
    fields = document["fields"]
    value = fields.pop(name)
    if replace_with is not None:
        fields[replace_with[0]] = replace_with[1](value)
    canonical = json.dumps(
        fields, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()
    document["fields_sha256"] = hashlib.sha256(canonical).hexdigest()
    meta_path.write_text(json.dumps(document, ensure_ascii=False))


def test_loudness_blocks_stored_as_lists_by_earlier_versions_are_read_and_repacked(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    check = ClipCheck(None)
    cold = synthesize(FakeEngine(), cache, check)
    for meta in (tmp_path / "cache").glob("*/*.json"):
        strip_field(
            meta,
            LOUDNESS_FIELD,
            replace_with=(LISTED_LOUDNESS_FIELD, lambda v: Blocks.from_packed(v).to_dict()),
        )
    warm = synthesize(FakeEngine(), cache, check)
    assert [[c.blocks for c in ch] for ch in warm] == [[c.blocks for c in ch] for ch in cold]
    for meta in (tmp_path / "cache").glob("*/*.json"):
        assert LOUDNESS_FIELD in json.loads(meta.read_text())["fields"]


def test_a_frame_record_that_lies_is_refused_and_the_clip_spoken_again(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    synthesize(FakeEngine(), cache)
    for meta in (tmp_path / "cache").glob("*/*.json"):
        strip_field(
            meta,
            FRAMES_FIELD,
            replace_with=(FRAMES_FIELD, lambda v: {**v, "count": v["count"] + 3}),
        )
    engine = FakeEngine()
    synthesize(engine, cache)
    assert sorted(engine.calls) == sorted(t for c in SCRIPT.chapters for t in c.chunks)


def test_packed_blocks_refuse_what_is_not_a_measurement():
    good = Blocks((0.0, 1.5), (0.1, 0.2))
    assert Blocks.from_packed(good.to_packed()) == good
    for bad in (
        Blocks((float("nan"), 1.0), (0.1, 0.2)),
        Blocks((1.0, float("inf")), (0.1, 0.2)),
        Blocks((-1.0, 1.0), (0.1, 0.2)),
    ):
        with pytest.raises(ValueError):
            Blocks.from_packed(bad.to_packed())
    with pytest.raises(ValueError):
        Blocks.from_packed({"energies": "AAAA", "peaks": "AAAA"})  # 3 bytes, not a float64


def test_a_clip_replaced_in_the_cache_before_writing_fails_with_one_line(tmp_path):
    cache = ClipCache(tmp_path / "cache")
    clips = synthesize(FakeEngine(), cache)
    episode = assemble(SCRIPT, clips)
    out = tmp_path / "out"
    out.mkdir()
    earlier = write_episode(episode, INFO, out).mp3.read_bytes()
    stored = clips[1][0].frames
    assert isinstance(stored, StoredFrames)
    stored.path.write_bytes(stored.path.read_bytes()[:-144])  # another build's answer
    with pytest.raises(Mp3Error, match="changed during the build"):
        write_episode(episode, INFO, out)
    assert next(out.glob("*.mp3")).read_bytes() == earlier
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_stream_splits_at_any_frame_into_the_same_bytes():
    parts = (silence(0.5), speech_like(0.4, 3), silence(0.2))
    stream = FrameStream(parts)
    whole = stream.to_frames().data
    for at in (1, parts[0].count, parts[0].count + 5, stream.count - 1):
        head, rest = stream.split(at)
        assert head.count == at and head.count + rest.count == stream.count
        assert head.to_frames().data + rest.to_frames().data == whole


# -- a warm build without an event loop ---------------------------------------------------


def test_a_fully_cached_script_is_read_without_an_event_loop(tmp_path, monkeypatch):
    """cached_clips gives exactly what synthesize_script gives from a warm cache, and
    cannot reach the loop or the engine; a missing clip, or an entry from an earlier
    version, hands the script to synthesize_script (None)."""
    cache = ClipCache(tmp_path / "cache")
    check = ClipCheck(None)
    cold = synthesize(FakeEngine(), cache, check)
    warm = synthesize(FakeEngine(), cache, check)
    monkeypatch.setattr(asyncio, "new_event_loop", None)  # any use of a loop fails
    engine, stats = FakeEngine(), SynthesisStats()
    found = cached_clips(SCRIPT, engine, VOICE, cache, check=check, stats=stats)
    assert found == warm and engine.calls == []
    assert [[c.frames for c in ch] for ch in found] == [[c.frames for c in ch] for ch in cold]
    assert stats.cached == SCRIPT.chunk_count and all(c.blocks for ch in found for c in ch)

    metas = sorted((tmp_path / "cache").glob("*/*.json"))
    strip_field(metas[0], LOUDNESS_FIELD)  # measured again, by the loop's path
    assert cached_clips(SCRIPT, engine, VOICE, cache, check=check) is None
    assert cached_clips(SCRIPT, engine, VOICE, cache) is not None  # no check: no blocks needed
    metas[1].unlink()  # a missing clip
    assert cached_clips(SCRIPT, engine, VOICE, cache) is None
