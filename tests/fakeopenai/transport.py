"""The HTTP/1.1 plumbing of the fake: a threaded stdlib server with keep-alive and exact framing.

One daemon thread per connection (the SDK keeps many alive), Nagle off so small answers are not held
back, a deep listen backlog for bursts of ~64 simultaneous connects, no reverse DNS at bind time, and
quiet about clients that hang up. What to answer is decided by ``FakeOpenAI.handle``.
"""

from __future__ import annotations

import json
import socketserver
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .bodies import new_id
from .routes import Incoming, Outcome

if TYPE_CHECKING:
    from .server import FakeOpenAI

IDLE_TIMEOUT = 30.0
"""Seconds an idle keep-alive connection is kept open by the server."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skips HTTPServer's getfqdn (reverse DNS, slow offline)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client gave up (timeout, closed pool): nothing to report
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeopenai/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        raw = self._read_body()
        path, _, query = self.path.partition("?")
        fake = self.server.fake
        incoming = Incoming(self.command, path, query, list(self.headers.items()), raw)
        fake.begin()
        try:
            outcome = fake.handle(incoming)
            if outcome.status is None:
                outcome.release.wait(fake.hang_seconds)
                self.close_connection = True  # never answered: drop the connection
                return
            if outcome.delay > 0:
                outcome.release.wait(outcome.delay)
            self._send(outcome)
        finally:
            fake.end()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # CRLF after each chunk

    def _send(self, outcome: Outcome) -> None:
        assert outcome.status is not None
        if outcome.content is None:
            data, content_type = json.dumps(outcome.body).encode(), "application/json"
        else:
            data, content_type = outcome.content, "application/octet-stream"
        self.send_response(outcome.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("openai-version", "2020-10-01")
        self.send_header("openai-organization", "org-fakeopenai")
        self.send_header("openai-processing-ms", "1")
        self.send_header("x-request-id", new_id("req"))
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def serve(fake: FakeOpenAI) -> tuple[int, Callable[[], None]]:
    """Start serving ``fake`` on 127.0.0.1 in a daemon thread → (port, stop)."""
    server = _Server(fake)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fakeopenai", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return int(server.server_address[1]), stop
