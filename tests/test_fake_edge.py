"""The fake edge-tts server, exercised with the REAL edge_tts client."""

import asyncio
import math
import os
import signal
import subprocess
import sys
import time

import aiohttp
import edge_tts
import mutagen.mp3
import pytest
from edge_tts.exceptions import (
    NoAudioReceived,
    UnexpectedResponse,
    UnknownResponse,
    WebSocketError,
)

from digest_testing.audio import decode_errors
from digest_testing.fake_edge import (
    FRAME_BYTES,
    FRAME_SECONDS,
    FRAME_TICKS,
    FakeEdgeServer,
    audio_duration_for,
    audio_frames_for,
    expected_boundaries,
    fake_audio,
    patch_edge_tts_with_monkeypatch,
    point_edge_tts_at,
    read_tags,
    split_sentences,
)

VOICE = "zh-CN-XiaoxiaoNeural"
TEXT = "人工智能正在改变世界。你准备好了吗？我们一起来看看；答案就在这里！"


async def synth(text, voice=VOICE, **kw):
    comm = edge_tts.Communicate(text, voice, **kw)
    audio, events, chunks = bytearray(), [], 0
    async for msg in comm.stream():
        if msg["type"] == "audio":
            audio += msg["data"]
            chunks += 1
        else:
            events.append(msg)
    return bytes(audio), events, chunks


def run(text, voice=VOICE, timeout=10.0, **kw):
    return asyncio.run(asyncio.wait_for(synth(text, voice, **kw), timeout))


def audio_ticks(audio: bytes) -> int:
    """How the client measures audio: CBR 48 kbit/s bytes -> 100 ns ticks."""
    return len(audio) * 8 * 10_000_000 // 48_000


def end_of(events) -> int:
    return events[-1]["offset"] + events[-1]["duration"]


# --------------------------------------------------------------------------- audio


def test_audio_is_decodable_mp3_with_predictable_length(fake_edge, tmp_path):
    audio, events, _ = run(TEXT)
    frames = audio_frames_for(TEXT)
    assert frames == 4 + 8 * len(TEXT)
    assert len(audio) == frames * FRAME_BYTES
    path = tmp_path / "x.mp3"
    path.write_bytes(audio)
    assert decode_errors(str(path)) == ""
    info = mutagen.mp3.MP3(str(path)).info
    assert info.sample_rate == 24000 and info.channels == 1 and info.bitrate == 48000
    assert info.length == pytest.approx(frames * FRAME_SECONDS, abs=1e-6)
    assert audio_duration_for(TEXT) == pytest.approx(frames * 0.024)


def test_sentence_boundaries(fake_edge):
    audio, events, _ = run(TEXT)
    assert [e["type"] for e in events] == ["SentenceBoundary"] * 4
    assert [e["text"] for e in events] == [
        "人工智能正在改变世界。",
        "你准备好了吗？",
        "我们一起来看看；",
        "答案就在这里！",
    ]
    assert [e["text"] for e in events] == split_sentences(TEXT)
    assert events[0]["offset"] == 4 * FRAME_TICKS  # ~0.1 s lead-in, near zero
    for a, b in zip(events, events[1:]):
        assert a["duration"] > 0 and a["offset"] + a["duration"] == b["offset"]
    # a complete response never looks truncated: last boundary ends at the audio end
    assert end_of(events) == audio_ticks(audio)
    assert events == expected_boundaries(TEXT)


def test_word_boundaries_and_escaping(fake_edge):
    text = "Hello world, 你好 & <测试>"
    audio, events, _ = run(text, boundary="WordBoundary")
    assert [e["type"] for e in events] == ["WordBoundary"] * len(events)
    assert [e["text"] for e in events] == ["Hello", "world", "你", "好", "<", "测", "试", ">"]
    assert all(e["duration"] > 0 for e in events)
    assert end_of(events) == audio_ticks(audio)
    assert fake_edge.requests[-1].text == text
    assert fake_edge.requests[-1].boundary == "WordBoundary"


def test_audio_is_deterministic_per_text(fake_edge):
    a1, _, _ = run(TEXT)
    a2, _, _ = run(TEXT)
    other, _, _ = run(TEXT[::-1])
    assert a1 == a2 == fake_audio(TEXT)
    assert len(other) == len(a1) and other != a1  # same length, different text -> different bytes
    male, _, _ = run(TEXT, "zh-CN-YunxiNeural")
    assert male == fake_audio(TEXT, "Male") and male != a1
    assert len(read_tags(a1 + other)) == 2


