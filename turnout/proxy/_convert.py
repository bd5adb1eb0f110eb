"""The only place mitmproxy flows become Turnout's plain HTTP values and back."""

from __future__ import annotations

import time

from mitmproxy import http
from mitmproxy.net.http import status_codes

from ..soap import HttpRequest, HttpResponse


def request_of(flow: http.HTTPFlow) -> HttpRequest:
    req = flow.request
    return HttpRequest(
        method=req.method,
        path=req.path,
        headers=[(k, v) for k, v in req.headers.items(multi=True)],
        body=req.raw_content or b"",
    )


def response_of(flow: http.HTTPFlow) -> HttpResponse | None:
    resp = flow.response
    if resp is None:
        return None
    return HttpResponse(
        status=resp.status_code,
        headers=[(k, v) for k, v in resp.headers.items(multi=True)],
        body=resp.raw_content or b"",
        reason=resp.reason,
    )


def to_mitmproxy(response: HttpResponse) -> http.Response:
    """A mitmproxy response carrying exactly these headers and body bytes (no re-encoding)."""
    fields = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if not any(k.lower() == b"content-length" for k, _ in fields):
        fields.append((b"Content-Length", str(len(response.body)).encode()))
    now = time.time()
    return http.Response(
        http_version=b"HTTP/1.1",
        status_code=response.status,
        reason=response.reason.encode("latin-1", "replace") if response.reason else b"",
        headers=http.Headers(fields),
        content=response.body,
        trailers=None,
        timestamp_start=now,
        timestamp_end=now,
    )


def answer(status: int, content_type: str, body: bytes) -> http.Response:
    """A response the proxy makes itself (a Fault)."""
    reason = status_codes.RESPONSES.get(status, "")
    return to_mitmproxy(HttpResponse(status, [("Content-Type", content_type)], body, reason))
