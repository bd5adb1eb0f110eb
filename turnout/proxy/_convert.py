"""The only place mitmproxy flows become Turnout's plain HTTP values and back."""

from __future__ import annotations

import time

from mitmproxy import http

from ..gateway import client_response
from ..soap import HttpRequest, HttpResponse


def request_of(flow: http.HTTPFlow) -> HttpRequest:
    req = flow.request
    return HttpRequest(
        method=req.method,
        path=req.path,
        headers=[(k, v) for k, v in req.headers.items(multi=True)],
        body=req.raw_content or b"",
    )


def to_mitmproxy(response: HttpResponse, request_method: str = "POST") -> http.Response:
    """A mitmproxy response with the end-to-end headers and body bytes of `response` (no
    re-encoding) and one framing, by `turnout.gateway.client_response`'s rule."""
    response = client_response(response, request_method)
    fields = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
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
