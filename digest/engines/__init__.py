"""Speech engines behind one interface, chosen by name.

`edge` is Microsoft's online service; `offline` is espeak-ng on this machine.
`auto` picks edge when its server answers and offline otherwise, for the
whole episode: one briefing never mixes two voices.
"""

from __future__ import annotations

import socket
import urllib.request
from urllib.parse import urlsplit

from digest.engines.base import Boundary, Engine, EngineError, Speech, VoiceSettings

ENGINE_CHOICES = ("auto", "edge", "offline")

__all__ = [
    "ENGINE_CHOICES",
    "Boundary",
    "Engine",
    "EngineError",
    "Speech",
    "VoiceSettings",
    "edge_reachable",
    "get_engine",
]


def get_engine(name: str, **options: float) -> Engine:
    """An engine instance by name; options go to its constructor."""
    if name == "edge":
        from digest.engines.edge import EdgeEngine

        return EdgeEngine(**options)
    if name == "offline":
        from digest.engines.offline import OfflineEngine

        return OfflineEngine()
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_CHOICES)}")


def edge_reachable(timeout: float = 3.0) -> bool:
    """Can a TCP connection to the edge-tts server be opened within `timeout`?

    A refused connection fails at once, a firewall that drops packets after
    `timeout`, and no DNS without waiting for the synthesis timeouts.
    """
    host, port = probe_address()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def probe_address() -> tuple[str, int]:
    """Where edge-tts would connect: its server, or the proxy the environment names.

    edge-tts lets aiohttp honour proxy variables, so behind a corporate proxy the
    service is reachable even though a direct connection would be blocked.
    """
    import edge_tts.communicate  # the tests point its WSS_URL at a local fake

    url = urlsplit(edge_tts.communicate.WSS_URL)
    secure = url.scheme in ("wss", "https")
    proxies = urllib.request.getproxies()
    proxy = next(
        (proxies[k] for k in (url.scheme, "https" if secure else "http", "all") if k in proxies),
        None,
    )
    if proxy and not urllib.request.proxy_bypass(url.hostname or ""):
        target = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return target.hostname or "", target.port or 80
    return url.hostname or "", url.port or (443 if secure else 80)
