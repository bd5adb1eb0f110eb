"""The fast host's request reader on its own: what it frames, and what it refuses as smuggling.

The black-box suites send these through both hosts; here each rule of
turnout/proxy/_fast_request.py is shown on its own, with the head exactly as written.
"""

from __future__ import annotations

import pytest

from turnout.proxy._fast_request import BadRequest, ChunkedBody, parse_head


def head(*lines: str) -> bytes:
    return "\r\n".join(lines).encode("latin-1")


def test_a_plain_head_keeps_its_target_raw_and_its_headers_in_order() -> None:
    read = parse_head(head("POST /%63ris//./x?wsdl HTTP/1.1", "Host: bus", "X-A: 1", "x-a: 2", "Content-Length: 5"))
    assert (read.method, read.target, read.version, read.length) == ("POST", "/%63ris//./x?wsdl", "HTTP/1.1", 5)
    assert read.headers == [("Host", "bus"), ("X-A", "1"), ("x-a", "2"), ("Content-Length", "5")]
    assert read.keep_alive


@pytest.mark.parametrize(("version", "connection", "keep"), [
    ("HTTP/1.1", None, True), ("HTTP/1.1", "close", False), ("HTTP/1.0", None, False),
    ("HTTP/1.0", "keep-alive", True), ("HTTP/1.1", "Keep-Alive, Close", False),
])
def test_keep_alive_follows_the_version_and_the_connection_header(version: str, connection: str | None,
                                                                   keep: bool) -> None:
    lines = [f"GET / {version}"] + ([f"Connection: {connection}"] if connection else [])
    assert parse_head(head(*lines)).keep_alive is keep


def test_absolute_form_is_read_as_its_path_and_expect_is_answered_not_forwarded() -> None:
    read = parse_head(head("POST http://bus:8000//cris?x HTTP/1.1", "Expect: 100-continue", "Content-Length: 1"))
    assert read.target == "//cris?x" and read.expect_continue
    assert all(name.lower() != "expect" for name, _ in read.headers)
    # anything else that is no path reaches the gateway as written, which refuses it (request.target)
    assert parse_head(head("POST ftp://bus/x HTTP/1.1")).target == "ftp://bus/x"


@pytest.mark.parametrize("lines", [
    ("POST / HTTP/1.1", "Content-Length: 5", "Transfer-Encoding: chunked"),
    ("POST / HTTP/1.1", "Content-Length: 5", "Content-Length: 6"),
    ("POST / HTTP/1.1", "Content-Length: 5", "Content-Length: 5"),
    ("POST / HTTP/1.1", "Content-Length: +5"),
    ("POST / HTTP/1.1", "Content-Length: 5, 5"),
    ("POST / HTTP/1.1", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
    ("POST / HTTP/1.1", "Transfer-Encoding: gzip"),
    ("POST / HTTP/1.1", "Transfer-Encoding: chunked, identity"),
    ("POST / HTTP/1.0", "Transfer-Encoding: chunked"),
    ("POST / HTTP/1.1", "Content-Length : 5"),
    ("POST / HTTP/1.1", "X-A: 1", " folded"),
    ("POST / HTTP/1.1", "no colon"),
    ("POST /  HTTP/1.1 extra",),
    ("POST / HTTP/9",),
    ("CONNECT bus:443 HTTP/1.1",),
], ids=["cl-and-te", "two-lengths", "repeated-length", "signed-length", "length-list", "two-te",
        "te-not-chunked", "te-chunked-not-last", "te-in-http10", "space-before-colon", "obs-fold",
        "no-colon", "four-fields", "bad-version", "connect"])
def test_a_head_whose_framing_cannot_be_trusted_is_refused(lines: tuple[str, ...]) -> None:
    with pytest.raises(BadRequest):
        parse_head(head(*lines))


def test_a_chunked_body_arriving_in_pieces_is_decoded_and_its_trailers_dropped() -> None:
    wire = b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\n\r\nNEXT"
    body, buf = ChunkedBody(), bytearray()
    for byte in wire:
        buf.append(byte)
        body.feed(buf)
        if body.done:
            break
    buf += wire[len(wire) - 4:]
    assert body.done and bytes(body.body) == b"abcde" and body.dropped_trailers
    assert bytes(buf) == b"NEXT"  # the next request's bytes are left where they were


@pytest.mark.parametrize("wire", [b"3\r\nabcX\r\n", b"zz\r\n", b"3 3\r\nabc\r\n", b"1" * 17 + b"\r\n"],
                         ids=["no-crlf-after-data", "not-hex", "two-sizes", "size-too-long"])
def test_a_chunked_body_that_does_not_frame_is_refused(wire: bytes) -> None:
    with pytest.raises(BadRequest):
        ChunkedBody().feed(bytearray(wire))
