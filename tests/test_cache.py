import os
import time

from digest.cache import ClipCache, clip_key
from digest.engines.base import Boundary, Speech, VoiceSettings
from digest.mp3 import silence

VOICE = VoiceSettings(voice="zh-CN-XiaoxiaoNeural")


def test_key_depends_on_every_setting_and_the_exact_text():
    base = clip_key("edge", "1", VOICE, "你好。")
    assert clip_key("edge", "1", VOICE, "你好。") == base
    variants = [
        clip_key("offline", "1", VOICE, "你好。"),
        clip_key("edge", "2", VOICE, "你好。"),
        clip_key("edge", "1", VoiceSettings(voice="zh-CN-YunxiNeural"), "你好。"),
        clip_key("edge", "1", VoiceSettings(voice=VOICE.voice, rate="+10%"), "你好。"),
        clip_key("edge", "1", VoiceSettings(voice=VOICE.voice, pitch="+5Hz"), "你好。"),
        clip_key("edge", "1", VoiceSettings(voice=VOICE.voice, volume="-5%"), "你好。"),
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