def test_multi_chunk_offsets_follow_audio_bytes(fake_edge):
    para = "这是一个用来测试分段的句子。" * 80  # ~3.3 KB
    text = para + "\n" + para
    audio, events, _ = run(text)
    assert len(fake_edge.requests) == 2
    first = fake_audio(para)
    assert audio == first * 2
    per_chunk = len(split_sentences(para))
    second = events[per_chunk]
    assert second["offset"] == audio_ticks(first) + 4 * FRAME_TICKS
    assert end_of(events) == audio_ticks(audio)


def test_request_log(fake_edge):
    run(TEXT, rate="+10%", pitch="-5Hz", volume="+20%")
    run("你好 & 再见", "zh-CN-liaoning-XiaobeiNeural")
    r1, r2 = fake_edge.requests
    assert r1.text == TEXT and r1.voice == VOICE
    assert r1.voice_long == "Microsoft Server Speech Text to Speech Voice (zh-CN, XiaoxiaoNeural)"
    assert (r1.rate, r1.pitch, r1.volume) == ("+10%", "-5Hz", "+20%")
    assert r1.ssml_bytes > len(TEXT.encode("utf-8")) + 200
    assert r1.ssml_bytes == len(
        edge_tts.communicate.ssml_headers_plus_data(
            r1.request_id, edge_tts.communicate.date_to_string(), r1.ssml
        ).encode()
    )
    assert r1.boundary == "SentenceBoundary" and r1.outcome == "ok" and r1.fault is None
    assert len(r1.connection_id) == 32
    assert r1.sec_ms_gec and r1.sec_ms_gec_version.startswith("2-")
    assert r1.headers["Origin"].startswith("chrome-extension://")
    assert r1.audio_bytes_sent == r1.audio_bytes_total == audio_frames_for(TEXT) * FRAME_BYTES
    assert r2.voice == "zh-CN-liaoning-XiaobeiNeural" and r2.text == "你好 & 再见"
    assert fake_edge.texts() == [TEXT, "你好 & 再见"]
    assert fake_edge.count(outcome="ok") == 2
    fake_edge.clear()
    assert fake_edge.requests == [] and fake_edge.texts() == []


def test_sync_api_from_test_thread(fake_edge, tmp_path):
    out = tmp_path / "s.mp3"
    edge_tts.Communicate("同步接口。", VOICE).save_sync(str(out))
    assert out.read_bytes() == fake_audio("同步接口。")


# --------------------------------------------------------------------------- voices


def test_list_voices(fake_edge):
    voices = asyncio.run(edge_tts.list_voices())
    zh = [v["ShortName"] for v in voices if v["Locale"].startswith("zh-")]
    assert len(zh) == 14
    assert {
        "zh-CN-XiaoxiaoNeural",
        "zh-CN-YunxiNeural",
        "zh-HK-HiuGaaiNeural",
        "zh-TW-HsiaoChenNeural",
    } <= set(zh)
    assert any(v["Locale"] == "en-US" for v in voices)
    v = voices[0]
    assert set(v) >= {
        "Name",
        "ShortName",
        "Gender",
        "Locale",
        "SuggestedCodec",
        "FriendlyName",
        "Status",
        "VoiceTag",
    }
    mgr = asyncio.run(edge_tts.VoicesManager.create())
    assert {x["ShortName"] for x in mgr.find(Gender="Male", Locale="zh-CN")} == {
        "zh-CN-YunjianNeural",
        "zh-CN-YunxiNeural",
        "zh-CN-YunxiaNeural",
        "zh-CN-YunyangNeural",
    }
    assert len(fake_edge.voice_list_requests) == 2


def test_voice_list_fault(fake_edge):
    fake_edge.fail_next("503", target="voices")
    with pytest.raises(aiohttp.ClientResponseError) as ei:
        asyncio.run(edge_tts.list_voices())
    assert ei.value.status == 503
    assert len(asyncio.run(edge_tts.list_voices())) > 14


# --------------------------------------------------------------------------- faults


def test_403_skew_is_retried_once_and_adjusts_clock(fake_edge):
    fake_edge.fail_next("403_skew")
    audio, events, _ = run("时钟偏差。")
    assert audio == fake_audio("时钟偏差。")
    assert [r.outcome for r in fake_edge.requests] == ["403_skew", "ok"]
    assert edge_tts.drm.DRM.clock_skew_seconds == pytest.approx(3600, abs=5)


