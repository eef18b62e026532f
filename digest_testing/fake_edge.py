"""A local fake of Microsoft's edge-tts WebSocket service.

The real ``edge_tts`` client (7.3.x) is pointed at this server (see
:func:`point_edge_tts_at` / the ``fake_edge`` pytest fixture) so the whole
online engine can be tested offline, including the faults the real service is
known for (403 clock skew, 429/503, resets, missing audio, silent truncation,
stalls, malformed frames), and audio that is not speech (all silence,
clipped).  The wire protocol follows
``/work/shared/reference/edge-tts-protocol.md`` (sections 4, 5 and 7).

Audio
-----
Every response is real, decodable MP3 (MPEG-2 Layer III, 24 kHz, mono,
48 kbit/s CBR: 144-byte frames of 24 ms each, exactly what the service sends)
and is a pure function of (text, voice gender):

* ``LEAD_FRAMES`` (4) silent frames of lead-in (the first boundary starts at
  0.096 s, like the ~0.1 s of the real service), then
* ``FRAMES_PER_CHAR`` (8) frames (0.192 s) per non-whitespace character:
  tone frames for speakable characters, silent frames for punctuation (so
  sentence ends contain real pauses).  Female voices use a 330 Hz tone, others
  220 Hz.  Every frame carries a 14-byte ancillary tag derived from the text
  (ignored by decoders) so different texts give different bytes.

So ``frames = 4 + 8 * n`` where ``n`` is the number of non-whitespace
characters, and ``duration = frames * 0.024 s``.  See :func:`audio_frames_for`.

Boundaries: one ``SentenceBoundary`` per sentence (split after 。！？；!?; and
closing quotes) or one ``WordBoundary`` per CJK character / Latin word.  The
last boundary ends exactly at the end of the audio, so a complete response never
looks truncated and a truncated one always does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import email.utils
import hashlib
import json
import re
import struct
import threading
import time
import unicodedata
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from xml.sax.saxutils import escape, unescape

from aiohttp import WSMsgType, web

# Pointing the real client at a fake (the server's paths included) lives apart, so that
# a process that only points (digest_testing.against) does not import the server.
from digest_testing.pointing import (
    TRUSTED_CLIENT_TOKEN,
    VOICES_PATH,
    WS_PATH,
    patch_edge_tts_with_monkeypatch,
    point_edge_tts_at,
)

__all__ = [
    "FakeEdgeServer",
    "EdgeRequest",
    "point_edge_tts_at",
    "patch_edge_tts_with_monkeypatch",
    "default_voices",
    "short_voice_name",
    "audio_frames_for",
    "audio_duration_for",
    "fake_audio",
    "faulty_audio",
    "split_sentences",
    "expected_boundaries",
    "read_tags",
    "HANDSHAKE_FAULTS",
    "STREAM_FAULTS",
    "FAULTS",
    "WS_PATH",
    "VOICES_PATH",
    "FRAME_BYTES",
    "FRAME_SECONDS",
    "FRAME_TICKS",
    "LEAD_FRAMES",
    "FRAMES_PER_CHAR",
    "SILENT_FRAME",
]

# ---------------------------------------------------------------------------
# Protocol constants
# ---------------------------------------------------------------------------


TICKS_PER_SECOND = 10_000_000
FRAME_BYTES = 144
FRAME_SECONDS = 0.024
FRAME_TICKS = 240_000  # 24 ms in 100-ns ticks
LEAD_FRAMES = 4
FRAMES_PER_CHAR = 8
PACED_MESSAGE_FRAMES = 42  # ~1.008 s of audio per message when paced
UNPACED_MESSAGE_FRAMES = 420  # ~10 s per message otherwise (stays far below 4 MiB)

SILENT_FRAME = bytes.fromhex("fff364c4") + bytes(140)
# Steady-state frames of a sine tone encoded by LAME with the bit reservoir
# disabled (main_data_begin == 0), so each frame decodes on its own.
_TONE_220 = bytes.fromhex(
    "fff364c4000ef03e527ec7740000011e221fe1f8b9e6929f832b04078615be2712d006d6"
    "19821c5c35375e8c9d3c68bdd6efa118ef21fb7ffdb5fbbd5ffffdffffabb777edffd7ff"
    "ad31053514d0b8c480a185b1c1a18480c0a4000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000"
)
_TONE_330 = bytes.fromhex(
    "fff364c4000cf83e549e37740428868c2e1f8d5cc077d195a13002139895fe9ba230995a"
    "e0f3a9c10b9cbe64675a3bbb3eefeeffd3fffff57f56efffffff4fffdc98829a8a685c62"
    "4050c2d8e0d0c24060520000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000"
)
assert len(_TONE_220) == len(_TONE_330) == len(SILENT_FRAME) == FRAME_BYTES
_TAG_OFFSET = 126  # ancillary bytes, after the main data of the tone frames
_TAG_PREFIX = b"EF"
_TAG_LEN = 14

SENTENCE_END = "。！？；!?;"
_CLOSERS = "”’」』）)\"'》〉】"

# Faults answered at the HTTP upgrade (before the text is known) ...
HANDSHAKE_FAULTS = ("403_skew", "403", "401", "429", "503", "reset", "handshake_stall")
# ... and faults applied after the ssml frame was read (text is known).
STREAM_FAULTS = (
    "no_audio",
    "truncate",
    "reset_midstream",
    "stall",
    "stall_silent",
    "malformed",
    "bad_binary",
    "bad_metadata",
    "oversize",
    "cut_between",  # the stream ends cleanly between two sentences: the last one is missing
    "silence",  # complete, well-formed answer whose audio is all silent frames
    "clipped",  # complete answer whose tone decodes far above full scale
)
FAULTS = HANDSHAKE_FAULTS + STREAM_FAULTS


def _is_handshake_fault(fault: str) -> bool:
    return fault in HANDSHAKE_FAULTS or fault.isdigit()


# ---------------------------------------------------------------------------
# Voice list (section 11 of the reference, same keys as the real API)
# ---------------------------------------------------------------------------

_VOICE_ROWS = [
    # short name, gender, friendly tail, categories, personalities
    ("zh-CN-XiaoxiaoNeural", "Female", "Chinese (Mainland)", ["News", "Novel"], ["Warm"]),
    ("zh-CN-XiaoyiNeural", "Female", "Chinese (Mainland)", ["Cartoon", "Novel"], ["Lively"]),
    ("zh-CN-YunjianNeural", "Male", "Chinese (Mainland)", ["Sports", "Novel"], ["Passion"]),
    ("zh-CN-YunxiNeural", "Male", "Chinese (Mainland)", ["Novel"], ["Lively", "Sunshine"]),
    ("zh-CN-YunxiaNeural", "Male", "Chinese (Mainland)", ["Cartoon", "Novel"], ["Cute"]),
    ("zh-CN-YunyangNeural", "Male", "Chinese (Mainland)", ["News"], ["Professional", "Reliable"]),
    (
        "zh-CN-liaoning-XiaobeiNeural",
        "Female",
        "Chinese (Northeastern Mandarin)",
        ["Dialect"],
        ["Humorous"],
    ),
    (
        "zh-CN-shaanxi-XiaoniNeural",
        "Female",
        "Chinese (Zhongyuan Mandarin Shaanxi)",
        ["Dialect"],
        ["Bright"],
    ),
    (
        "zh-HK-HiuGaaiNeural",
        "Female",
        "Chinese (Cantonese Traditional)",
        ["General"],
        ["Friendly", "Positive"],
    ),
    ("zh-HK-HiuMaanNeural", "Female", "Chinese (Hong Kong)", ["General"], ["Friendly", "Positive"]),
    ("zh-HK-WanLungNeural", "Male", "Chinese (Hong Kong)", ["General"], ["Friendly", "Positive"]),
    ("zh-TW-HsiaoChenNeural", "Female", "Chinese (Taiwan)", ["General"], ["Friendly", "Positive"]),
    (
        "zh-TW-HsiaoYuNeural",
        "Female",
        "Chinese (Taiwanese Mandarin)",
        ["General"],
        ["Friendly", "Positive"],
    ),
    ("zh-TW-YunJheNeural", "Male", "Chinese (Taiwan)", ["General"], ["Friendly", "Positive"]),
    (
        "en-US-EmmaMultilingualNeural",
        "Female",
        "English (United States)",
        ["Conversation", "Copilot"],
        ["Cheerful", "Clear", "Conversational"],
    ),
    (
        "en-US-AriaNeural",
        "Female",
        "English (United States)",
        ["News", "Novel"],
        ["Positive", "Confident"],
    ),
    ("en-US-GuyNeural", "Male", "English (United States)", ["News", "Novel"], ["Passion"]),
]


def _split_short_name(short: str) -> Tuple[str, str]:
    """'zh-CN-liaoning-XiaobeiNeural' -> ('zh-CN-liaoning', 'XiaobeiNeural')."""
    locale, _, name = short.rpartition("-")
    return locale, name


def default_voices() -> List[Dict[str, Any]]:
    """The voice list served at :data:`VOICES_PATH` (a fresh copy)."""
    out = []
    for short, gender, tail, cats, pers in _VOICE_ROWS:
        locale, name = _split_short_name(short)
        display = name[: -len("Neural")] if name.endswith("Neural") else name
        out.append(
            {
                "Name": f"Microsoft Server Speech Text to Speech Voice ({locale}, {name})",
                "ShortName": short,
                "Gender": gender,
                "Locale": locale,
                "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
                "FriendlyName": f"Microsoft {display} Online (Natural) - {tail}",
                "Status": "GA",
                "VoiceTag": {"ContentCategories": list(cats), "VoicePersonalities": list(pers)},
            }
        )
    return out


_LONG_NAME_RE = re.compile(r"^Microsoft Server Speech Text to Speech Voice \(([^,]+),\s*([^)]+)\)$")


def short_voice_name(name: str) -> str:
    """Long service form -> short name ('(zh-CN, XiaoxiaoNeural)' -> 'zh-CN-XiaoxiaoNeural')."""
    m = _LONG_NAME_RE.match(name.strip())
    if not m:
        return name.strip()
    return f"{m.group(1).strip()}-{m.group(2).strip()}"


# ---------------------------------------------------------------------------
# Deterministic synthesis
# ---------------------------------------------------------------------------


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _is_speakable(ch: str) -> bool:
    return not ch.isspace() and not _is_punct(ch)


def audio_frames_for(text: str) -> int:
    """Number of 24 ms MP3 frames the fake returns for ``text`` (a request's text).

    ``LEAD_FRAMES + FRAMES_PER_CHAR * (non-whitespace characters)``.
    """
    n = sum(1 for ch in text if not ch.isspace())
    return LEAD_FRAMES + FRAMES_PER_CHAR * n


def audio_duration_for(text: str) -> float:
    """Seconds of audio the fake returns for ``text``."""
    return audio_frames_for(text) * FRAME_SECONDS


def _char_frame_starts(text: str) -> List[int]:
    """Frame index at which each character of ``text`` starts (len(text)+1 entries)."""
    starts = []
    pos = LEAD_FRAMES
    for ch in text:
        starts.append(pos)
        if not ch.isspace():
            pos += FRAMES_PER_CHAR
    starts.append(pos)
    return starts


def _merge_unspeakable(spans: List[Tuple[int, int]], text: str) -> List[Tuple[int, int]]:
    """Merge spans without a speakable char into the previous (or next) span."""
    merged: List[Tuple[int, int]] = []
    pending_start: Optional[int] = None
    for start, end in spans:
        if any(_is_speakable(c) for c in text[start:end]):
            if pending_start is not None:
                start, pending_start = pending_start, None
            merged.append((start, end))
        elif merged:
            merged[-1] = (merged[-1][0], end)
        elif pending_start is None:
            pending_start = start
    if pending_start is not None:  # nothing speakable at all
        merged.append((pending_start, spans[-1][1]))
    return merged


def _sentence_spans(text: str) -> List[Tuple[int, int]]:
    spans: List[Tuple[int, int]] = []
    start = 0
    i, n = 0, len(text)
    while i < n:
        if text[i] in SENTENCE_END:
            j = i + 1
            while j < n and (text[j] in SENTENCE_END or text[j] in _CLOSERS):
                j += 1
            spans.append((start, j))
            start = i = j
            continue
        i += 1
    if start < n:
        spans.append((start, n))
    # drop whitespace-only pieces (their frames are zero anyway)
    spans = [(a, b) for a, b in spans if text[a:b].strip()]
    if not spans:
        return []
    return _merge_unspeakable(spans, text)


def split_sentences(text: str) -> List[str]:
    """Sentences as the fake reports them (split after 。！？；!?;, punctuation kept)."""
    return [text[a:b].strip() for a, b in _sentence_spans(text)]


_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’.\-][A-Za-z0-9]+)*|\S")


def _word_spans(text: str) -> List[Tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    if not spans:
        return []
    return _merge_unspeakable(spans, text)


def expected_boundaries(text: str, boundary: str = "SentenceBoundary") -> List[Dict[str, Any]]:
    """The boundary events (per-connection offsets, ticks) the fake sends for ``text``."""
    starts = _char_frame_starts(text)
    if boundary == "WordBoundary":
        spans = _word_spans(text)
    else:
        spans = _sentence_spans(text)
    out = []
    for a, b in spans:
        seg = text[a:b]
        # leading/trailing whitespace does not take time: start at first non-space char
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        fa, fb = starts[a + lead], starts[b - trail]
        if boundary == "WordBoundary":
            # the reported text is the speakable token, not attached punctuation
            shown = "".join(c for c in seg if not c.isspace())
            core = [
                m.group(0)
                for m in _WORD_RE.finditer(seg)
                if any(_is_speakable(c) for c in m.group(0))
            ]
            shown = core[0] if core else shown
        else:
            shown = seg.strip()
        out.append(
            {
                "type": boundary,
                "offset": fa * FRAME_TICKS,
                "duration": (fb - fa) * FRAME_TICKS,
                "text": shown,
            }
        )
    return out


def _text_tag(text: str) -> bytes:
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[: _TAG_LEN - len(_TAG_PREFIX)]
    return _TAG_PREFIX + digest.encode("ascii")


def _tagged(frame: bytes, tag: bytes) -> bytes:
    return frame[:_TAG_OFFSET] + tag + frame[_TAG_OFFSET + _TAG_LEN :]


def fake_audio(text: str, gender: str = "Female") -> bytes:
    """The exact MP3 bytes the fake sends for ``text`` (Female -> 330 Hz, else 220 Hz)."""
    tag = _text_tag(text)
    silent = _tagged(SILENT_FRAME, tag)
    tone = _tagged(_TONE_330 if gender == "Female" else _TONE_220, tag)
    parts = [silent * LEAD_FRAMES]
    for ch in text:
        if ch.isspace():
            continue
        parts.append((tone if _is_speakable(ch) else silent) * FRAMES_PER_CHAR)
    return b"".join(parts)


def _louder(frame: bytes, steps: int) -> bytes:
    """``frame`` with its global_gain raised by ``steps`` (x 1.5 dB): same bits, louder sound.

    MPEG-2 mono side info: main_data_begin (8 bits), private (1), part2_3_length
    (12), big_values (9), then global_gain (8) at bit 30 after the header.
    """
    bits = int.from_bytes(frame[4:13], "big")
    shift = 72 - 30 - 8
    gain = (bits >> shift) & 0xFF
    bits = (bits & ~(0xFF << shift)) | (min(255, gain + steps) << shift)
    return frame[:4] + bits.to_bytes(9, "big") + frame[13:]


def faulty_audio(text: str, fault: str, gender: str = "Female") -> bytes:
    """The audio of the ``silence`` and ``clipped`` faults: as long as :func:`fake_audio`.

    ``silence``: every frame silent.  ``clipped``: the tone 24 dB louder, so it
    decodes far above full scale (clipped by any player), still valid MP3.
    """
    audio = fake_audio(text, gender)
    frames = [audio[i : i + FRAME_BYTES] for i in range(0, len(audio), FRAME_BYTES)]
    if fault == "silence":
        frames = [SILENT_FRAME[:_TAG_OFFSET] + f[_TAG_OFFSET:] for f in frames]
    elif fault == "clipped":
        frames = [f if f[4:13] == bytes(9) else _louder(f, 16) for f in frames]
    else:
        raise ValueError(f"no faulty audio for {fault!r}")
    return b"".join(frames)


def read_tags(mp3: bytes) -> List[str]:
    """Run-length list of the text tags found in ``mp3`` (frames produced by this fake).

    Useful to check which requests' audio ended up, in which order, in a file
    built by byte concatenation / stream copy.
    """
    out: List[str] = []
    i = mp3.find(SILENT_FRAME[:4])
    while 0 <= i <= len(mp3) - FRAME_BYTES:
        tag = mp3[i + _TAG_OFFSET : i + _TAG_OFFSET + _TAG_LEN]
        if tag.startswith(_TAG_PREFIX):
            t = tag.decode("ascii", "replace")
            if not out or out[-1] != t:
                out.append(t)
            i = mp3.find(SILENT_FRAME[:4], i + FRAME_BYTES)
        else:
            i = mp3.find(SILENT_FRAME[:4], i + 1)
    return out


# ---------------------------------------------------------------------------
# Request log
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class EdgeRequest:
    """One WebSocket connection as seen by the fake."""

    index: int  # connection number since the server started (0-based)
    query: Dict[str, str]
    headers: Dict[str, str]
    connection_id: Optional[str] = None
    sec_ms_gec: Optional[str] = None
    sec_ms_gec_version: Optional[str] = None
    request_id: Optional[str] = None  # X-RequestId of the ssml frame
    config: Optional[Dict[str, Any]] = None  # speech.config JSON
    boundary: Optional[str] = None  # "SentenceBoundary" | "WordBoundary"
    ssml: Optional[str] = None
    ssml_bytes: int = 0  # len(ssml text frame encoded as UTF-8), headers included
    voice: Optional[str] = None  # short name, e.g. zh-CN-XiaoxiaoNeural
    voice_long: Optional[str] = None
    rate: Optional[str] = None
    pitch: Optional[str] = None
    volume: Optional[str] = None
    text: Optional[str] = None  # XML-unescaped prosody text
    attempt: int = 0  # earlier connections with the same (voice, text)
    fault: Optional[str] = None  # injected fault, if any
    outcome: str = (
        "pending"  # "ok", a fault name, "unknown_voice", "punctuation_only", "client_gone", ...
    )
    audio_bytes_total: int = 0  # size of the full audio for this text
    audio_bytes_sent: int = 0
    boundaries_sent: int = 0
    started: float = 0.0  # time.monotonic()
    finished: Optional[float] = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


Predicate = Callable[[EdgeRequest], bool]


@dataclasses.dataclass
class _Rule:
    fault: str
    remaining: Optional[int]  # None = unlimited
    when: Optional[Predicate]
    target: str  # "ws" or "voices"


def _unit_hash(*parts: Any) -> float:
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2.0**64


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------

_SSML_RE = re.compile(
    r"<voice\s+name='(?P<voice>[^']*)'>\s*<prosody\s+pitch='(?P<pitch>[^']*)'\s+rate='(?P<rate>[^']*)'"
    r"\s+volume='(?P<volume>[^']*)'>(?P<text>.*)</prosody>\s*</voice>",
    re.S,
)


def _parse_frame(data: str) -> Tuple[Dict[str, str], str]:
    head, sep, body = data.partition("\r\n\r\n")
    headers = {}
    for line in head.split("\r\n"):
        k, _, v = line.partition(":")
        headers[k] = v
    return headers, body


class FakeEdgeServer:
    """Fake edge-tts service running in its own thread + event loop.

    Args:
        host, port: where to listen (port 0 = pick a free port).
        latency: seconds to wait after the ssml frame before answering.
        speed: audio seconds streamed per wall-clock second (None = instant).
        voices: the voice list to serve (default :func:`default_voices`).
        skew_seconds: how far ahead the ``Date`` of a ``403_skew`` answer is.
        stall_cap: seconds a stalled connection is held open at most.
        punctuation_only_no_audio: like the real service, answer a text with
            no speakable character (e.g. "……") with turn.start + turn.end only.
        check_token: validate Sec-MS-GEC against the server clock
            (``time.time() + clock_offset``); mismatch -> 403 with the server Date.
        max_concurrent: answer 429 when more connections than this are open.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: float = 0.0,
        speed: Optional[float] = None,
        voices: Optional[List[Dict[str, Any]]] = None,
        skew_seconds: float = 3600.0,
        stall_cap: float = 120.0,
        punctuation_only_no_audio: bool = True,
        check_token: bool = False,
        clock_offset: float = 0.0,
        max_concurrent: Optional[int] = None,
    ) -> None:
        self.host = host
        self._port = port
        self.latency = latency
        self.speed = speed
        self.voices = voices if voices is not None else default_voices()
        self.skew_seconds = skew_seconds
        self.stall_cap = stall_cap
        self.punctuation_only_no_audio = punctuation_only_no_audio
        self.check_token = check_token
        self.clock_offset = clock_offset
        self.max_concurrent = max_concurrent

        self._lock = threading.Lock()
        self._requests: List[EdgeRequest] = []
        self._voice_list_requests: List[Dict[str, Any]] = []
        self._rules: List[_Rule] = []
        self._rate: Optional[Dict[str, Any]] = None
        self._attempts: Dict[Tuple[str, str], int] = {}
        self._consecutive_hs_faults = 0
        self._conn_counter = 0
        self._active = 0
        self.peak_concurrency = 0

        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._stopping: Optional[asyncio.Event] = None
        self._tasks: set = set()
        self._started = threading.Event()
        self._start_error: Optional[BaseException] = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "FakeEdgeServer":
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="fake-edge-tts", daemon=True)
        self._thread.start()
        self._started.wait(10)
        if self._start_error is not None:
            raise RuntimeError(f"fake edge server failed to start: {self._start_error}")
        if not self._started.is_set():
            raise RuntimeError("fake edge server did not start")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._setup())
        except BaseException as e:  # pragma: no cover - startup failure
            self._start_error = e
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _setup(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_get(WS_PATH, self._ws_handler)
        app.router.add_get(VOICES_PATH, self._voices_handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self._port = server.sockets[0].getsockname()[1]
        self._runner = runner

    async def _shutdown(self) -> None:
        assert self._stopping is not None
        self._stopping.set()
        for t in list(self._tasks):
            t.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        loop = self._loop
        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                fut.result(10)
            except Exception:  # pragma: no cover
                pass
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> "FakeEdgeServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- URLs ----------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def wss_url(self) -> str:
        return f"ws://{self.host}:{self._port}{WS_PATH}?TrustedClientToken={TRUSTED_CLIENT_TOKEN}"

    @property
    def voices_url(self) -> str:
        return f"http://{self.host}:{self._port}{VOICES_PATH}?trustedclienttoken={TRUSTED_CLIENT_TOKEN}"

    # -- request log -----------------------------------------------------------

    @property
    def requests(self) -> List[EdgeRequest]:
        """Snapshot (a new list) of the WebSocket connections so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def voice_list_requests(self) -> List[Dict[str, Any]]:
        with self._lock:
            return list(self._voice_list_requests)

    def texts(self, outcome: Optional[str] = None) -> List[str]:
        """Texts of the connections that got as far as the ssml frame (optionally filtered)."""
        return [
            r.text
            for r in self.requests
            if r.text is not None and (outcome is None or r.outcome == outcome)
        ]

    def count(self, outcome: Optional[str] = None, fault: Optional[str] = None) -> int:
        return sum(
            1
            for r in self.requests
            if (outcome is None or r.outcome == outcome) and (fault is None or r.fault == fault)
        )

    def clear(self) -> None:
        """Forget the request log (faults and attempt counters are kept)."""
        with self._lock:
            self._requests.clear()
            self._voice_list_requests.clear()

    def reset(self) -> None:
        """Forget log, queued faults, fault rate and attempt counters."""
        self.clear()
        self.clear_faults()

    # -- fault injection -------------------------------------------------------

    def fail_next(
        self,
        fault: str,
        times: Optional[int] = 1,
        when: Optional[Predicate] = None,
        target: str = "ws",
    ) -> None:
        """Queue ``fault`` for the next ``times`` matching requests (None = forever).

        Rules are consumed in FIFO order.  ``when(record)`` selects requests; for
        stream faults it sees the full record (text, voice, ...).  Handshake
        faults (403_skew, 401/429/503, reset, handshake_stall) are decided at
        the HTTP upgrade, before any text is sent, so their ``when`` only sees
        ``index``/``query``/``headers`` (text and voice are None; a predicate
        that raises counts as "no match").  ``target="voices"`` applies an
        HTTP-level fault (403_skew, a status code, reset) to the voice list.
        """
        if fault not in FAULTS and not fault.isdigit():
            raise ValueError(
                f"unknown fault {fault!r}; known: {', '.join(FAULTS)} or an HTTP status"
            )
        if target not in ("ws", "voices"):
            raise ValueError("target must be 'ws' or 'voices'")
        with self._lock:
            self._rules.append(_Rule(fault, times, when, target))

    def fault_rate(
        self,
        rate: float,
        faults: Sequence[str] = ("no_audio", "truncate", "503", "reset"),
        seed: int = 0,
        max_per_text: int = 2,
    ) -> None:
        """Inject faults at random but reproducibly.

        Stream faults hit a request when ``hash(seed, voice, text, attempt) <
        rate`` (``attempt`` counts earlier connections for the same voice+text),
        and never more than ``max_per_text`` times per text, so retries always
        succeed eventually.  Handshake faults are keyed on the connection index
        (the text is not known yet) and at most ``max_per_text`` in a row.
        The fault kind is picked by hash as well.  ``rate=0`` disables.
        """
        faults = tuple(faults)
        for f in faults:
            if f not in FAULTS and not f.isdigit():
                raise ValueError(f"unknown fault {f!r}")
        with self._lock:
            self._rate = (
                None
                if rate <= 0 or not faults
                else {"rate": float(rate), "faults": faults, "seed": seed, "max": max_per_text}
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()
            self._rate = None
            self._attempts.clear()
            self._consecutive_hs_faults = 0

    @staticmethod
    def _safe(pred: Optional[Predicate], rec: EdgeRequest) -> bool:
        if pred is None:
            return True
        try:
            return bool(pred(rec))
        except Exception:
            return False

    def _take_rule(self, rec: EdgeRequest, phase: str, target: str = "ws") -> Optional[str]:
        """Pick a queued fault (lock held by caller)."""
        for rule in self._rules:
            if rule.target != target or (rule.remaining is not None and rule.remaining <= 0):
                continue
            hs = _is_handshake_fault(rule.fault)
            if phase == "handshake":
                if not hs:
                    if rule.when is None:
                        break  # this connection is reserved for that stream fault (FIFO)
                    continue
            elif hs:
                continue
            if self._safe(rule.when, rec):
                if rule.remaining is not None:
                    rule.remaining -= 1
                self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
                return rule.fault
        return None

    def _pick_handshake_fault(self, rec: EdgeRequest) -> Optional[str]:
        with self._lock:
            fault = self._take_rule(rec, "handshake")
            if fault is None and self._rate is not None:
                cfg = self._rate
                hs = [f for f in cfg["faults"] if _is_handshake_fault(f)]
                share = cfg["rate"] * len(hs) / len(cfg["faults"])
                if (
                    hs
                    and self._consecutive_hs_faults < cfg["max"]
                    and _unit_hash(cfg["seed"], "hs", rec.index) < share
                ):
                    fault = hs[int(_unit_hash(cfg["seed"], "hs-kind", rec.index) * len(hs))]
            if fault is not None:
                self._consecutive_hs_faults += 1
            else:
                self._consecutive_hs_faults = 0
            return fault

    def _pick_stream_fault(self, rec: EdgeRequest) -> Optional[str]:
        with self._lock:
            fault = self._take_rule(rec, "stream")
            if fault is None and self._rate is not None:
                cfg = self._rate
                st = [f for f in cfg["faults"] if not _is_handshake_fault(f)]
                share = cfg["rate"] * len(st) / len(cfg["faults"])
                key = (cfg["seed"], rec.voice, rec.text, rec.attempt)
                if st and rec.attempt < cfg["max"] and _unit_hash(*key) < share:
                    fault = st[int(_unit_hash("kind", *key) * len(st))]
            return fault

    # -- handlers --------------------------------------------------------------

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _hold_until_gone(
        self, request: web.Request, cap: float, ws: Optional[web.WebSocketResponse] = None
    ) -> None:
        """Keep the connection open, sending nothing, until the client goes away / stop / cap."""
        assert self._stopping is not None
        deadline = time.monotonic() + cap
        while time.monotonic() < deadline and not self._stopping.is_set():
            if ws is not None:
                try:
                    msg = await ws.receive(timeout=0.1)
                except asyncio.TimeoutError:
                    continue
                if msg.type in (
                    WSMsgType.CLOSE,
                    WSMsgType.CLOSING,
                    WSMsgType.CLOSED,
                    WSMsgType.ERROR,
                ):
                    return
            else:
                transport = request.transport
                if transport is None or transport.is_closing():
                    return
                await asyncio.sleep(0.05)

    def _token_ok(self, token: Optional[str]) -> bool:
        if not token:
            return False
        from edge_tts.drm import generate_sec_ms_gec_v2

        now = time.time() + self.clock_offset
        return any(token == generate_sec_ms_gec_v2(now + d) for d in (-300, 0, 300))

    async def _handshake_fault(
        self, request: web.Request, rec: EdgeRequest, fault: str
    ) -> web.StreamResponse:
        rec.fault = fault
        rec.outcome = fault
        if fault == "403_skew":
            date = email.utils.formatdate(time.time() + self.skew_seconds, usegmt=True)
            rec.finished = time.monotonic()
            return web.Response(status=403, headers={"Date": date}, text="Forbidden")
        if fault.isdigit():
            rec.finished = time.monotonic()
            return web.Response(status=int(fault), text=f"fake edge: {fault}")
        if fault == "reset":
            rec.finished = time.monotonic()
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        if fault == "handshake_stall":
            await self._hold_until_gone(request, self.stall_cap)
            rec.finished = time.monotonic()
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        raise AssertionError(fault)  # pragma: no cover

    async def _voices_handler(self, request: web.Request) -> web.StreamResponse:
        entry = {"query": dict(request.query), "headers": dict(request.headers), "outcome": "ok"}
        with self._lock:
            self._voice_list_requests.append(entry)
            fault = self._take_rule(
                EdgeRequest(index=-1, query=entry["query"], headers=entry["headers"]),
                "handshake",
                target="voices",
            )
        if fault is not None:
            entry["outcome"] = fault
            if fault == "403_skew":
                date = email.utils.formatdate(time.time() + self.skew_seconds, usegmt=True)
                return web.Response(status=403, headers={"Date": date}, text="Forbidden")
            if fault.isdigit():
                return web.Response(status=int(fault), text=f"fake edge: {fault}")
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        return web.json_response(self.voices)

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        self._track()
        query = dict(request.query)
        with self._lock:
            index = self._conn_counter
            self._conn_counter += 1
            rec = EdgeRequest(
                index=index,
                query=query,
                headers=dict(request.headers),
                connection_id=query.get("ConnectionId"),
                sec_ms_gec=query.get("Sec-MS-GEC"),
                sec_ms_gec_version=query.get("Sec-MS-GEC-Version"),
                started=time.monotonic(),
            )
            self._requests.append(rec)
            self._active += 1
            self.peak_concurrency = max(self.peak_concurrency, self._active)
            too_many = self.max_concurrent is not None and self._active > self.max_concurrent
        try:
            if too_many:
                rec.outcome = "429_concurrency"
                rec.finished = time.monotonic()
                return web.Response(status=429, text="Too Many Requests")
            if self.check_token and not self._token_ok(rec.sec_ms_gec):
                rec.outcome = "403_token"
                rec.finished = time.monotonic()
                date = email.utils.formatdate(time.time() + self.clock_offset, usegmt=True)
                return web.Response(status=403, headers={"Date": date}, text="Forbidden")
            fault = self._pick_handshake_fault(rec)
            if fault is not None:
                return await self._handshake_fault(request, rec, fault)

            ws = web.WebSocketResponse(autoping=True)
            await ws.prepare(request)
            try:
                await self._serve_ws(request, ws, rec)
            except (ConnectionError, RuntimeError, asyncio.TimeoutError):
                if rec.outcome == "pending":
                    rec.outcome = "client_gone"
            finally:
                if rec.finished is None:
                    rec.finished = time.monotonic()
                if not ws.closed:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(ws.close(), 1.0)
            return ws
        finally:
            with self._lock:
                self._active -= 1

    async def _read_text_frame(self, ws: web.WebSocketResponse) -> Optional[str]:
        msg = await ws.receive(timeout=30)
        if msg.type != WSMsgType.TEXT:
            return None
        return msg.data

    async def _serve_ws(
        self, request: web.Request, ws: web.WebSocketResponse, rec: EdgeRequest
    ) -> None:
        cfg_frame = await self._read_text_frame(ws)
        if cfg_frame is None:
            rec.outcome = "client_gone"
            return
        _, body = _parse_frame(cfg_frame)
        try:
            rec.config = json.loads(body.strip())
            opts = rec.config["context"]["synthesis"]["audio"]["metadataoptions"]
            word = str(opts.get("wordBoundaryEnabled", "false")).lower() == "true"
        except (ValueError, KeyError, TypeError):
            word = False
        rec.boundary = "WordBoundary" if word else "SentenceBoundary"

        ssml_frame = await self._read_text_frame(ws)
        if ssml_frame is None:
            rec.outcome = "client_gone"
            return
        rec.ssml_bytes = len(ssml_frame.encode("utf-8"))
        headers, ssml = _parse_frame(ssml_frame)
        rec.ssml = ssml
        rec.request_id = headers.get("X-RequestId") or uuid.uuid4().hex
        m = _SSML_RE.search(ssml)
        if not m:
            rec.outcome = "bad_ssml"
            await ws.close()
            return
        rec.voice_long = m.group("voice")
        rec.voice = short_voice_name(rec.voice_long)
        rec.rate, rec.pitch, rec.volume = m.group("rate"), m.group("pitch"), m.group("volume")
        rec.text = unescape(m.group("text"))
        with self._lock:
            key = (rec.voice, rec.text)
            rec.attempt = self._attempts.get(key, 0)
            self._attempts[key] = rec.attempt + 1

        sender = _Sender(ws, rec.request_id)
        voice = next((v for v in self.voices if v.get("ShortName") == rec.voice), None)

        if self.latency > 0:
            await asyncio.sleep(self.latency)

        if voice is None or (
            self.punctuation_only_no_audio and not any(_is_speakable(c) for c in rec.text)
        ):
            rec.outcome = "unknown_voice" if voice is None else "punctuation_only"
            await sender.text("turn.start", {"context": {"serviceTag": sender.service_tag}})
            rec.finished = time.monotonic()
            await sender.text("turn.end", {})
            await self._drain(ws)
            return

        fault = self._pick_stream_fault(rec)
        rec.fault = fault
        audio = fake_audio(rec.text, voice.get("Gender", "Female"))
        if fault in ("silence", "clipped"):
            audio = faulty_audio(rec.text, fault, voice.get("Gender", "Female"))
        rec.audio_bytes_total = len(audio)
        bounds = expected_boundaries(rec.text, rec.boundary)

        if fault == "stall_silent":
            rec.outcome = fault
            await self._hold_until_gone(request, self.stall_cap, ws)
            return

        await sender.text("turn.start", {"context": {"serviceTag": sender.service_tag}})
        if fault == "no_audio":
            rec.outcome = fault
            rec.finished = time.monotonic()
            await sender.text("turn.end", {})
            await self._drain(ws)
            return
        await sender.text(
            "response",
            {
                "context": {"serviceTag": sender.service_tag},
                "audio": {"type": "inline", "streamId": sender.stream_id},
            },
        )
        if fault == "malformed":
            rec.outcome = fault
            await sender.text("turn.middle", {})
            await self._drain(ws)
            return
        if fault == "bad_metadata":
            rec.outcome = fault
            await sender.raw_text(
                "audio.metadata", json.dumps({"Metadata": [{"Type": "SessionEnd", "Data": {}}]})
            )
            await self._drain(ws)
            return

        if fault == "cut_between":
            bounds = bounds[:-1]  # audio and boundaries both stop after the second-last sentence
        for b in bounds:
            await sender.metadata(b)
            rec.boundaries_sent += 1

        if fault == "bad_binary":
            rec.outcome = fault
            header = (
                b"Path:audio\r\nX-RequestId:"
                + rec.request_id.encode()
                + b"\r\nContent-Type:audio/mpeg\r\n"
            )
            await ws.send_bytes(struct.pack(">H", len(header)) + header + audio[:FRAME_BYTES])
            await self._drain(ws)
            return
        if fault == "oversize":
            rec.outcome = fault
            big = SILENT_FRAME * ((5 * 1024 * 1024) // FRAME_BYTES)
            await sender.audio(big)
            await self._drain(ws)
            return

        total_frames = len(audio) // FRAME_BYTES
        limit_frames = total_frames
        if fault in ("truncate", "reset_midstream"):
            limit_frames = max(1, total_frames // 2)
        elif fault == "stall":
            limit_frames = max(1, min(total_frames // 2, 10))
        elif fault == "cut_between":
            last = bounds[-1] if bounds else None
            limit_frames = (
                (last["offset"] + last["duration"]) // FRAME_TICKS if last else LEAD_FRAMES
            )

        paced = self.speed is not None and self.speed > 0
        per_msg = PACED_MESSAGE_FRAMES if paced else UNPACED_MESSAGE_FRAMES
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        sent_frames = 0
        while sent_frames < limit_frames:
            n = min(per_msg, limit_frames - sent_frames)
            if paced:
                # a message leaves once its audio has been "synthesized" at `speed`
                target = t0 + (sent_frames + n) * FRAME_SECONDS / float(self.speed)  # type: ignore[arg-type]
                delay = target - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            chunk = audio[sent_frames * FRAME_BYTES : (sent_frames + n) * FRAME_BYTES]
            await sender.audio(chunk)
            sent_frames += n
            rec.audio_bytes_sent += len(chunk)

        if fault in ("truncate", "cut_between"):
            rec.outcome = fault
            rec.finished = time.monotonic()
            await ws.close()
            return
        if fault == "reset_midstream":
            rec.outcome = fault
            rec.finished = time.monotonic()
            await asyncio.sleep(0.01)  # let the audio leave before the reset
            if request.transport is not None:
                request.transport.abort()
            return
        if fault == "stall":
            rec.outcome = fault
            await self._hold_until_gone(request, self.stall_cap, ws)
            return

        await sender.terminator()
        rec.outcome = fault if fault in ("silence", "clipped") else "ok"
        rec.finished = time.monotonic()
        await sender.text("turn.end", {})
        await self._drain(ws)

    async def _drain(self, ws: web.WebSocketResponse, timeout: float = 10.0) -> None:
        """Wait (bounded) for the client to close the socket."""
        assert self._stopping is not None
        deadline = time.monotonic() + timeout
        while not ws.closed and time.monotonic() < deadline and not self._stopping.is_set():
            try:
                msg = await ws.receive(timeout=0.2)
            except asyncio.TimeoutError:
                continue
            except Exception:
                return
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return


class _Sender:
    """Builds server -> client frames in the service's exact layout."""

    def __init__(self, ws: web.WebSocketResponse, request_id: str) -> None:
        self.ws = ws
        self.request_id = request_id
        self.stream_id = uuid.uuid4().hex.upper()
        self.service_tag = uuid.uuid4().hex
        self._audio_header = (
            f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\n"
            f"X-StreamId:{self.stream_id}\r\nPath:audio\r\n"
        ).encode("ascii")
        self._end_header = (
            f"X-RequestId:{request_id}\r\nX-StreamId:{self.stream_id}\r\nPath:audio\r\n"
        ).encode("ascii")

    async def raw_text(self, path: str, body: str) -> None:
        ctype = "application/json; charset=utf-8"
        await self.ws.send_str(
            f"X-RequestId:{self.request_id}\r\nContent-Type:{ctype}\r\nPath:{path}\r\n\r\n{body}"
        )

    async def text(self, path: str, body: Dict[str, Any]) -> None:
        await self.raw_text(path, json.dumps(body, ensure_ascii=False))

    async def metadata(self, b: Dict[str, Any]) -> None:
        entry = {
            "Type": b["type"],
            "Data": {
                "Offset": b["offset"],
                "Duration": b["duration"],
                "text": {
                    "Text": escape(b["text"]),
                    "Length": len(b["text"]),
                    "BoundaryType": b["type"],
                },
            },
        }
        await self.raw_text("audio.metadata", json.dumps({"Metadata": [entry]}, ensure_ascii=False))

    async def audio(self, payload: bytes) -> None:
        h = self._audio_header
        await self.ws.send_bytes(struct.pack(">H", len(h)) + h + payload)

    async def terminator(self) -> None:
        h = self._end_header
        await self.ws.send_bytes(struct.pack(">H", len(h)) + h)


# ---------------------------------------------------------------------------
# Standalone
# ---------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m digest_testing.fake_edge",
        description="Run the fake edge-tts service in the foreground.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--latency", type=float, default=0.0, help="seconds before the first frame")
    p.add_argument("--speed", type=float, default=None, help="audio seconds per wall-clock second")
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument(
        "--faults", default="no_audio,truncate,503,reset", help="comma-separated fault names"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-concurrent", type=int, default=None)
    args = p.parse_args(argv)

    server = FakeEdgeServer(
        args.host,
        args.port,
        latency=args.latency,
        speed=args.speed,
        max_concurrent=args.max_concurrent,
    )
    if args.fault_rate > 0:
        server.fault_rate(
            args.fault_rate,
            [f.strip() for f in args.faults.split(",") if f.strip()],
            seed=args.seed,
        )
    with server:
        print(f"fake edge-tts listening on {server.base_url}")
        print(f"WSS_URL    = {server.wss_url}")
        print(f"VOICE_LIST = {server.voices_url}")
        print("Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            reqs = server.requests
            print(
                f"\n{len(reqs)} connections; outcomes: "
                + ", ".join(
                    f"{o}={sum(1 for r in reqs if r.outcome == o)}"
                    for o in sorted({r.outcome for r in reqs})
                )
            )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
