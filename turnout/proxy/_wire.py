"""Response heads as bytes on the wire (HTTP/1.1), for answers a host writes to a socket itself:
the fast host's every answer, and both hosts' answers too large to hold, passed on as they come."""

from __future__ import annotations

from http import HTTPStatus

from ..gateway import client_response
from ..soap import HttpResponse


def reason_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def head_of(response: HttpResponse, connection: str | None = None) -> bytes:
    """Status line and headers of `response` (already framed), with `Connection: <connection>`
    when given, ending with the blank line."""
    lines = [f"HTTP/1.1 {response.status} {response.reason or reason_of(response.status)}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    if connection is not None:
        lines.append(f"Connection: {connection}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def streamed_head(head: HttpResponse) -> bytes:
    """Status line and headers by the one framing rule (`turnout.gateway.client_response`) for
    an answer sent without its body here: the bus's end-to-end headers and its Content-Length
    when it gave one (else the body ends when the connection closes, which every HTTP version
    understands)."""
    framed = client_response(HttpResponse(head.status, head.headers, b"", head.reason), "HEAD")
    return head_of(HttpResponse(framed.status, framed.headers, b"", framed.reason or "OK"), "close")
