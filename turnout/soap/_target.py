"""The request target, normalised once: what the bus will execute, spelled one way.

Routing must key on the path the bus executes, not the bytes the client wrote. `/%63ris`,
`/./cris`, `/pnc/../cris` and `//cris` all reach the bus's `/cris` (its HTTP stack, or ours on
the way, normalises them), and a case-insensitive bus (IIS) runs `/CRIS` as `/cris` too. So the
path is normalised here, once, and that one value names the operation, keys the recording and is
what the forwarder sends. Spellings whose meaning differs between servers (an encoded `/` or
`\\`, a backslash, `;` path parameters, control characters) have no one meaning, so they are
refused rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from ._errors import SoapError

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")

#: a path that is its own normal form: `/`-separated segments of unreserved characters, none of
#: them empty, `.` or `..`, with or without a trailing `/` (`/`, `/pnc`, `/merlin/Service/`).
#: Nothing in it is decoded, refused, collapsed or quoted, so it is taken as it is.
_PLAIN_PATH = re.compile(r"(?:/(?!\.\.?(?:/|\Z))[A-Za-z0-9._~-]+)*/?")

#: what stays unescaped when a normalised path is written back (RFC 3986 pchar minus `;`, `%`)
_PATH_SAFE = "/-._~!$&'()*+,=:@"


class BadTarget(SoapError):
    """A request target Turnout does not serve: answered with HTTP 400, never forwarded."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Target:
    """A normalised request target: `path` (percent-encoded, as sent on) and the raw query."""

    path: str
    query: str = ""

    @property
    def request_target(self) -> str:
        """What goes on the request line towards the bus."""
        return f"{self.path}?{self.query}" if self.query else self.path


def normalise_target(raw: str, case_insensitive: bool = False) -> Target:
    """Normalise an origin-form request target (`/cris?wsdl`) or raise `BadTarget`.

    Percent-escapes are decoded, dot segments removed (clamped at the root, as servers do),
    runs of `/` collapsed, and with `case_insensitive` the path is lower-cased. The query string
    passes unchanged: it names no operation.
    """
    if not raw.startswith("/"):
        what = "an asterisk" if raw == "*" else repr(raw[:80])
        raise BadTarget("target", f"request target {what} is not a path this proxy serves")
    raw_path, _, query = raw.partition("?")
    if _PLAIN_PATH.fullmatch(raw_path):
        return Target(raw_path.lower() if case_insensitive else raw_path, query)
    return Target(_normalise_path(raw_path, case_insensitive), query)


def _normalise_path(raw_path: str, case_insensitive: bool) -> str:
    """The path part of `normalise_target`, for a path that is not already plain."""
    if "#" in raw_path:
        raise BadTarget("target", "request target carries a fragment")
    decoded_bytes = unquote_to_bytes(raw_path)
    try:
        decoded = decoded_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise BadTarget("target", "request path is not UTF-8 once percent-decoded") from None
    if "%2f" in raw_path.lower() or "%5c" in raw_path.lower():
        raise BadTarget("target", "request path encodes a slash or backslash")
    if _ESCAPE.search(decoded):
        # A bus (or a filter in front of it) that decodes twice would read `/%2563ris` as
        # `/cris`: another path than the one we route on.
        raise BadTarget("target", "request path is percent-encoded twice")
    if "\\" in decoded:
        raise BadTarget("target", "request path carries a backslash")
    if ";" in decoded:
        raise BadTarget("target", "request path carries ';' parameters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
        raise BadTarget("target", "request path carries a control character")
    segments: list[str] = []
    for segment in decoded.split("/")[1:]:
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = decoded.endswith("/") or decoded.endswith("/.") or decoded.endswith("/..")
    path = "/" + "/".join(segments) + ("/" if trailing and segments else "")
    if case_insensitive:
        path = path.lower()
    return quote(path, safe=_PATH_SAFE)
