"""One rule for the headers and framing of every answer the proxy sends: bus, translator, Fault.

The bus's body bytes are the client's, unchanged; its framing is not. Hop-by-hop headers
(RFC 9110 section 7.6.1, and any the bus's `Connection` names) belong to the bus's connection,
not the client's, so they are dropped: a `Transfer-Encoding: chunked` copied beside our own
`Content-Length` makes node-soap (and any strict client) refuse the answer, and a chunked
answer means nothing to an HTTP/1.0 client. The answer carries exactly one framing, a
`Content-Length` of the bytes we send, which every HTTP version understands; the host adds
its own connection management. A HEAD answer keeps the bus's `Content-Length` (the size a GET
would have had) and carries no body.
"""

from __future__ import annotations

from ..soap import HttpResponse, end_to_end

#: dropped besides the hop-by-hop headers: the answer gets a Content-Length of its own
_REFRAMED = frozenset({"content-length"})


def client_response(response: HttpResponse, request_method: str = "POST") -> HttpResponse:
    """`response` as it may go to the client: end-to-end headers in their order, one framing."""
    headers = end_to_end(response.headers, _REFRAMED)
    if request_method.upper() == "HEAD":
        length = response.header("content-length")
        if length is not None and length.strip().isdigit():
            headers.append(("Content-Length", length.strip()))
        return HttpResponse(response.status, headers, b"", response.reason)
    if response.status in (204, 304) or 100 <= response.status < 200:
        return HttpResponse(response.status, headers, b"", response.reason)
    headers.append(("Content-Length", str(len(response.body))))
    return HttpResponse(response.status, headers, response.body, response.reason)
