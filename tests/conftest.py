import pytest

from digest_testing.fake_edge import FakeEdgeServer, patch_edge_tts_with_monkeypatch


@pytest.fixture
def fake_edge(monkeypatch):
    """A running FakeEdgeServer with edge_tts pointed at it (URLs, NO_PROXY, clock skew reset)."""
    with FakeEdgeServer() as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        yield server
