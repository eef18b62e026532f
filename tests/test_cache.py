import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from digest.cache import ClipCache, clip_key
from digest.engines.base import Boundary, Speaker, Speech
from digest.mp3 import silence

VOICE = Speaker(voice="zh-CN-XiaoxiaoNeural")


def test_key_depends_on_every_setting_and_the_exact_text():
    base = clip_key("edge", "1", VOICE, "你好。")
    assert clip_key("edge", "1", VOICE, "你好。") == base
    variants = [
        clip_key("offline", "1", VOICE, "你好。"),
        clip_key("edge", "2", VOICE, "你好。"),
        clip_key("edge", "1", Speaker(voice="zh-CN-YunxiNeural"), "你好。"),
        clip_key("edge", "1", Speaker(voice=VOICE.voice, rate="+10%"), "你好。"),
        clip_key("edge", "1", Speaker(voice=VOICE.voice, pitch="+5Hz"), "你好。"),
        clip_key("edge", "1", Speaker(voice=VOICE.voice, volume="-5%"), "你好。"),
        clip_key("edge", "1", VOICE, "你好！"),
    ]
    assert len(set(variants)) == len(variants) and base not in variants


def test_round_trip_and_a_missing_audio_file_is_a_miss(tmp_path):
    cache = ClipCache(tmp_path)
    speech = Speech(silence(0.5).data, (Boundary(0.0, 0.4, "你好。"),))
    cache.put("ab" * 32, speech)
    assert cache.get("ab" * 32) == speech
    (tmp_path / "ab" / f"{'ab' * 32}.mp3").unlink()
    assert cache.get("ab" * 32) is None
    assert ClipCache(None).get("ab" * 32) is None


def test_old_temporary_files_from_a_killed_run_are_swept(tmp_path):
    folder = tmp_path / "cd"
    folder.mkdir()
    old, fresh = folder / ".x.mp3.111.tmp", folder / ".y.mp3.222.tmp"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"being written by another run")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    ClipCache(tmp_path)
    assert not old.exists() and fresh.exists()


# --------------------------------------------------------------------------- 9.7 untrusted entries

KEY_A, KEY_B = "ab" * 32, "cd" * 32


def stored(tmp_path, key=KEY_A, seconds=0.5, text="你好。"):
    """A clip of real (tone) audio, different for every text, as the fake service speaks it."""
    from digest_testing.fake_edge import fake_audio

    cache = ClipCache(tmp_path)
    audio = fake_audio(text * max(1, round(seconds / 0.5)))
    speech = Speech(audio, (Boundary(0.1, 0.3, text),))
    cache.put(key, speech)
    return cache, speech


def paths(tmp_path, key):
    return tmp_path / key[:2] / f"{key}.mp3", tmp_path / key[:2] / f"{key}.json"


def test_a_symlink_to_another_clip_is_refused_and_removed(tmp_path):
    cache, _ = stored(tmp_path, KEY_A, 0.5, "你好。")
    stored(tmp_path, KEY_B, 0.7, "再见。")
    audio_a, meta_a = paths(tmp_path, KEY_A)
    audio_b, meta_b = paths(tmp_path, KEY_B)
    for mine, theirs in ((audio_a, audio_b), (meta_a, meta_b)):
        mine.unlink()
        mine.symlink_to(theirs)
    assert cache.get(KEY_A) is None
    assert not audio_a.is_symlink() and not meta_a.is_symlink()
    assert cache.get(KEY_B) is not None  # the target is left alone


def test_a_copy_of_another_clip_under_this_key_is_refused(tmp_path):
    cache, _ = stored(tmp_path, KEY_A, 0.5, "你好。")
    stored(tmp_path, KEY_B, 0.7, "再见。")
    audio_a, meta_a = paths(tmp_path, KEY_A)
    audio_b, meta_b = paths(tmp_path, KEY_B)
    audio_a.write_bytes(audio_b.read_bytes())
    meta_a.write_bytes(meta_b.read_bytes())  # consistent with itself, but for another key
    assert cache.get(KEY_A) is None


def test_audio_replaced_by_valid_silence_of_the_same_length_is_refused(tmp_path):
    from digest.mp3 import read_frames

    cache, speech = stored(tmp_path, KEY_A, 0.5)
    audio, _ = paths(tmp_path, KEY_A)
    frames = read_frames(speech.audio)
    fake = silence(frames.duration).data
    assert read_frames(fake).count == frames.count
    audio.write_bytes(fake)
    assert cache.get(KEY_A) is None


def test_audio_cut_by_70_bytes_is_refused(tmp_path):
    cache, speech = stored(tmp_path, KEY_A, 2.0)
    audio, _ = paths(tmp_path, KEY_A)
    audio.write_bytes(speech.audio[:-70])
    assert cache.get(KEY_A) is None


