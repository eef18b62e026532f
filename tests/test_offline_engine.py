"""The offline espeak-ng engine: real audio, real properties."""

from __future__ import annotations

import array
import asyncio
import math
import socket
import subprocess
import time
from pathlib import Path

import pytest

from digest.engines import offline
from digest.engines.base import Boundary, EngineError, Speaker, Speech
from digest.engines.espeak_voices import shift_pitch
from digest.engines.offline import OfflineEngine
from digest_testing.audio import decode_errors, decode_mp3, ffmpeg_exe

pytestmark = pytest.mark.skipif(
    not OfflineEngine().available(), reason="espeak-ng library not loadable"
)

DATA = Path(__file__).parent / "data"
CMN = Speaker(voice="cmn")
TW = Speaker(voice="cmn", locale="zh-TW")

SIMPLIFIED = (
    "今天天气很好，我们去公园散步吧！你觉得怎么样？"
    "人工智能正在改变我们的生活和工作方式。"
    "科学家们表示，这项技术还需要进一步的研究；但是前景非常广阔。"
)
TRADITIONAL = "這個軟體的語音合成品質很好。學習資料與網路體驗都很重要！颱風明天會帶來豪雨嗎？"

FRAME_BYTES = 144
SAMPLES_PER_FRAME = 576
OUT_RATE = 24000


def run(coro):
    return asyncio.run(coro)


def speak(text: str, speaker: Speaker = CMN) -> Speech:
    engine = OfflineEngine()
    try:
        return run(engine.synthesize(text, speaker))
    finally:
        engine.close()


def hanzi(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def duration(mp3: bytes) -> float:
    return len(mp3) // FRAME_BYTES * SAMPLES_PER_FRAME / OUT_RATE


def parse_frames(mp3: bytes) -> list[bytes]:
    """Walk the stream frame by frame; return each 4-byte header. Fails on anything else."""
    headers, pos = [], 0
    bitrates = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]  # MPEG-2 L3
    rates = [22050, 24000, 16000]
    while pos < len(mp3):
        h = mp3[pos : pos + 4]
        assert len(h) == 4 and h[0] == 0xFF and (h[1] & 0xE0) == 0xE0, f"lost sync at {pos}"
        version = (h[1] >> 3) & 3
        layer = (h[1] >> 1) & 3
        assert version == 2, "expected MPEG-2"
        assert layer == 1, "expected Layer III"
        br = bitrates[h[2] >> 4] * 1000
        sr = rates[(h[2] >> 2) & 3]
        pad = (h[2] >> 1) & 1
        mode = h[3] >> 6
        assert (br, sr, mode) == (48000, 24000, 3), (br, sr, mode)
        length = 72 * br // sr + pad
        assert length == FRAME_BYTES
        headers.append(bytes(h))
        pos += length
    assert pos == len(mp3)
    return headers


def decode_pcm(mp3: bytes, tmp_path: Path) -> array.array:
    f = tmp_path / "clip.mp3"
    f.write_bytes(mp3)
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(f), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
    )
    assert out.stderr == b""
    a = array.array("h")
    a.frombytes(out.stdout)
    return a


def dbfs(x: float) -> float:
    return 20 * math.log10(max(x, 1e-9) / 32768)


# -- format ------------------------------------------------------------------------------


def test_protocol_attributes():
    e = OfflineEngine()
    assert e.name == "offline"
    assert "1.52" in e.version and "offline-r" in e.version


def test_ffmpeg_decodes_without_errors(tmp_path):
    s = speak(SIMPLIFIED)
    f = tmp_path / "a.mp3"
    f.write_bytes(s.audio)
    assert decode_errors(str(f)) == ""


def test_every_frame_is_the_episode_format():
    s = speak(SIMPLIFIED)
    assert s.audio[:4] == b"\xff\xf3\x64\xc4"
    assert not s.audio.startswith(b"ID3") and b"TAG" != s.audio[-128:-125]
    headers = parse_frames(s.audio)
    assert len(headers) > 10
    assert set(headers) == {b"\xff\xf3\x64\xc4"}
    # no Xing/Info/VBRI frame anywhere near the start
    assert all(tag not in s.audio[: FRAME_BYTES * 2] for tag in (b"Xing", b"Info", b"VBRI"))