def test_403_twice_propagates(fake_edge):
    fake_edge.fail_next("403_skew", times=2)
    with pytest.raises(aiohttp.WSServerHandshakeError) as ei:
        run("时钟偏差。")
    assert ei.value.status == 403


@pytest.mark.parametrize("status", ["429", "503", "401"])
def test_http_status_faults_raise_at_once(fake_edge, status):
    fake_edge.fail_next(status)
    with pytest.raises(aiohttp.WSServerHandshakeError) as ei:
        run("限流。")
    assert ei.value.status == int(status)
    assert fake_edge.count() == 1 and fake_edge.count(outcome=status) == 1


def test_reset_before_upgrade(fake_edge):
    # aiohttp itself retries an idempotent GET once after a disconnect: one reset is invisible
    fake_edge.fail_next("reset")
    audio, _, _ = run("重置。")
    assert audio == fake_audio("重置。")
    assert [r.outcome for r in fake_edge.requests] == ["reset", "ok"]
    fake_edge.clear()
    fake_edge.fail_next("reset", times=2)
    with pytest.raises(aiohttp.ClientError):
        run("重置。")
    assert [r.outcome for r in fake_edge.requests] == ["reset", "reset"]


def test_no_audio(fake_edge):
    fake_edge.fail_next("no_audio")
    with pytest.raises(NoAudioReceived):
        run("没有声音。")
    assert fake_edge.requests[0].outcome == "no_audio"


@pytest.mark.parametrize("fault", ["truncate", "reset_midstream"])
def test_truncation_is_silent_but_detectable(fake_edge, fault):
    fake_edge.fail_next(fault)
    audio, events, _ = run(TEXT)  # the client reports success ...
    assert 0 < len(audio) < len(fake_audio(TEXT))
    assert audio == fake_audio(TEXT)[: len(audio)]
    assert len(events) == 4  # all metadata came first
    assert audio_ticks(audio) < end_of(events) - FRAME_TICKS  # ... but boundaries reveal it
    assert fake_edge.requests[0].outcome == fault


def test_stall_hangs_client_until_timeout(fake_edge):
    fake_edge.fail_next("stall")
    t0 = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        run("卡住了。", timeout=1.0)
    assert 0.9 < time.monotonic() - t0 < 3
    rec = fake_edge.requests[0]
    assert rec.outcome == "stall" and 0 < rec.audio_bytes_sent < rec.audio_bytes_total


def test_stall_silent_and_handshake_stall(fake_edge):
    fake_edge.fail_next("stall_silent")
    with pytest.raises(asyncio.TimeoutError):
        run("卡住了。", timeout=0.5)
    fake_edge.fail_next("handshake_stall")
    with pytest.raises(aiohttp.SocketTimeoutError):
        run("卡住了。", receive_timeout=1)
    assert [r.outcome for r in fake_edge.requests] == ["stall_silent", "handshake_stall"]


def test_stop_is_fast_with_stalled_connection():
    server = FakeEdgeServer().start()
    server.fail_next("stall")
    with point_edge_tts_at(server):

        async def go():
            task = asyncio.ensure_future(synth("卡住了。"))
            await asyncio.sleep(0.3)
            t0 = time.monotonic()
            await asyncio.get_running_loop().run_in_executor(None, server.stop)
            assert time.monotonic() - t0 < 3
            audio, _, _ = await asyncio.wait_for(task, 3)  # server closed: truncated "success"
            return audio

        audio = asyncio.run(go())
    assert 0 < len(audio) < len(fake_audio("卡住了。"))


@pytest.mark.parametrize(
    "fault,exc",
    [
        ("malformed", UnknownResponse),
        ("bad_binary", UnexpectedResponse),
        ("bad_metadata", UnexpectedResponse),
        ("oversize", WebSocketError),
    ],
)
def test_bad_frames(fake_edge, fault, exc):
    fake_edge.fail_next(fault)
    with pytest.raises(exc):
        run("坏数据。")
    assert fake_edge.requests[0].outcome == fault


def test_unknown_voice_and_punctuation_only(fake_edge):
    with pytest.raises(NoAudioReceived):
        run("你好。", "zh-CN-XiaochenNeural")
    with pytest.raises(NoAudioReceived):
        run("……")
    assert [r.outcome for r in fake_edge.requests] == ["unknown_voice", "punctuation_only"]
    assert fake_edge.requests[0].voice == "zh-CN-XiaochenNeural"


