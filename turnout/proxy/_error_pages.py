"""mitmproxy's own error pages, as SOAP Faults.

When mitmproxy refuses a request before any addon hook can answer it (a body over
`body_size_limit`, a request it cannot parse), it writes an HTML error page straight to the
client, and offers no hook to replace it. Our callers are SOAP clients: they need a Fault. So
we replace the one function that renders those pages. It is private API of the pinned mitmproxy
11.x; `tests/test_proxy_limits.py` fails loudly if an upgrade moves it.
"""

from __future__ import annotations

from mitmproxy.proxy.layers.http import _http1

from ._host_faults import refusal
from ._wire import head_of

_original = _http1.make_error_response
_limit_bytes: int | None = None


def soap_error_response(status_code: int, message: str = "") -> bytes:
    """Render mitmproxy's error `status_code` as a SOAP 1.1 Fault (HTTP 500 for 413/502/504),
    worded as the fast host words it (`_host_faults.refusal`)."""
    response = refusal(status_code, message, _limit_bytes)
    return head_of(response) + response.body


def install(limit_bytes: int) -> None:
    """Route mitmproxy's error pages through `soap_error_response`. Idempotent."""
    global _limit_bytes
    _limit_bytes = limit_bytes
    _http1.make_error_response = soap_error_response