def test_duration_matches_speaking_rate():
    text = (DATA / "typhoon-traditional.txt").read_text(encoding="utf-8").split("\n\n")[2]
    text = "".join(ch for ch in text if not ch.isdigit())  # digits expand into many syllables
    t0 = time.perf_counter()
    s = speak(text, TW)
    wall = time.perf_counter() - t0
    d = duration(s.audio)
    rate = hanzi(text) / d
    assert 3.0 <= rate <= 7.0, f"{rate:.2f} hanzi/s"
    assert wall / d < 0.5, f"RTF {wall / d:.3f}"


def test_level_is_audible_and_below_clipping(tmp_path):
    pytest.importorskip("audioop")
    s = speak((DATA / "ev-market-simplified.txt").read_text(encoding="utf-8")[:300])
    pcm = decode_pcm(s.audio, tmp_path)
    peak = max(abs(x) for x in pcm)
    rms = math.sqrt(sum(x * x for x in pcm) / len(pcm))
    assert dbfs(rms) > -35, f"RMS {dbfs(rms):.1f} dBFS"
    assert dbfs(peak) < -1, f"peak {dbfs(peak):.1f} dBFS"


def test_decodes_with_pydub():
    s = speak(TRADITIONAL, TW)
    seg = decode_mp3(s.audio)
    assert seg.frame_rate == 24000 and seg.channels == 1
    assert abs(len(seg) / 1000 - duration(s.audio)) < 0.05
    assert seg.dBFS > -35 and seg.max_dBFS < -1


# -- boundaries ----------------------------------------------------------------------------


def check_boundaries(s: Speech, text: str) -> None:
    assert s.boundaries
    d = duration(s.audio)
    prev_end = 0.0
    for b in s.boundaries:
        assert isinstance(b, Boundary)
        assert 0 <= b.start <= b.end <= d
        assert b.start >= prev_end - 1e-9
        assert b.text and b.text in text
        prev_end = b.end
    assert s.boundaries[-1].end <= d
    assert s.boundaries[-1].end > d - 0.5  # the last sentence runs to the end of the clip


def test_boundaries_follow_sentences():
    s = speak(SIMPLIFIED)
    check_boundaries(s, SIMPLIFIED)
    assert [b.text for b in s.boundaries] == [
        "今天天气很好，我们去公园散步吧！",
        "你觉得怎么样？",
        "人工智能正在改变我们的生活和工作方式。",
        "科学家们表示，这项技术还需要进一步的研究；",
        "但是前景非常广阔。",
    ]
    # the timings come from espeak's events: longer sentences take longer
    lengths = [b.end - b.start for b in s.boundaries]
    assert lengths[1] < lengths[0] and lengths[1] < lengths[2]
    for b in s.boundaries:
        assert 2.0 <= hanzi(b.text) / (b.end - b.start) <= 9.0


def test_traditional_input():
    s = speak(TRADITIONAL, TW)
    check_boundaries(s, TRADITIONAL)
    assert len(s.boundaries) == 3
    assert 3.0 <= hanzi(TRADITIONAL) / duration(s.audio) <= 7.0


def test_long_article_chunk():
    text = (DATA / "typhoon-traditional.txt").read_text(encoding="utf-8")[:600]
    s = speak(text, TW)
    parse_frames(s.audio)
    check_boundaries(s, text)


def test_boundary_estimate_fallback():
    bs = offline._boundaries("一二三。四五六七八九。", [], 22050, 3.0)
    assert [b.text for b in bs] == ["一二三。", "四五六七八九。"]
    assert bs[0].start == 0 and bs[-1].end == 3.0
    assert abs(bs[0].end - 1.0) < 1e-6


# -- settings --------------------------------------------------------------------------------


def test_rate_changes_duration():
    slow = duration(speak(SIMPLIFIED, Speaker("cmn", rate="-20%")).audio)
    base = duration(speak(SIMPLIFIED).audio)
    fast = duration(speak(SIMPLIFIED, Speaker("cmn", rate="+30%")).audio)
    assert slow > base > fast


