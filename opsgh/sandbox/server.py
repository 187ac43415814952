"""The HTTP side: a ThreadingHTTPServer on 127.0.0.1 that hands REST requests to `SandboxApp.handle`
and git smart-HTTP requests (`/OWNER/NAME.git/...`) to `githttp`.

REST answers: `/...` and, GHES-style, `/api/v3/...`. HTTP/1.1 with keep-alive; a dropped connection
(fault) closes the socket without a status line.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opsgh.sandbox import githttp
from opsgh.sandbox.app import SandboxApp

_CHUNK = 64 * 1024


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        super().__init__(address, SandboxRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer
    server_version = "GitHub.com"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr log: the sandbox has its own request log."""

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # ------------------------------------------------------------------ body

    def body_chunks(self) -> Iterator[bytes]:
        """The request body as it arrives (Content-Length or chunked transfer encoding)."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                remaining = size
                while remaining:
                    data = self.rfile.read(min(remaining, _CHUNK))
                    if not data:
                        return
                    remaining -= len(data)
                    yield data
                self.rfile.readline(1024)
            return
        remaining = int(self.headers.get("content-length") or 0)
        while remaining > 0:
            data = self.rfile.read(min(remaining, _CHUNK))
            if not data:
                return
            remaining -= len(data)
            yield data

    def read_body(self) -> bytes:
        return b"".join(self.body_chunks())

    # ------------------------------------------------------------------ dispatch

    def _host(self) -> str:
        host = self.headers.get("host")
        return f"http://{host}" if host else self.server.url

    def _dispatch(self) -> None:
        app = self.server.app
        if githttp.is_git_request(self.path):
            githttp.serve(self, app)
            return
        body = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        outcome = app.handle(self.command, self.path, headers, body, host=self._host(),
                             client=self.client_address[0])
        if outcome.drop:
            self.drop()
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(outcome.body)))
        self.end_headers()
        if self.command != "HEAD" and outcome.body:
            self.wfile.write(outcome.body)

    # ------------------------------------------------------------------ helpers for githttp

    def drop(self) -> None:
        """Close the connection without an answer (a dropped connection, a timeout's end)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def send_plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")


def make_server(app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> SandboxHTTPServer:
    server = SandboxHTTPServer((host, port), app)
    app.base_url = server.url
    return server
