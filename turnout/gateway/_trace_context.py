"""W3C Trace Context (level 1) for one request: read the client's `traceparent`, or begin a trace.

The proxy is a span of its own in the client's trace: the bus and every modern-service call get
`traceparent: 00-<trace id>-<the proxy's span id>-<flags>` and `X-Request-Id: <request id>`,
in place of whatever the client sent (the proxy is now their parent). `tracestate` is the
client's, passed on unchanged. A `traceparent` that is not valid (a version of ff, ids of the
wrong length, upper-case or non-hex digits, all-zero ids, a version 00 header with anything
after the flags) is dropped and a new trace begun: it never reaches the bus.

Only strings here: per request the cost is two random ids and one format, no OpenTelemetry
object (those are made after the request, and only when spans are exported: `_spans`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping

#: version-trace_id-parent_id-flags, lower-case hex; a later version may add fields after "-"
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.DOTALL)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16

REQUEST_ID_HEADER = "X-Request-Id"
#: the headers the proxy sets on the bus request, replacing the client's (lower-case)
REPLACED = frozenset({"x-request-id", "traceparent"})

_bits = random.getrandbits


def new_trace_id() -> str:
    """32 random lower-case hex digits, never all zero."""
    while True:
        value = _bits(128)
        if value:
            return f"{value:032x}"


def new_span_id() -> str:
    """16 random lower-case hex digits, never all zero."""
    while True:
        value = _bits(64)
        if value:
            return f"{value:016x}"


def parse_traceparent(value: str | None) -> tuple[str, str, str] | None:
    """(trace id, parent span id, flags) of a valid `traceparent`, else None."""
    if not value:
        return None
    found = _TRACEPARENT.fullmatch(value.strip())
    if found is None:
        return None
    version, trace_id, parent_id, flags, rest = found.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return trace_id, parent_id, flags


def is_sampled(flags: str) -> bool:
    """Whether the `sampled` bit of a two-digit flags field is set."""
    return bool(int(flags, 16) & 1) if flags else False


def traceparent(trace_id: str, span_id: str, flags: str) -> str:
    return f"00-{trace_id}-{span_id}-{flags}"


def outbound(request_id: str, trace_id: str, span_id: str, flags: str,
             headers: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """The headers a call made on this request's behalf carries, with `span_id` its parent.
    With `headers` (the client's, keyed by `headers_dict`), its `tracestate` too."""
    ids = ((REQUEST_ID_HEADER, request_id), ("traceparent", traceparent(trace_id, span_id, flags)))
    state = headers.get("tracestate") if headers is not None else None
    return (*ids, ("tracestate", state)) if state else ids
