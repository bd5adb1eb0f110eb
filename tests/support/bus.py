"""A scriptable stand-in for a legacy bus on loopback: a real HTTP server that remembers what it got.

Tests use it where they need a bus that misbehaves on purpose (slow, malformed, multipart) or
where they must prove what did or did not reach the bus. The demo bus is used everywhere else.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(
        default_factory=lambda: [("Content-Type", "text/xml; charset=utf-8")]
    )
    body: bytes = b"<ok/>"
    delay: float = 0.0


class ScriptedBus:
    """Answers every request with `reply` (changeable at any time) and keeps what it received."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.received: list[Received] = []
        bus = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body meet delayed ACKs: 40 ms a call

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                bus.received.append(
                    Received(self.command, self.path, list(self.headers.items()), body)
                )
                reply = bus.reply
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the proxy gave up waiting (a timeout test): nobody to answer

            do_GET = do_POST = do_PUT = _handle

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True
        )

    def __enter__(self) -> "ScriptedBus":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-request (a killed proxy, a timeout) is expected here."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]
