"""Plain HTTP values: the seam between the layers and whatever server hosts them.

Only `turnout.proxy` turns mitmproxy flows into these; everything else is tested with them alone.
Headers are an ordered list of (name, value) pairs, kept as received: order, case and duplicates
are part of what a transparent proxy must preserve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Headers = list[tuple[str, str]]


def header(headers: Headers | Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of header `name` (case-insensitive), or None."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


#: hop-by-hop headers (RFC 9110 section 7.6.1): they belong to one connection, never forwarded
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})


#: HOP_BY_HOP with each `also_drop` frozenset a caller passes (a few constants: bounded anyway)
_DROPPED: dict[frozenset[str], frozenset[str]] = {}


def end_to_end(headers: Headers, also_drop: frozenset[str] | set[str] = frozenset()) -> Headers:
    """The headers in their order without hop-by-hop ones, those the Connection header names,
    and `also_drop` (lower-case names): what a proxy or a replay may send on. Runs twice per
    proxied request, so the union with `also_drop` is made once per frozenset, and one more
    only when Connection names a header that is not dropped already."""
    named = {
        token.strip().lower()
        for name, value in headers if name.lower() == "connection"
        for token in value.split(",")
    }
    dropped = _DROPPED.get(also_drop) if isinstance(also_drop, frozenset) else None
    if dropped is None:
        dropped = HOP_BY_HOP.union(also_drop)
        if isinstance(also_drop, frozenset) and len(_DROPPED) < 16:
            _DROPPED[also_drop] = dropped
    if not named <= dropped:
        dropped = dropped | named
    return [(name, value) for name, value in headers if name.lower() not in dropped]


def headers_dict(headers: Headers) -> dict[str, str]:
    """Lower-cased names to the first value of each: for lookups, not for forwarding."""
    result: dict[str, str] = {}
    for key, value in headers:
        result.setdefault(key.lower(), value)
    return result


@dataclass
class HttpRequest:
    method: str
    path: str  # path and query string, as on the request line
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass
class HttpResponse:
    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    reason: str = ""

    def header(self, name: str) -> str | None:
        return header(self.headers, name)