def test_setting_mapping():
    assert offline.espeak_rate("+0%") == 220
    assert offline.espeak_rate("+10%") == 242
    assert offline.espeak_rate("-90%") == 80
    assert offline.espeak_pitch_shift("+0Hz") == 0
    assert offline.espeak_pitch_shift("-10Hz") == -10
    assert offline.espeak_pitch_shift("+500Hz") == offline.MAX_PITCH_SHIFT
    assert shift_pitch([b"pitch 80 118"], 10) == [b"pitch 90 128"]
    assert offline.espeak_amplitude("+0%") == offline.BASE_AMPLITUDE
    assert offline.espeak_amplitude("-50%") < offline.BASE_AMPLITUDE
    assert offline.espeak_amplitude("+100%") == offline.MAX_AMPLITUDE
    with pytest.raises(EngineError) as ei:
        offline.espeak_rate("fast")
    assert ei.value.retryable is False


def test_pitch_changes_audio_but_not_later_clips():
    base = speak(SIMPLIFIED)
    high = speak(SIMPLIFIED, Speaker("cmn", pitch="+20Hz"))
    assert high.audio != base.audio
    assert speak(SIMPLIFIED).audio == base.audio


def test_neural_voice_name_falls_back_to_cmn():
    a = speak(TRADITIONAL, Speaker("zh-TW-HsiaoChenNeural", locale="zh-TW"))
    b = speak(TRADITIONAL, TW)
    assert a.audio == b.audio


def test_empty_text_and_unknown_voice_fail_without_retry():
    for text in ("", "   \n"):
        with pytest.raises(EngineError) as ei:
            speak(text)
        assert ei.value.retryable is False
    with pytest.raises(EngineError) as ei:
        speak("你好。", Speaker("no-such-voice-xyz"))
    assert ei.value.retryable is False
    assert speak("你好。").audio  # a bad voice leaves the engine usable


# -- determinism and concurrency -----------------------------------------------------------------


def test_same_text_same_bytes():
    a = speak(SIMPLIFIED)
    speak(TRADITIONAL, TW)  # state from another utterance must not leak
    b = speak(SIMPLIFIED)
    assert a.audio == b.audio
    assert a.boundaries == b.boundaries


def test_deterministic_across_processes(tmp_path):
    import sys

    code = (
        "import asyncio,hashlib,sys;from digest.engines.offline import OfflineEngine;"
        "from digest.engines.base import Speaker;"
        f"print(hashlib.sha256(asyncio.run(OfflineEngine().synthesize({SIMPLIFIED!r},Speaker('cmn'))).audio).hexdigest())"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    import hashlib

    assert out.stdout.strip() == hashlib.sha256(speak(SIMPLIFIED).audio).hexdigest()


def test_concurrent_calls_do_not_corrupt_each_other():
    texts = [SIMPLIFIED, TRADITIONAL, "第一句话。第二句话！", "Hello world. 你好世界。"]
    voices = [CMN, TW, Speaker("cmn", rate="+20%"), CMN]
    sequential = [speak(t, v) for t, v in zip(texts, voices)]

    async def together():
        e = OfflineEngine()
        return await asyncio.gather(*(e.synthesize(t, v) for t, v in zip(texts * 2, voices * 2)))

    concurrent = run(together())
    assert [s.audio for s in concurrent] == [s.audio for s in sequential] * 2
    assert [s.boundaries for s in concurrent] == [s.boundaries for s in sequential] * 2


def test_event_loop_stays_free():
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        t = asyncio.create_task(ticker())
        text = (DATA / "ev-market-simplified.txt").read_text(encoding="utf-8")[:800]
        await OfflineEngine().synthesize(text, CMN)
        t.cancel()
        return ticks

    assert run(main()) > 5


def test_no_network_access(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    s = speak(TRADITIONAL, TW)
    assert duration(s.audio) > 1


# -- join compatibility ----------------------------------------------------------------------------


def test_clips_join_byte_for_byte(tmp_path):
    a, b = speak("第一段。"), speak("第二段！")
    joined = a.audio + b.audio
    parse_frames(joined)
    f = tmp_path / "j.mp3"
    f.write_bytes(joined)
    assert decode_errors(str(f)) == ""
