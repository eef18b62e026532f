import pytest

from digest_testing.fake_edge import FakeEdgeServer, patch_edge_tts_with_monkeypatch


@pytest.fixture
def fake_edge(monkeypatch):
    """A running FakeEdgeServer with edge_tts pointed at it (URLs, NO_PROXY, clock skew reset)."""
    with FakeEdgeServer() as server:
        patch_edge_tts_with_monkeypatch(monkeypatch, server)
        yield server


@pytest.fixture(scope="session")
def published_show(tmp_path_factory):
    """A show folder with three published episodes (offline engine, hostile titles).

    Shared by the feed, serve and page tests: copy it before changing it.
    """
    from digest_testing.show import build_show

    return build_show(tmp_path_factory.mktemp("published"))
