"""`turnout mock legacy|services` as a real process on a free loopback port, and a relay that
speaks the golden recordings' pseudonyms for a client that speaks the demo's real values.

The relay exists because the committed golden recordings are pseudonymised with the demo's key
(turnout/demo/turnout.yaml `recordings.redaction`): the scenario sends "Thistlewood", the
recordings hold its keyed pseudonym. The mock never holds the key; the relay, standing where a
test harness holds it, pseudonymises each request body with the same rules and key before the
mock sees it, so the mock answers in the recordings' own vocabulary (docs/mock.md). An MTOM or
SwA request (multipart/related) has its root part, the envelope, pseudonymised and its other
parts (the attachments) passed on as they came.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from turnout.config import load_proxy_config
from turnout.recording import Redactor, redactor_from_config
from turnout.soap import is_multipart_related, split_related

from .proxy_process import TURNOUT, free_port

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "recordings"
DEMO_CONFIG = ROOT / "turnout" / "demo" / "turnout.yaml"
DEMO_WSDL = ROOT / "turnout" / "demo" / "wsdl"


class MockProcess:
    """`turnout mock KIND DIRECTORY --port P ...` in a subprocess; its output in `log`."""

    def __init__(self, kind: str, directory: Path, extra: list[str] | None = None,
                 log_dir: Path | None = None) -> None:
        self.kind = kind
        self.port = free_port()
        self.args = [*TURNOUT, "mock", kind, str(directory), "--port", str(self.port), *(extra or [])]
        self.log_path = (log_dir or Path("/tmp")) / f"mock-{kind}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> MockProcess:
        out = self.log_path.open("wb")
        self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mock exited {self.process.returncode}:\n{self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"mock did not listen within 30 s:\n{self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def mock_legacy(directory: Path = GOLDEN, *extra: str, log_dir: Path | None = None) -> MockProcess:
    """The virtual bus over `directory` with the demo's WSDLs, compare rules and writes."""
    return MockProcess("legacy", directory, ["--wsdl", str(DEMO_WSDL), "--config", str(DEMO_CONFIG),
                                             *extra], log_dir)


def demo_redactor() -> Redactor:
    """The demo's redaction rules with its (public, demo-only) key: what the golden set used."""
    return redactor_from_config(load_proxy_config(DEMO_CONFIG).redaction)


def pseudonymised(body: bytes, content_type: str | None, redactor: Redactor) -> bytes:
    """`body` with `redactor`'s rules applied: to the envelope, or to a multipart/related
    body's root part (the envelope), its other parts and the MIME framing kept byte for byte."""
    if content_type is None or not is_multipart_related(content_type):
        return redactor.redact_body(body)
    root = split_related(body, content_type).root
    if root.raw != root.content or body.count(root.raw) != 1:  # encoded, or not one place
        raise ValueError("the relay pseudonymises only a root part sent as it is (8bit/binary)")
    return body.replace(root.raw, redactor.redact_body(root.content))


class PseudonymisingRelay:
    """An HTTP relay to `target` that pseudonymises POSTed SOAP bodies with `redactor`."""

    def __init__(self, target: str, redactor: Redactor) -> None:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if body:
                    body = pseudonymised(body, self.headers.get("Content-Type"), redactor)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("content-length", "connection")}
                request = urllib.request.Request(f"{target}{self.path}", data=body or None,
                                                 headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, reply, kind = answer.status, answer.read(), answer.headers
                except urllib.error.HTTPError as error:
                    status, reply, kind = error.code, error.read(), error.headers
                self.send_response(status)
                self.send_header("Content-Type", kind.get("Content-Type", "text/xml"))
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._relay = relay

    def __enter__(self) -> PseudonymisingRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
