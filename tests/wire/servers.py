"""Small real HTTP servers for wire tests: a bus that frames its answers its own way, and a
bus that compresses. Both remember what they received."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WireBus:
    """Answers every request with `body`, framed `chunked` or with a length, adding the hop-by-hop
    headers a real server sends, and gzip-compressing when `compress` and the client accepts it."""

    body: bytes = b"<ok/>"
    chunked: bool = True
    compress: bool = False
    content_type: str = "text/xml; charset=utf-8"
    received: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        bus = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bus.received.append(Seen(self.command, self.path, dict(self.headers.items()), body))
                payload = bus.body
                self.send_response(200)
                self.send_header("Content-Type", bus.content_type)
                if bus.compress and "gzip" in self.headers.get("Accept-Encoding", ""):
                    payload = gzip.compress(payload)
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Keep-Alive", "timeout=5, max=100")
                self.send_header("Connection", "keep-alive, X-Bus-Hop")
                self.send_header("X-Bus-Hop", "for-the-next-hop-only")
                self.send_header("X-End-To-End", "kept")
                if bus.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if self.command != "HEAD":
                        half = len(payload) // 2
                        for part in (payload[:half], payload[half:]):
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "WireBus":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
