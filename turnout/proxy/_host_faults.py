"""The Faults a host answers by itself, before (or instead of) the gateway: one wording for both.

Some requests never reach the gateway: a head too large to read, framing that cannot be trusted,
a body over the limit, a body that never finishes, plain HTTP on a TLS port. mitmproxy would
answer those with an HTML page and a fast host with nothing; our callers are SOAP clients, so
each is a SOAP Fault with a stable `kind`, written here once for the mitmproxy host (through
`_error_pages`) and the fast host alike. HTTP 413, 502 and 504 become 500 (a SOAP Fault's status),
as the gateway's own Faults are.
"""

from __future__ import annotations

from http import HTTPStatus

from ..soap import SOAP11, Fault, HttpResponse, SoapVersion, build_fault

#: request line plus headers, in bytes; nginx allows 32 KiB by default, Python's http.server 64 KiB
#: a line. SOAP carries its bulk in the body, so this is generous.
MAX_HEADER_BYTES = 64 * 1024


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def host_fault(version: SoapVersion, status: int, fault: Fault, close: bool = True) -> HttpResponse:
    """`fault` as a whole answer (`Server: turnout`, one Content-Length, `Connection: close`)."""
    body = build_fault(version, fault)
    headers = [("Server", "turnout")]
    if close:
        headers.append(("Connection", "close"))
    headers += [("Content-Type", version.content_type), ("Content-Length", str(len(body)))]
    return HttpResponse(status, headers, body, _reason(status))


def refusal(status_code: int, message: str = "", limit_bytes: int | None = None,
            version: SoapVersion = SOAP11) -> HttpResponse:
    """A request the host refuses with HTTP `status_code` (413: the body is over the limit,
    431: the head is; 400: it cannot be read or framed), as a Fault of `version`."""
    if status_code == 413:
        limit = f" of {limit_bytes} bytes" if limit_bytes else ""
        fault = Fault(f"Request refused by the proxy: body is over the limit{limit}", True, "threat.too-large")
    else:
        fault = Fault(f"Request refused by the proxy: {message or _reason(status_code)}",
                      status_code < 500, f"proxy.http-{status_code}")
    status = 500 if status_code in (413, 502, 504) else status_code
    return host_fault(version, status, fault)


def body_timeout(version: SoapVersion, seconds: float) -> HttpResponse:
    """The answer to a client whose body did not arrive within `timeouts.client_body`."""
    fault = Fault(f"Request refused by the proxy: the body did not arrive within {seconds:g} s",
                  sender=True, kind="client.body-timeout")
    return host_fault(version, 500, fault)


def plain_http_refused() -> HttpResponse:
    """The one answer plain HTTP gets on a port that listens with TLS only."""
    fault = Fault("Request refused by the proxy: it accepts HTTPS only (TLS); plain HTTP is refused: "
                  "use https://", True, "tls.required")
    return host_fault(SOAP11, 400, fault)

