"""The backends of bench/hosts.py: the legacy bus and the modern PNC service, each as cheap as an
HTTP/1.1 server can be, so the proxy under test gets as much of the machine as possible.

    python bench/_hosts/backend.py soap --size 2 --port 8000    # the bus: 2, 20 or 200 KB answers
    python bench/_hosts/backend.py json --port 9000             # GET /vehicles/... -> JSON

A raw asyncio protocol on uvloop: it reads a request's head, skips its body (Content-Length or
chunked) and writes one precomputed answer, keeping the connection open. No routing and no
parsing of the body: every request gets the same answer. It runs as its own process.

It counts the requests it answered; `GET /__bench/count` (not counted) says how many, so the
bench knows how many requests a proxy handled, including those wrk gave up on when its time ran
out but the proxy still forwarded (and recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _hosts.envelopes import CONTENT_TYPE, answer, modern_reply  # noqa: E402


def http_answer(body: bytes, content_type: str) -> bytes:
    """A whole HTTP/1.1 200 answer, headers and body, as the backend writes it."""
    head = (f"HTTP/1.1 200 OK\r\nServer: bench-backend\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode("ascii") + body


COUNT_PATH = "/__bench/count"
_answered = 0


class _Framing(Exception):
    """The request cannot be framed: answer 400 and close."""


class FixedAnswer(asyncio.Protocol):
    """One connection: each complete request read gets `reply`; pipelined requests in order."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            while self._one_request():
                pass
        except _Framing:
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()

    def _one_request(self) -> bool:
        """Answer the first request in the buffer if it is complete; False if it is not yet."""
        global _answered
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > 65536:
                raise _Framing
            return False
        head = bytes(self.buffer[:end]).lower()
        start = end + 4
        close = b"\r\nconnection: close" in head
        if b"\r\ntransfer-encoding: chunked" in head:
            consumed = self._chunked_end(start)
            if consumed < 0:
                return False
        else:
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = head.find(b"\r\n", at + 2)
                try:
                    length = int(head[at + 17: line_end if line_end >= 0 else len(head)])
                except ValueError:
                    raise _Framing from None
            consumed = start + length
            if len(self.buffer) < consumed:
                return False
        del self.buffer[:consumed]
        assert self.transport is not None
        if head.startswith(b"get " + COUNT_PATH.encode() + b" "):
            count = str(_answered).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                                 + str(len(count)).encode() + b"\r\n\r\n" + count)
            return True
        _answered += 1
        self.transport.write(self.reply)
        if close:
            self.transport.close()
            return False
        return True

    def _chunked_end(self, at: int) -> int:
        """Where a chunked body that starts at `at` ends (after its last CRLF), or -1."""
        while True:
            line_end = self.buffer.find(b"\r\n", at)
            if line_end < 0:
                return -1
            try:
                size = int(bytes(self.buffer[at:line_end]).split(b";")[0], 16)
            except ValueError:
                raise _Framing from None
            at = line_end + 2
            if size == 0:  # trailers, if any, then an empty line
                while True:
                    line_end = self.buffer.find(b"\r\n", at)
                    if line_end < 0:
                        return -1
                    if line_end == at:
                        return at + 2
                    at = line_end + 2
            at += size + 2
            if len(self.buffer) < at:
                return -1


async def serve(reply: bytes, port: int) -> None:
    """Answer every request on 127.0.0.1:`port` with `reply`, until the process is stopped."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: FixedAnswer(reply), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["soap", "json"])
    parser.add_argument("--size", type=int, default=2, help="KB of the SOAP answer")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.kind == "soap":
        reply = http_answer(answer(args.size), CONTENT_TYPE)
    else:
        reply = http_answer(modern_reply(), "application/json")
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    try:
        runner(serve(reply, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
