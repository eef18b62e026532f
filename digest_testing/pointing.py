"""Pointing the real edge-tts client at a fake service (digest_testing.fake_edge).

Apart from the server so that a process that only points, such as
`python -m digest_testing.against URL build ...` (the benchmarks' builds), starts
as a user's `digest` does: importing the fake's server would add about 40 ms.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Tuple

WS_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
VOICES_PATH = "/consumer/speech/synthesize/readaloud/voices/list"
TRUSTED_CLIENT_TOKEN = "6A5AA1D4EAFF4E9FB37E23D68491D6F4"


_PROXY_VARS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "WS_PROXY",
    "WSS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "ws_proxy",
    "wss_proxy",
    "all_proxy",
)


def _urls_of(server: Any) -> Tuple[str, str]:
    if hasattr(server, "wss_url"):  # a FakeEdgeServer
        return server.wss_url, server.voices_url
    if isinstance(server, int):
        server = f"http://127.0.0.1:{server}"
    if isinstance(server, str):  # base URL of a standalone fake, e.g. "http://127.0.0.1:8765"
        base = server.rstrip("/").replace("ws://", "http://", 1)
        host = base.split("://", 1)[-1]
        return (
            f"ws://{host}{WS_PATH}?TrustedClientToken={TRUSTED_CLIENT_TOKEN}",
            f"http://{host}{VOICES_PATH}?trustedclienttoken={TRUSTED_CLIENT_TOKEN}",
        )
    return server.wss_url, server.voices_url


@contextlib.contextmanager
def point_edge_tts_at(server: Any) -> Iterator[Any]:
    """Patch edge_tts to use ``server`` (no pytest needed); everything is restored on exit.

    ``server`` is a :class:`FakeEdgeServer`, or the base URL / port of a
    standalone one (``python -m digest_testing.fake_edge``).  Patches
    ``edge_tts.communicate.WSS_URL`` and ``edge_tts.voices.VOICE_LIST``, sets
    ``NO_PROXY``, removes proxy variables and resets
    ``edge_tts.drm.DRM.clock_skew_seconds`` to 0.0.
    """
    import edge_tts.communicate
    import edge_tts.drm
    import edge_tts.voices

    wss_url, voices_url = _urls_of(server)

    saved_urls = (edge_tts.communicate.WSS_URL, edge_tts.voices.VOICE_LIST)
    saved_skew = edge_tts.drm.DRM.clock_skew_seconds
    saved_env = {k: os.environ.get(k) for k in _PROXY_VARS + ("NO_PROXY", "no_proxy")}
    try:
        edge_tts.communicate.WSS_URL = wss_url
        edge_tts.voices.VOICE_LIST = voices_url
        edge_tts.drm.DRM.clock_skew_seconds = 0.0
        for k in _PROXY_VARS:
            os.environ.pop(k, None)
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
        yield server
    finally:
        edge_tts.communicate.WSS_URL, edge_tts.voices.VOICE_LIST = saved_urls
        edge_tts.drm.DRM.clock_skew_seconds = saved_skew
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def patch_edge_tts_with_monkeypatch(monkeypatch: Any, server: Any) -> None:
    """The same patching through pytest's ``monkeypatch`` (used by tests/conftest.py)."""
    import edge_tts.communicate
    import edge_tts.drm
    import edge_tts.voices

    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", server.wss_url)
    monkeypatch.setattr(edge_tts.voices, "VOICE_LIST", server.voices_url)
    monkeypatch.setattr(edge_tts.drm.DRM, "clock_skew_seconds", 0.0)
    for k in _PROXY_VARS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
