"""Microsoft's online neural voices through the edge-tts client.

The client retries nothing but one 403 clock-skew retry, has no read timeout
once the WebSocket is open, and reports a dropped stream as success.  This
engine therefore adds an idle timeout (no message for `idle_timeout` seconds
means the stream stalled) and turns every failure into an EngineError that
says whether a retry can help; retries and the truncation check live in
`digest.synthesis`, where they apply to every engine.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from digest.engines.base import Boundary, EngineError, EngineSettings, Speaker, Speech
from digest.mp3 import EPISODE_FORMAT

if TYPE_CHECKING:
    import asyncio

    from digest.loudness import Blocks

_TICKS_PER_SECOND = 10_000_000
# Statuses worth another try: throttling, overload and outages.  A second 403
# (after the client's own clock-skew retry) also clears up on a later attempt.
_RETRYABLE_STATUSES = {403, 408, 429, 500, 502, 503, 504}


class _ClientVersion:
    """The edge-tts client's version, on the class as on its instances.

    Read from the installed package's metadata: importing edge-tts (and aiohttp, with
    its SSL contexts) is left to the first request, which a warm build never makes.
    """

    def __get__(self, instance: object, owner: type | None = None) -> str:
        return f"edge-tts-{_client_version()}"


class EdgeEngine:
    """Microsoft's online neural voices (edge-tts); needs the service, never falls back."""

    name = "edge"
    default_voice = "zh-CN-XiaoxiaoNeural"
    output_format = EPISODE_FORMAT
    version = _ClientVersion()  # "edge-tts-7.3.1": part of every clip's cache key
    paced_requests = True  # each answer takes a latency plus the time to speak the text
    # Measure each answer's loudness blocks while it streams in (digest.block_meter), so
    # the clip check has nothing left to measure when the answer ends.
    meters_while_streaming = True

    def __init__(self, settings: EngineSettings = EngineSettings()):
        self.idle_timeout = settings.idle_timeout
        self.connect_timeout = max(1, round(settings.connect_timeout))
        self.proxy = settings.proxy
        # voice -> is it in the service's voice list?  Looked up at most once per
        # engine (one engine per episode), after the first "no audio" for a voice.
        self._voice_offered: dict[str, bool | None] = {}
        self._voice_lock: asyncio.Lock | None = None

    async def _offered(self, voice: str) -> bool | None:
        """Does the service list `voice`?  None when the list could not be fetched.

        The service answers a voice it does not serve exactly like a transient
        failure (turn.start, turn.end, no audio: NoAudioReceived), so without
        this every chunk would be retried `attempts` times -- a retry storm that
        ends in a misleading "no audio" error.  One voice-list request settles it.
        """
        import asyncio  # (in the methods that use it: a warm build reads `version` only)

        if self._voice_lock is None:
            self._voice_lock = asyncio.Lock()
        async with self._voice_lock:  # concurrent chunks share one lookup
            if voice not in self._voice_offered:
                import edge_tts

                try:
                    listed = await asyncio.wait_for(
                        edge_tts.list_voices(proxy=self.proxy), self.connect_timeout
                    )
                except Exception:  # noqa: BLE001 - no answer: we cannot tell, keep retrying
                    self._voice_offered[voice] = None
                else:
                    names = {v.get("ShortName") for v in listed} | {v.get("Name") for v in listed}
                    self._voice_offered[voice] = voice in names
            return self._voice_offered[voice]

    def available(self, timeout: float = 3.0) -> bool:
        """Can a TCP connection to the service (or to the proxy in between) open within `timeout`?

        A refused connection fails at once, a firewall that drops packets after
        `timeout`, and no DNS without waiting for the synthesis timeouts.
        """
        import socket  # (in the functions that use it: a warm build reads `version` only)

        host, port = probe_address(self.proxy)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            return False

    async def synthesize(self, text: str, speaker: Speaker) -> Speech:
        import asyncio

        import aiohttp
        import edge_tts
        from edge_tts import exceptions as edge_errors

        try:
            communicate = edge_tts.Communicate(
                text,
                speaker.voice,
                rate=speaker.rate,
                pitch=speaker.pitch,
                volume=speaker.volume,
                boundary="SentenceBoundary",
                proxy=self.proxy,
                connect_timeout=self.connect_timeout,
                receive_timeout=max(1, round(self.idle_timeout)),
            )
        except ValueError as exc:  # edge-tts validates voice and prosody locally
            raise EngineError(f"edge-tts refused the settings: {exc}", retryable=False) from None
        audio = bytearray()
        boundaries: list[Boundary] = []
        meter = _Metering(self.meters_while_streaming)
        stream = communicate.stream()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(stream.__anext__(), self.idle_timeout)
                except StopAsyncIteration:
                    break
                if message["type"] == "audio":
                    audio += message["data"]
                    meter.feed(message["data"])
                elif message["type"] == "SentenceBoundary":
                    start = message["offset"] / _TICKS_PER_SECOND
                    end = (message["offset"] + message["duration"]) / _TICKS_PER_SECOND
                    boundaries.append(Boundary(start, end, message["text"]))
        except asyncio.TimeoutError:
            raise EngineError(
                f"the stream stalled: nothing received for {self.idle_timeout:g} s", retryable=True
            ) from None
        except aiohttp.ClientResponseError as exc:  # includes WSServerHandshakeError
            raise EngineError(
                f"the service answered HTTP {exc.status}",
                retryable=exc.status in _RETRYABLE_STATUSES,
                throttled=exc.status == 429,
            ) from None
        except edge_errors.NoAudioReceived:
            if await self._offered(speaker.voice) is False:
                raise EngineError(
                    f"voice {speaker.voice!r} is not offered by the service (see `digest voices`)",
                    retryable=False,
                ) from None
            raise EngineError("the service sent no audio", retryable=True) from None
        except edge_errors.EdgeTTSException as exc:  # malformed frames, skew, WebSocket errors
            raise EngineError(f"bad response from the service: {exc}", retryable=True) from None
        except aiohttp.ClientConnectorError as exc:
            what = (
                "the proxy"
                if isinstance(exc, aiohttp.ClientProxyConnectionError)
                else "the service"
            )
            raise EngineError(
                f"connection failed: could not reach {what} at {exc.host}:{exc.port}"
                f" ({_connect_failure(exc.os_error)})",
                retryable=True,
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise EngineError(
                f"connection failed: {exc or type(exc).__name__}", retryable=True
            ) from None
        finally:
            await stream.aclose()
        return Speech(audio=bytes(audio), boundaries=tuple(boundaries), blocks=meter.finish())


class _Metering:
    """A BlockMeter that gives up quietly: on audio it cannot read (or without PyAV) the
    answer comes without blocks, and the clip check measures it with ffmpeg instead."""

    def __init__(self, enabled: bool):
        self._meter: Any = None
        self._failed = not enabled

    def feed(self, data: bytes) -> None:
        if self._failed:
            return
        from digest.block_meter import BlockMeter, MeterError

        try:
            if self._meter is None:
                self._meter = BlockMeter()
            self._meter.feed(data)
        except (ImportError, MeterError):
            self._failed = True

    def finish(self) -> Blocks | None:
        if self._failed or self._meter is None:
            return None
        from digest.block_meter import MeterError, trim_heap

        try:
            return self._meter.finish()
        except MeterError:
            return None
        finally:
            self._meter = None
            trim_heap()


@functools.cache
def _client_version() -> str:
    """edge-tts's `__version__`, from its one-line `version.py` run on its own: importing the
    package imports aiohttp, and importlib.metadata costs a warm build about 8 ms."""
    spec = importlib.util.find_spec("edge_tts")  # finds the package without running it
    folders = spec.submodule_search_locations if spec is not None else None
    if folders:
        version_file = Path(folders[0]) / "version.py"
        namespace: dict[str, object] = {}
        try:
            source = version_file.read_text(encoding="utf-8")
            exec(compile(source, str(version_file), "exec"), namespace)  # noqa: S102 - its own file
        except (OSError, SyntaxError, ValueError):
            pass
        if isinstance(namespace.get("__version__"), str):
            return namespace["__version__"]  # type: ignore[return-value]
    import edge_tts  # laid out otherwise: ask the package itself

    return edge_tts.__version__


def _connect_failure(error: OSError) -> str:
    """Why a connection could not be opened, in words (not aiohttp's repr of the SSL context)."""
    import socket

    if isinstance(error, socket.gaierror):
        return "the host name could not be resolved: no network or no DNS"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    return error.strerror or type(error).__name__


def probe_address(proxy: str | None = None) -> tuple[str, int]:
    """Where edge-tts would connect: the proxy given, else the one the environment names, else the service.

    edge-tts lets aiohttp honour proxy variables, so behind a corporate proxy the
    service is reachable even though a direct connection would be blocked.
    """
    import urllib.request  # (here: a warm build, which never connects, does without it)

    import edge_tts

    url = urlsplit(edge_tts.communicate.WSS_URL)  # the tests point it at a local fake
    secure = url.scheme in ("wss", "https")
    if proxy is None:
        proxies = urllib.request.getproxies()
        proxy = next(
            (
                proxies[k]
                for k in (url.scheme, "https" if secure else "http", "all")
                if k in proxies
            ),
            None,
        )
        if proxy and urllib.request.proxy_bypass(url.hostname or ""):
            proxy = None
    if proxy:
        target = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return target.hostname or "", target.port or 80
    return url.hostname or "", url.port or (443 if secure else 80)
