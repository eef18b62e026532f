"""`digest serve`: ranges, HEAD, the token, path traversal, the feed in the server's origin, Ctrl-C."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import podcastparser
import pytest

from digest.serve import TOKEN_FILE, start_server
from digest_testing.show import BASE_URL


@pytest.fixture(scope="module")
def show_dir(published_show, tmp_path_factory):
    source, _ = published_show
    copy = tmp_path_factory.mktemp("served") / "show"
    shutil.copytree(source, copy)
    return copy


@pytest.fixture(scope="module")
def server(show_dir):
    """A private-show server on 127.0.0.1 in a background thread: (port, token)."""
    loop = asyncio.new_event_loop()
    started: dict = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        started["server"] = loop.run_until_complete(
            start_server(show_dir, "127.0.0.1", 0, "t0ken-for-the-tests-only")
        )
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield started["server"].port, "t0ken-for-the-tests-only"
    asyncio.run_coroutine_threadsafe(started["server"].stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def request(port: int, path: str, method: str = "GET", headers: dict | None = None):
    """A raw request: http.client sends the path exactly as given (no normalization)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def an_mp3(show_dir: Path) -> Path:
    return sorted((show_dir / "episodes").glob("*.mp3"))[0]


def test_range_request_returns_206_with_the_right_bytes(server, show_dir):
    port, token = server
    mp3 = an_mp3(show_dir)
    data = mp3.read_bytes()
    response, body = request(
        port, f"/{token}/episodes/{mp3.name}", headers={"Range": "bytes=1000-1999"}
    )
    assert response.status == 206
    assert response.getheader("Content-Range") == f"bytes 1000-1999/{len(data)}"
    assert body == data[1000:2000]
    response, body = request(port, f"/{token}/episodes/{mp3.name}", headers={"Range": "bytes=-500"})
    assert response.status == 206 and body == data[-500:]
    response, body = request(port, f"/{token}/episodes/{mp3.name}")
    assert response.status == 200 and body == data
    assert response.getheader("Content-Type") == "audio/mpeg"
    assert response.getheader("Accept-Ranges") == "bytes"


def test_head_gives_length_and_no_body(server, show_dir):
    port, token = server
    mp3 = an_mp3(show_dir)
    response, body = request(port, f"/{token}/episodes/{mp3.name}", method="HEAD")
    assert response.status == 200 and body == b""
    assert int(response.getheader("Content-Length")) == mp3.stat().st_size
    response, body = request(port, f"/{token}/feed.xml", method="HEAD")
    assert response.status == 200 and body == b""


def test_content_types(server, show_dir):
    port, token = server
    stem = an_mp3(show_dir).stem
    for suffix, expected in (
        (".vtt", "text/vtt"),
        (".srt", "application/x-subrip"),
        (".chapters.json", "application/json+chapters"),
    ):
        response, _ = request(port, f"/{token}/episodes/{stem}{suffix}")
        assert response.status == 200
        assert response.getheader("Content-Type").split(";")[0] == expected
    response, body = request(port, f"/{token}/")
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/html")
    assert b"<audio" in body


def test_feed_is_rendered_with_the_servers_origin(server, show_dir):
    port, token = server
    response, body = request(port, f"/{token}/feed.xml")
    assert response.status == 200
    origin = f"http://127.0.0.1:{port}/{token}"
    parsed = podcastparser.parse(f"{origin}/feed.xml", __import__("io").BytesIO(body))
    for episode in parsed["episodes"]:
        assert episode["enclosures"][0]["url"].startswith(f"{origin}/episodes/")
    assert parsed["cover_url"] == f"{origin}/cover.png"
    # the published file keeps the show's base URL
    assert BASE_URL.encode() in (show_dir / "feed.xml").read_bytes()
    assert origin.encode() not in (show_dir / "feed.xml").read_bytes()
    # and what the served feed lists can be downloaded
    url = parsed["episodes"][0]["enclosures"][0]["url"]
    response, _ = request(port, url[len(f"http://127.0.0.1:{port}") :], method="HEAD")
    assert response.status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/feed.xml",
        "/wrong-token/feed.xml",
        "/{token}/../{token}/show.toml/../../etc/passwd",
        "/{token}/episodes/../../../../etc/passwd",
        "/{token}/episodes/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/{token}/%2E%2E/%2E%2E/etc/passwd",
        "/{token}/episodes/..%2f..%2f..%2fetc%2fpasswd",
        "/{token}/" + TOKEN_FILE,
        "/{token}/episodes/link-out.mp3",
        "/{token}/outside/passwd",
        "/{token}/episodes/missing.mp3",
    ],
)
def test_refused_paths(server, show_dir, path):
    port, token = server
    (show_dir / "episodes" / "link-out.mp3").unlink(missing_ok=True)
    os.symlink("/etc/passwd", show_dir / "episodes" / "link-out.mp3")
    if not (show_dir / "outside").is_symlink():
        os.symlink("/etc", show_dir / "outside")
    (show_dir / TOKEN_FILE).write_text("root:a-secret\n")  # a dot file is never served
    response, body = request(port, path.format(token=token))
    assert response.status in (403, 404), (path, response.status)
    assert b"root:" not in body


def test_a_symlink_inside_the_folder_is_served(server, show_dir):
    port, token = server
    link = show_dir / "latest.mp3"
    link.unlink(missing_ok=True)
    os.symlink(an_mp3(show_dir), link)
    response, body = request(port, f"/{token}/latest.mp3", method="HEAD")
    assert response.status == 200


def test_cli_serve_prints_feed_url_and_qr_and_stops_on_ctrl_c(published_show, tmp_path):
    source, _ = published_show
    show = tmp_path / "show"
    shutil.copytree(source, show)
    with (show / "show.toml").open("a", encoding="utf-8") as handle:
        handle.write('privacy = "public"\n')  # the [feed] table is the file's last
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", str(show), "--port", "0", "--host", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("scan with a phone"):
                break
        output = "".join(lines)
        match = re.search(r"^feed: (http://127\.0\.0\.1:(\d+)/feed\.xml)$", output, re.M)
        assert match, output + process.stderr.read() if process.poll() is not None else output
        assert "▀" in output or "█" in output  # the QR code
        assert "token" not in output  # a public show has none
        response, body = request(int(match.group(2)), "/feed.xml")
        assert response.status == 200 and b"<rss" in body
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert "stopped" in process.stdout.read()
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
