"""Speech engines behind one interface, chosen by name.

`edge` is Microsoft's online service; `offline` is espeak-ng on this machine.
`auto` picks edge when its server answers and offline otherwise, for the
whole episode: one briefing never mixes two voices.
"""

from __future__ import annotations

import socket
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
    import edge_tts.communicate  # the tests point its WSS_URL at a local fake

    url = urlsplit(edge_tts.communicate.WSS_URL)
    port = url.port or (443 if url.scheme in ("wss", "https") else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
