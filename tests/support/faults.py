"""A neighbour that fails on purpose: an HTTP server on loopback that can misbehave in every way
the legacy bus or a modern JSON service can, over real sockets.

    with FaultServer(Fault.ok(b"<ok/>")) as bus:          # a healthy neighbour
        bus.fault = Fault.hang()                          # from now on: read, never answer
        ...
        assert bus.count == 3                             # requests it read in full

Faults (each is what the *next* request read gets; change `fault` at any time):

| fault | on the wire |
|---|---|
| `Fault.ok(body)` / `Fault.error(503, body)` | a well-formed HTTP/1.1 answer, keep-alive |
| `Fault.refuse()` | nothing listens on the port (the listener is closed): connection refused |
| `Fault.hang()` | the request is read in full, and nothing is ever answered |
| `Fault.slow(seconds, body)` | a well-formed answer, after `seconds` |
| `Fault.stall()` | status line, headers and half the body, then nothing more |
| `Fault.reset(after)` | the first `after` bytes of the answer (default: headers and half the body), then a TCP RST (SO_LINGER 0) |
| `Fault.garbage()` | bytes that are not HTTP, then close |

The server runs in threads of the calling process (one per connection), so a test's file
descriptor and thread counts include it: every connection is closed as soon as its peer goes
away, even one it is hanging on.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

XML = "text/xml; charset=utf-8"
JSON = "application/json"
GARBAGE = b"\x00\x17\xfe\xffSSH-2.0-not-http\r\n\x00\x00\x00\x00garbage garbage\r\n\r\n"


@dataclass(frozen=True)
class Fault:
    kind: str = "ok"  # ok | refuse | hang | slow | stall | reset | garbage
    status: int = 200
    body: bytes = b"<ok/>"
    content_type: str = XML
    delay: float = 0.0
    #: reset: bytes of the answer sent before the RST (None: the headers and half the body)
    after: int | None = None

    @classmethod
    def ok(cls, body: bytes = b"<ok/>", content_type: str = XML) -> "Fault":
        return cls("ok", 200, body, content_type)

    @classmethod
    def error(cls, status: int = 503, body: bytes = b"<unavailable/>", content_type: str = XML) -> "Fault":
        return cls("ok", status, body, content_type)

    @classmethod
    def refuse(cls) -> "Fault":
        return cls("refuse")

    @classmethod
    def hang(cls) -> "Fault":
        return cls("hang")

    @classmethod
    def slow(cls, delay: float, body: bytes = b"<ok/>", content_type: str = XML) -> "Fault":
        return cls("slow", 200, body, content_type, delay)

    @classmethod
    def stall(cls, body: bytes = b"<stalled>" + b"x" * 200 + b"</stalled>") -> "Fault":
        return cls("stall", 200, body)

    @classmethod
    def reset(cls, after: int | None = None, body: bytes = b"<reset>" + b"x" * 200 + b"</reset>") -> "Fault":
        return cls("reset", 200, body, XML, after=after)

    @classmethod
    def garbage(cls) -> "Fault":
        return cls("garbage")

    def like(self, **changes: object) -> "Fault":
        return replace(self, **changes)  # type: ignore[arg-type]

    def answer(self) -> bytes:
        """The full HTTP/1.1 answer this fault starts to send (or sends)."""
        reason = {200: "OK", 201: "Created"}.get(self.status, "Error")
        head = (
            f"HTTP/1.1 {self.status} {reason}\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {len(self.body)}\r\nServer: fault-server\r\n\r\n"
        ).encode("latin-1")
        return head + self.body

    def head_and_half(self) -> int:
        answer = self.answer()
        return len(answer) - len(self.body) + len(self.body) // 2


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed): connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FaultServer:
    """An HTTP/1.1 server on a free loopback port whose behaviour is `fault` (changeable live)."""

    def __init__(self, fault: Fault | None = None, keep: int = 1000) -> None:
        self._fault = fault or Fault.ok()
        #: the last `keep` requests read in full (bounded: a soak must not grow the test's memory)
        self.received: deque[Received] = deque(maxlen=keep)
        self._count = 0
        self.connections = 0  # accepted so far
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.port = dead_port()
        self.url = f"http://127.0.0.1:{self.port}"

    # -- control

    @property
    def fault(self) -> Fault:
        return self._fault

    @fault.setter
    def fault(self, fault: Fault) -> None:
        self._fault = fault
        if self._acceptor is None:
            return  # not started: __enter__ listens, or not, as the fault says
        if fault.kind == "refuse":
            self._close_listener()
        elif self._listener is None:
            self._listen()

    @property
    def count(self) -> int:
        """Requests read in full so far."""
        with self._lock:
            return self._count

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def __enter__(self) -> "FaultServer":
        self._acceptor = threading.Thread(target=self._accept_loop, name="fault-server", daemon=True)
        if self._fault.kind != "refuse":
            self._listen()
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._close_listener()
        if self._acceptor is not None:
            self._acceptor.join(5)
        with self._lock:
            still_open = list(self._open)
        for conn in still_open:
            _close(conn)

    # -- serving

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.05)
        with self._lock:
            self._listener = listener

    def _close_listener(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown first: close() alone leaves the port listening while the accept thread
            # still polls the socket (up to its 0.05 s timeout), and a client that connects in
            # that window is accepted, then reset: "broken", not "refused"
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(None)
            with self._lock:
                self.connections += 1
                self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="fault-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = _Reader(conn, self._stop)
        try:
            while not self._stop.is_set():
                request = reader.request()
                if request is None:
                    return  # the peer closed, or we are stopping
                with self._lock:
                    self.received.append(request)
                    self._count += 1
                fault = self._fault
                if not self._act(conn, reader, fault):
                    return
                if request.headers.get("connection", "").lower() == "close":
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(conn)
            _close(conn)

    def _act(self, conn: socket.socket, reader: "_Reader", fault: Fault) -> bool:
        """Answer (or not) one request; False when the connection is done with."""
        kind = fault.kind
        if kind == "hang":
            reader.wait_for_close(None)
            return False
        if kind == "slow":
            if reader.wait_for_close(fault.delay):
                return False
            conn.sendall(fault.answer())
            return True
        if kind == "stall":
            conn.sendall(fault.answer()[: fault.head_and_half()])
            reader.wait_for_close(None)
            return False
        if kind == "reset":
            after = fault.head_and_half() if fault.after is None else fault.after
            if after:
                conn.sendall(fault.answer()[:after])
                time.sleep(0.05)  # let those bytes reach the peer before the RST overtakes them
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False  # closing now sends RST
        if kind == "garbage":
            conn.sendall(GARBAGE)
            return False
        conn.sendall(fault.answer())  # ok, status; "refuse" caught in flight: answer normally
        return True


class _Reader:
    """Reads HTTP/1.1 requests (Content-Length or chunked bodies) from one connection."""

    def __init__(self, conn: socket.socket, stop: threading.Event) -> None:
        self.conn = conn
        self.stop = stop
        self.buffer = b""

    def _more(self) -> bool:
        while not self.stop.is_set():
            ready, _, _ = select.select([self.conn], [], [], 0.1)
            if ready:
                chunk = self.conn.recv(65536)
                if not chunk:
                    return False
                self.buffer += chunk
                return True
        return False

    def _until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if not self._more():
                return None
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _exactly(self, n: int) -> bytes | None:
        while len(self.buffer) < n:
            if not self._more():
                return None
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def request(self) -> Received | None:
        head = self._until(b"\r\n\r\n")
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line = self._until(b"\r\n")
                if size_line is None:
                    return None
                size = int(size_line.split(b";")[0], 16)
                chunk = self._exactly(size + 2)
                if chunk is None:
                    return None
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = self._exactly(int(headers.get("content-length") or 0))
            if body is None:
                return None
        return Received(method, path, headers, body)

    def wait_for_close(self, seconds: float | None) -> bool:
        """Wait `seconds` (None: for ever) or until the peer closes; True if it closed."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self.stop.is_set():
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                return False
            ready, _, _ = select.select([self.conn], [], [], left)
            if ready:
                try:
                    chunk = self.conn.recv(65536)
                except OSError:
                    return True
                if not chunk:
                    return True
                self.buffer += chunk  # a pipelined request: keep it, keep waiting
        return True


def _close(conn: socket.socket) -> None:
    try:
        conn.close()
    except OSError:
        pass
