"""A local HTTP server for web-page and feed tests: saved pages plus the ways sites fail.

    with PageServer({"/a.html": Route(body=b"...")}) as server:
        server.url("/a.html")

Built-in routes: `/missing` (404), `/slow` (answers after `slow_seconds`),
`/loop` (redirects to itself), `/data.json` (not HTML), `/huge` (50 MB of
HTML streamed without a Content-Length), `/huge-declared` (the same with
one).  `bytes_sent["/huge"]` tells how much the server managed to send
before the client hung up.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 50 * 1024 * 1024


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class PageServer:
    def __init__(self, routes: dict[str, Route] | None = None, slow_seconds: float = 3.0):
        self.routes = dict(routes or {})
        self.slow_seconds = slow_seconds
        self.bytes_sent: dict[str, int] = {}
        self.requests: list[str] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append(self.path)
                try:
                    server._answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        if path == "/slow":
            self._stop.wait(self.slow_seconds)
            self._send(handler, Route(b"<html><body><p>late</p></body></html>"))
        elif path == "/loop":
            self._send(handler, Route(status=302, headers={"Location": "/loop"}))
        elif path == "/data.json":
            self._send(handler, Route(b'{"news": []}', content_type="application/json"))
        elif path in ("/huge", "/huge-declared"):
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            if path == "/huge-declared":
                handler.send_header("Content-Length", str(HUGE_BYTES))
            handler.end_headers()
            block = b"<p>" + "填充".encode() * 10_000 + b"</p>\n"
            sent = 0
            self.bytes_sent[path] = 0
            while sent < HUGE_BYTES and not self._stop.is_set():
                handler.wfile.write(block)
                sent += len(block)
                self.bytes_sent[path] = sent
        elif path in self.routes:
            self._send(handler, self.routes[path])
        else:
            self._send(handler, Route(b"<html><body>not found</body></html>", status=404))

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, route: Route) -> None:
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(route.body)

    def __enter__(self) -> PageServer:
        # httpx honours proxy variables; a CI proxy must not be asked for 127.0.0.1.
        self._saved_env = {k: os.environ.get(k) for k in ("NO_PROXY", "no_proxy")}
        for key, value in self._saved_env.items():
            os.environ[key] = ",".join(filter(None, [value, "127.0.0.1", "localhost"]))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        time.sleep(0)  # let handler threads see the stop flag
