"""The HTTP/1.1 client transport against real loopback servers that answer exactly the bytes a
test scripts: framing by RFC 9112 (length, chunked with trailers, to the end of the connection),
interim answers, keep-alive reuse, answers over a bound, and the error kinds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from turnout.soap import HttpResponse
from turnout.transport import H1Transport, Outbound, Streamed, Timeouts, TransportError

TIMEOUTS = Timeouts(total=2.0, connect=1.0)


class Scripted:
    """A server answering each request head with `answer(request_bytes)`; counts connections."""

    def __init__(self, answer: Callable[[bytes], bytes], close_after: bool = False) -> None:
        self.answer, self.close_after = answer, close_after
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                writer.write(self.answer(request))
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def exchange(answer: Callable[[bytes], bytes], times: int = 1, close_after: bool = False,
             **kwargs: object) -> tuple[list[HttpResponse | Streamed | TransportError], Scripted]:
    server = Scripted(answer, close_after)

    async def run() -> list[HttpResponse | Streamed | TransportError]:
        transport = H1Transport()
        results: list[HttpResponse | Streamed | TransportError] = []
        async with server as url:
            for _ in range(times):
                outbound = Outbound("POST", url + "/pnc?wsdl=1", [("Content-Type", "text/xml")], b"<x/>")
                try:
                    result = await transport.send(outbound, timeouts=TIMEOUTS, **kwargs)  # type: ignore[arg-type]
                    if isinstance(result, Streamed):
                        result.head.body = b"".join([chunk async for chunk in result.chunks()])
                        result.release()
                    results.append(result)
                except TransportError as error:
                    results.append(error)
            await transport.close()
        return results

    return asyncio.run(run()), server


def fixed(raw: bytes) -> Callable[[bytes], bytes]:
    return lambda request: raw


def test_a_length_framed_answer_is_read_whole_and_the_connection_reused() -> None:
    results, server = exchange(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"), times=3)
    assert [r.body for r in results] == [b"hello"] * 3  # type: ignore[union-attr]
    assert results[0].headers == [("Content-Length", "5"), ("X-A", "1")]  # type: ignore[union-attr]
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /pnc?wsdl=1 HTTP/1.1\r\nContent-Type: text/xml\r\n")
    assert b"Content-Length: 4\r\n" in server.requests[0] and server.requests[0].endswith(b"\r\n\r\n<x/>")


def test_a_chunked_answer_with_trailers_is_joined_and_the_trailers_dropped() -> None:
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Checksum: 1\r\n\r\n")
    results, server = exchange(fixed(raw), times=2)
    assert [r.body for r in results] == [b"abcdefg"] * 2  # type: ignore[union-attr]
    assert server.connections == 1


def test_an_interim_answer_is_skipped() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    results, _ = exchange(fixed(raw))
    assert results[0].status == 200 and results[0].body == b"ok"  # type: ignore[union-attr]


def test_an_answer_without_length_ends_with_the_connection() -> None:
    results, _ = exchange(fixed(b"HTTP/1.0 200 OK\r\n\r\nto the end"), times=2, close_after=True)
    assert [r.body for r in results] == [b"to the end"] * 2  # type: ignore[union-attr]


def test_a_connection_the_peer_says_it_closes_is_never_reused() -> None:
    """The peer keeps the socket open but said `Connection: close`: a second request on it
    could be lost, so the next request gets a new connection."""
    raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    results, server = exchange(fixed(raw), times=2)
    assert [r.body for r in results] == [b"ok"] * 2  # type: ignore[union-attr]
    assert server.connections == 2


@pytest.mark.parametrize("raw", [
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", id="two-lengths"),
    pytest.param(b"SMTP ready\r\n\r\n", id="not-http"),
    pytest.param(b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", id="folded-header"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", id="bad-chunk-size"),
])
def test_an_unreadable_answer_is_broken_not_guessed(raw: bytes) -> None:
    results, _ = exchange(fixed(raw), close_after=True)
    assert isinstance(results[0], TransportError) and results[0].kind == "broken" and results[0].sent


def test_an_answer_over_the_bound_streams_when_asked_and_is_refused_otherwise() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    streamed, _ = exchange(fixed(raw), max_body=4, stream_over=True)
    assert isinstance(streamed[0], Streamed) and streamed[0].head.body == b"0123456789"
    refused, _ = exchange(fixed(raw), max_body=4)
    assert isinstance(refused[0], TransportError) and refused[0].kind == "too-large"


def test_a_refused_connection_was_certainly_not_sent() -> None:
    async def run() -> TransportError:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        try:
            await H1Transport().send(Outbound("POST", f"http://127.0.0.1:{port}/", [], b""), timeouts=TIMEOUTS)
        except TransportError as error:
            return error
        raise AssertionError("sent to a closed port")

    error = asyncio.run(run())
    assert error.kind == "connect" and error.sent is False


def test_a_peer_that_never_answers_times_out_as_possibly_acted_on() -> None:
    results, _ = exchange(lambda request: b"")
    assert isinstance(results[0], TransportError) and results[0].kind == "timeout" and results[0].sent
