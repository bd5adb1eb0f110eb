"""The only place mitmproxy flows become Turnout's plain HTTP values and back."""

from __future__ import annotations

import time

from mitmproxy import http
from mitmproxy.net.http import status_codes

from ..gateway import client_response
from ..soap import Fault, HttpRequest, HttpResponse, SoapVersion
from ._inspect import ProxyAnswer, fault_answer


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


def answer(reply: ProxyAnswer, request_method: str = "POST") -> http.Response:
    """A response the proxy makes itself (a Fault or a translated envelope)."""
    reason = status_codes.RESPONSES.get(reply.status, "")
    headers = [("Content-Type", reply.content_type)]
    return to_mitmproxy(HttpResponse(reply.status, headers, reply.body, reason), request_method)


def fault_response(version: SoapVersion, fault: Fault) -> http.Response:
    """`fault` as the proxy's own answer, in the caller's SOAP version."""
    return answer(fault_answer(version, fault))
