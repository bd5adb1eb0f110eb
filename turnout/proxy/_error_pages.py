"""mitmproxy's own error pages, as SOAP Faults.

When mitmproxy refuses a request before any addon hook can answer it (a body over
`body_size_limit`, a request it cannot parse), it writes an HTML error page straight to the
client, and offers no hook to replace it. Our callers are SOAP clients: they need a Fault. So
we replace the one function that renders those pages. It is private API of the pinned mitmproxy
11.x; `tests/test_proxy_limits.py` fails loudly if an upgrade moves it.
"""

from __future__ import annotations

from mitmproxy import http
from mitmproxy.net.http import http1, status_codes
from mitmproxy.proxy.layers.http import _http1

from ..soap import SOAP11, Fault, build_fault

_original = _http1.make_error_response
_limit_bytes: int | None = None


def soap_error_response(status_code: int, message: str = "") -> bytes:
    """Render mitmproxy's error `status_code` as a SOAP 1.1 Fault (HTTP 500 for 413/502/504)."""
    if status_code == 413:
        limit = f" of {_limit_bytes} bytes" if _limit_bytes else ""
        fault = Fault(f"Request refused by the proxy: body is over the limit{limit}", True, "threat.too-large")
    else:
        fault = Fault(
            f"Request refused by the proxy: {message or status_codes.RESPONSES.get(status_code, '')}",
            status_code < 500,
            f"proxy.http-{status_code}",
        )
    status = 500 if status_code in (413, 502, 504) else status_code
    response = http.Response.make(
        status,
        build_fault(SOAP11, fault),
        {"Server": "turnout", "Connection": "close", "Content-Type": SOAP11.content_type},
    )
    return http1.assemble_response(response)


def install(limit_bytes: int) -> None:
    """Route mitmproxy's error pages through `soap_error_response`. Idempotent."""
    global _limit_bytes
    _limit_bytes = limit_bytes
    _http1.make_error_response = soap_error_response