def test_fail_next_predicate_and_order(fake_edge):
    fake_edge.fail_next("no_audio", when=lambda r: "关键词" in r.text)
    fake_edge.fail_next("truncate")
    a, _, _ = run("普通句子。")  # consumes the unconditional truncate
    assert len(a) < len(fake_audio("普通句子。"))
    run("另一句。")
    with pytest.raises(NoAudioReceived):
        run("这里有关键词。")
    run("这里有关键词。")
    assert [r.outcome for r in fake_edge.requests] == ["truncate", "ok", "no_audio", "ok"]
    # text predicates never match handshake faults (the text is unknown at the upgrade)
    fake_edge.fail_next("429", when=lambda r: "关键词" in r.text)
    run("关键词。")
    fake_edge.clear_faults()
    fake_edge.fail_next("no_audio", times=None, when=lambda r: r.voice == "zh-CN-YunxiNeural")
    for _ in range(3):
        with pytest.raises(NoAudioReceived):
            run("永远失败。", "zh-CN-YunxiNeural")
    run("永远失败。")


def _retry_run(server, texts, attempts=6):
    """A tiny retry loop like digest's; returns the outcome sequence."""
    for text in texts:
        for _ in range(attempts):
            try:
                audio, events, _ = run(text, timeout=2.0)
            except (
                edge_tts.exceptions.EdgeTTSException,
                aiohttp.ClientError,
                asyncio.TimeoutError,
            ):
                continue
            if audio_ticks(audio) >= end_of(events) - FRAME_TICKS:
                assert audio == fake_audio(text)  # faults never change successful audio
                break
        else:
            raise AssertionError(f"{text} never succeeded")
    return [(r.text, r.outcome) for r in server.requests]


def test_fault_rate_is_reproducible_and_recoverable(monkeypatch):
    texts = [f"第{i}句话。" for i in range(12)]
    runs = []
    for _ in range(2):
        with FakeEdgeServer() as server:
            patch_edge_tts_with_monkeypatch(monkeypatch, server)
            server.fault_rate(0.5, ["no_audio", "truncate", "503", "malformed"], seed=7)
            runs.append(_retry_run(server, texts))
    assert runs[0] == runs[1]
    outcomes = [o for _, o in runs[0]]
    assert outcomes.count("ok") == len(texts) and len(set(outcomes)) > 2


def test_pacing_latency_and_speed(monkeypatch):
    text = "慢" * 20  # 164 frames = 3.94 s of audio
    with FakeEdgeServer(latency=0.3, speed=20) as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        t0 = time.monotonic()
        audio, _, chunks = run(text)
        elapsed = time.monotonic() - t0
    assert audio == fake_audio(text)
    assert chunks == math.ceil(audio_frames_for(text) / 42)  # ~1 s of audio per message
    assert 0.3 + 3.9 / 20 * 0.75 < elapsed < 2.0


def test_max_concurrent_answers_429(monkeypatch):
    with FakeEdgeServer(max_concurrent=2, latency=0.5) as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)

        async def go():
            return await asyncio.gather(
                *(synth(f"并发{i}。") for i in range(4)), return_exceptions=True
            )

        results = asyncio.run(asyncio.wait_for(go(), 10))
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 2 and all(getattr(e, "status", None) == 429 for e in errors)
    assert server.peak_concurrency >= 3 and server.count(outcome="429_concurrency") == 2


def test_token_check_with_server_clock_ahead(monkeypatch):
    with FakeEdgeServer(check_token=True, clock_offset=3600) as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        run("令牌。")
        run("令牌。")
        assert [r.outcome for r in server.requests] == ["403_token", "ok", "ok"]


def test_standalone_cli():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen(
        [sys.executable, "-m", "digest_testing.fake_edge", "--port", "0", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        wss = next(line for line in lines if line.startswith("WSS_URL")).split("=", 1)[1].strip()
        assert wss.startswith("ws://127.0.0.1:") and "?TrustedClientToken=" in wss
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def test_point_edge_tts_at_restores_everything():
    import edge_tts.communicate
    import edge_tts.voices

    before = (edge_tts.communicate.WSS_URL, edge_tts.voices.VOICE_LIST, os.environ.get("NO_PROXY"))
    with FakeEdgeServer() as server:
        with point_edge_tts_at(server.port):  # a port / base URL works for standalone servers
            assert edge_tts.communicate.WSS_URL == server.wss_url
            assert edge_tts.voices.VOICE_LIST == server.voices_url
            assert run("补丁。")[0] == fake_audio("补丁。")
    assert (
        edge_tts.communicate.WSS_URL,
        edge_tts.voices.VOICE_LIST,
        os.environ.get("NO_PROXY"),
    ) == before