@pytest.mark.parametrize(
    "bad",
    [None, "0.1", float("nan"), float("inf"), -1.0, True, [0.1]],
    ids=["null", "string", "NaN", "Infinity", "negative", "bool", "list"],
)
@pytest.mark.parametrize("field", ["start", "end"])
def test_bad_boundary_values_are_refused_even_with_a_matching_digest(tmp_path, field, bad):
    """Someone who rewrites the JSON and its digest still cannot get bad times in."""
    cache, speech = stored(tmp_path, KEY_A)
    _, meta = paths(tmp_path, KEY_A)
    document = json.loads(meta.read_text(encoding="utf-8"))
    document["fields"]["boundaries"][0][field] = bad
    fields = json.dumps(
        document["fields"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    document["fields_sha256"] = hashlib.sha256(fields.encode("utf-8")).hexdigest()
    meta.write_text(json.dumps(document), encoding="utf-8")
    assert cache.get(KEY_A) is None


@pytest.mark.parametrize(
    "text",
    ['{"boundaries": [{"start": null, "end": 0.4, "text": "x"}]}', "[]", "{", "null", "NaN"],
)
def test_corrupt_metadata_is_a_miss_and_the_clip_is_replaced(tmp_path, text):
    cache, speech = stored(tmp_path, KEY_A)
    _, meta = paths(tmp_path, KEY_A)
    meta.write_text(text, encoding="utf-8")
    assert cache.get(KEY_A) is None
    cache.put(KEY_A, speech)
    assert cache.get(KEY_A) == speech


def test_extra_fields_are_stored_validated_and_ignored_when_unknown(tmp_path):
    from digest.cache import FIELDS, BadEntry, register_field

    def frame_count(value):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BadEntry("frame_count is not a count")
        return value

    register_field("frame_count", frame_count)
    try:
        cache = ClipCache(tmp_path)
        speech = Speech(silence(0.5).data, (Boundary(0.0, 0.4, "你好。"),))
        cache.put(KEY_A, speech, fields={"frame_count": 21, "future": {"x": 1}})
        entry = cache.get_entry(KEY_A)
        assert entry is not None and entry.speech == speech
        assert dict(entry.fields) == {"frame_count": 21}
        cache.put(KEY_B, speech, fields={"frame_count": "21"})
        assert cache.get_entry(KEY_B) is None
    finally:
        FIELDS.pop("frame_count")


def test_a_damaged_entry_is_synthesized_again_and_replaced(fake_edge, tmp_path):
    """Through a real build: the damaged clip is asked for again, and the episode is right."""
    from digest.pipeline import BuildOptions, build_episode

    article = tmp_path / "a.txt"
    article.write_text("标题\n\n第一句话。\n\n## 二\n\n第二句话。\n", encoding="utf-8")
    options = BuildOptions(engine="edge", output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    first = build_episode(article, options)
    clips = sorted((tmp_path / "cache").rglob("*.mp3"))
    assert len(clips) == fake_edge.count() >= 2
    clips[0].write_bytes(clips[0].read_bytes()[:-70])
    fake_edge.clear()
    second = build_episode(article, options)
    assert fake_edge.count() == 1
    assert second.files.mp3.read_bytes() == first.files.mp3.read_bytes()
    assert ClipCache(tmp_path / "cache").discarded == 0  # replaced by a good entry


# --------------------------------------------------------------------------- 9.6 write failures


def speech_of(seconds=0.5):
    return Speech(silence(seconds).data, (Boundary(0.0, seconds - 0.1, "你好。"),))


def test_a_directory_in_the_way_means_not_cached_with_one_warning(tmp_path):
    warnings = []
    cache = ClipCache(tmp_path, warn=warnings.append)
    audio, _ = paths(tmp_path, KEY_A)
    audio.mkdir(parents=True)
    assert cache.put(KEY_A, speech_of()) is None
    assert cache.put(KEY_A, speech_of()) is None
    assert cache.get(KEY_A) is None
    assert len(warnings) == 1 and "carrying on without caching" in warnings[0]


def test_a_file_where_the_clip_folder_goes_means_not_cached(tmp_path):
    warnings = []
    cache = ClipCache(tmp_path, warn=warnings.append)
    (tmp_path / KEY_A[:2]).write_text("in the way")
    assert cache.put(KEY_A, speech_of()) is None
    assert len(warnings) == 1


def test_the_cache_folder_removed_mid_build_is_made_again(tmp_path):
    import shutil

    root = tmp_path / "cache"
    cache = ClipCache(root)
    shutil.rmtree(root)
    assert cache.put(KEY_A, speech_of()) is not None
    assert cache.get(KEY_A) == speech_of()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_cache_means_not_cached(tmp_path):
    warnings = []
    cache = ClipCache(tmp_path, warn=warnings.append)
    tmp_path.chmod(0o500)
    try:
        assert cache.put(KEY_A, speech_of()) is None
    finally:
        tmp_path.chmod(0o700)
    assert len(warnings) == 1


def test_a_full_disk_during_a_build_is_one_warning_and_a_correct_episode(tmp_path):
    """RLIMIT_FSIZE (as `ulimit -f`): clips larger than the limit cannot be cached."""
    article = tmp_path / "a.txt"
    article.write_text("标题\n\n" + "今天的天气很好，适合出门散步。" * 30 + "\n", encoding="utf-8")
    limit = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))"
    runner = (
        f"{limit}\nimport sys\nfrom digest.cli import app\napp(sys.argv[1:], prog_name='digest')"
    )
    argv = ["build", str(article), "--engine", "offline", "--date", "2026-03-01"]
    argv += ["-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(
        [sys.executable, "-c", runner, *argv], capture_output=True, text=True, timeout=180
    )
    # the clips could not be cached (one warning); the episode itself is too big as well
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert [line for line in lines if "clip cache" in line] == [
        line for line in lines if line.startswith("digest: warning: could not write")
    ]
    assert len([line for line in lines if "clip cache" in line]) == 1
    assert done.returncode == 2 and lines[-1].startswith("digest: error: could not write")
