"""`digest serve DIR`: the show folder over HTTP, for a phone on the same Wi-Fi.

aiohttp's FileResponse does the file serving: HEAD, conditional requests and
byte ranges (206 Partial Content), which podcast apps and Safari need to seek.
Paths are checked before any file is opened: dot files, `..` (also when
percent-encoded) and symlinks that lead out of the folder are refused with 404.

A private show (the default) answers only under an unguessable token as the
first path segment; the token is kept in `SHOWDIR/.serve-token` so phones
that subscribed keep working after a restart.  `feed.xml` is rendered per
request with the server's own origin in its URLs, so a phone can download
what the feed lists; the file on disk keeps the show's base URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from digest.errors import InputError
from digest.feed import read_state, render_feed
from digest.publish import FEED_FILE, PAGE_FILE, open_show

TOKEN_FILE = ".serve-token"
CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json+chapters",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def show_token(show_dir: Path) -> str:
    """The show's serving token: read from SHOWDIR/.serve-token, created on first use."""
    path = show_dir / TOKEN_FILE
    try:
        token = path.read_text(encoding="ascii").strip()
        if len(token) >= 16:
            return token
    except (OSError, UnicodeDecodeError):
        pass
    token = secrets.token_urlsafe(16)
    try:
        path.write_text(token + "\n", encoding="ascii")
        path.chmod(0o600)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return token


def resolve_request_path(root: Path, parts: list[str]) -> Path | None:
    """The file a request names inside `root`, or None when it must be refused."""
    if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        return None
    candidate = root.joinpath(*parts) if parts else root
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root):  # a symlink out of the folder
        return None
    if resolved.is_dir():
        resolved = resolved / PAGE_FILE
        if not resolved.is_file():
            return None
    return resolved


def make_app(show_dir: Path, token: str | None) -> web.Application:
    """The aiohttp application serving `show_dir`; `token` None serves it openly."""
    root = show_dir.resolve()
    open_show(root)  # refuse a folder that is not a show before listening

    async def handle(request: web.Request) -> web.StreamResponse:
        parts = request.match_info["tail"].split("/") if request.match_info["tail"] else []
        prefix = ""
        if token is not None:
            if not parts or not secrets.compare_digest(parts[0], token):
                raise web.HTTPNotFound()
            parts = parts[1:]
            prefix = "/" + token
            if not parts and not request.path.endswith("/"):
                raise web.HTTPFound(request.path + "/")
        if parts and parts[-1] == "":
            parts = parts[:-1]
        if parts == [FEED_FILE]:
            state = read_state(root)
            base = f"{request.scheme}://{request.host}{prefix}"
            body = render_feed(state.show, state.episodes, base, state.cover_name)
            return web.Response(body=body, content_type="application/rss+xml", charset="utf-8")
        path = resolve_request_path(root, parts)
        if path is None:
            raise web.HTTPNotFound()
        headers = {}
        content_type = CONTENT_TYPES.get(path.suffix.lower())
        if content_type:
            headers["Content-Type"] = content_type
        return web.FileResponse(path, headers=headers)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)  # answers HEAD too
    return app


@dataclass
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int
    token: str | None

    def url(self, host: str | None = None) -> str:
        prefix = f"/{self.token}" if self.token else ""
        return f"http://{host or self.host}:{self.port}{prefix}/"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_server(show_dir: Path, host: str, port: int, token: str | None) -> RunningServer:
    """Start serving; port 0 picks a free one (see RunningServer.port)."""
    app = make_app(show_dir, token)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    server = site._server  # the bound port, when 0 was asked for
    bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
    return RunningServer(runner, host, bound, token)


def lan_address() -> str:
    """This machine's address on the local network (no packet is sent)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as probe:
        try:
            probe.connect(("10.254.254.254", 1))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def serve_forever(show_dir: Path, host: str, port: int, out=sys.stdout) -> None:
    """Serve until Ctrl-C, after printing the feed URL and its QR code."""
    show = open_show(show_dir)
    token = None if show.public else show_token(show_dir)

    async def main() -> None:
        server = await start_server(show_dir, host, port, token)
        shown_host = lan_address() if host in ("0.0.0.0", "") else host
        feed = server.url(shown_host) + FEED_FILE
        print(f"serving {show_dir} on {server.url(shown_host)}", file=out)
        print(f"feed: {feed}", file=out)
        if token:
            print(f"private show: the token {token} is part of every URL", file=out)
        print_qr(feed, out)
        print("scan with a phone on the same network; Ctrl-C stops", file=out, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("stopped", file=out)


def print_qr(text: str, out) -> None:
    """A QR code of `text` in the terminal (segno), for a phone's camera."""
    import segno

    segno.make(text, error="m").terminal(out=out, compact=True)
