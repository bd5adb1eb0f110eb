"""Reading an HTTP/1 request off the wire for the fast host: its head, then its framing.

The fast host reads requests itself rather than through a web framework, because what it must
do with an odd request is precise and framework-specific elsewhere: the request target reaches
the gateway raw (the gateway normalises `/%63ris`, `//cris` or `/./cris` and refuses `%2f`, `\\`
and `;`, so nothing may clean it up first); a head is bounded as a whole, not per line; trailers
are dropped; and every refusal is a SOAP Fault, never a framework's page.

The rules are mitmproxy's (h11 and its smuggling checks), so both hosts frame a request alike,
and a little stricter where being lenient has let requests be smuggled past other proxies:
- the head ends at the first blank line (`\\n\\r?\\n`); blank lines before a request are skipped;
- the request line is three fields; the version `HTTP/d.d`; absolute-form (`http://host/path`)
  is read as its path, as mitmproxy's reverse mode does; CONNECT and other schemes are refused;
- a header name is a token (no space before the colon); obs-fold continuation lines are refused;
- Transfer-Encoding with Content-Length, repeated framing headers, a Content-Length that is not
  digits, a transfer coding that does not end in `chunked`, or chunked in HTTP/1.0: refused;
- no framing header: no body;
- chunk sizes are hex of at most 16 digits, each chunk ends in CRLF, trailers are read and
  dropped (RFC 9110 section 6.5.1 lets a recipient discard them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: the blank line that ends a head (h11's rule)
BLANK_LINE = re.compile(rb"\n\r?\n")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-zA-Z]+")
_VERSION = re.compile(rb"HTTP/\d\.\d")
_DIGITS = re.compile(rb"0|[1-9][0-9]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?")
_CHUNKED = frozenset({"chunked", "compress,chunked", "deflate,chunked", "gzip,chunked"})
#: a chunk-size line (with its extensions) longer than this is not one
MAX_CHUNK_LINE = 4096


class BadRequest(Exception):
    """The request cannot be read or framed: answered 400 (a Fault) and the connection closed.
    `head` is set when the head itself was read (so the request can be recorded as refused)."""

    def __init__(self, message: str, head: RequestHead | None = None) -> None:
        super().__init__(message)
        self.head = head


@dataclass
class RequestHead:
    method: str
    #: the request target as on the request line (absolute-form reduced to its path)
    target: str
    #: "HTTP/1.1" or "HTTP/1.0"
    version: str
    headers: list[tuple[str, str]]
    #: the body's size, or None: chunked
    length: int | None = 0
    keep_alive: bool = True
    expect_continue: bool = False


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def parse_head(raw: bytes) -> RequestHead:
    """The head in `raw` (request line and header lines, without the blank line); raises
    `BadRequest`."""
    lines = raw.split(b"\n")
    first = lines[0].rstrip(b"\r")
    parts = first.split()
    if len(parts) != 3 or not _VERSION.fullmatch(parts[2]):
        raise BadRequest(f"bad HTTP request line: {first[:200]!r}")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise BadRequest(f"bad HTTP request method: {method[:50]!r}")
    path = _origin_form(method, target)
    headers: list[tuple[str, str]] = []
    te: list[bytes] = []
    cl: list[bytes] = []
    connection = b""
    expect = False
    for line in lines[1:]:
        if line[-1:] == b"\r":
            line = line[:-1]
        if line[:1] in (b" ", b"\t"):
            raise BadRequest("obsolete line folding in the request headers")
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadRequest(f"invalid header line: {line[:200]!r}")
        value = value.strip()
        lower = name.lower()
        if lower == b"transfer-encoding":
            te.append(value)
        elif lower == b"content-length":
            cl.append(value)
        elif lower == b"connection":
            connection += b"," + value.lower()
        elif lower == b"expect":
            if value.lower() == b"100-continue":
                expect = True
                continue  # answered here, as mitmproxy does: the bus never sees it
        headers.append((_text(name), _text(value)))
    head = RequestHead(_text(method).upper(), path, _text(version), headers, expect_continue=expect)
    head.length = _framing(head, te, cl)
    tokens = {token.strip() for token in connection.split(b",")}
    if b"close" in tokens:
        head.keep_alive = False
    elif b"keep-alive" not in tokens:
        head.keep_alive = version == b"HTTP/1.1"
    return head


def _origin_form(method: bytes, target: bytes) -> str:
    if target == b"*" or target[:1] == b"/":
        return _text(target)
    if method == b"CONNECT":
        raise BadRequest("CONNECT is not served: this is a reverse proxy")
    scheme, sep, rest = target.partition(b"://")
    if not sep or scheme.lower() not in (b"http", b"https"):
        # not a path, not an absolute URL: the gateway refuses it as a target it does not serve
        return _text(target)
    authority, _, path = rest.partition(b"/")
    if not authority or any(c in authority for c in b"@ \t\\?#"):
        raise BadRequest(f"bad authority in the request target: {target[:200]!r}")
    return "/" + _text(path)


def _framing(head: RequestHead, te: list[bytes], cl: list[bytes]) -> int | None:
    if te and cl:
        raise BadRequest("message with both transfer-encoding and content-length headers", head)
    if te:
        if len(te) > 1:
            raise BadRequest(f"multiple transfer-encoding headers: {te!r}", head)
        if head.version != "HTTP/1.1":
            raise BadRequest(f"unexpected transfer-encoding for {head.version}", head)
        coding = re.sub(r"[\t ]*,[\t ]*", ",", te[0].decode("ascii", "replace").lower())
        if coding not in _CHUNKED:
            raise BadRequest(f"unsupported transfer-encoding for a request: {te[0][:100]!r}", head)
        return None
    if cl:
        if len(cl) > 1:
            raise BadRequest(f"multiple content-length headers: {cl!r}", head)
        if not _DIGITS.fullmatch(cl[0]) or len(cl[0]) > 18:
            raise BadRequest(f"invalid content-length header: {cl[0][:40]!r}", head)
        return int(cl[0])
    return 0


class ChunkedBody:
    """Decodes a chunked body from a buffer as it arrives; trailers are read and dropped."""

    def __init__(self) -> None:
        self.body = bytearray()
        #: bytes of the current chunk still to come; -1: a size line is next; -2: its CRLF is
        self._left = -1
        self._in_trailers = False
        self.done = False
        #: trailer fields dropped (counted by the host, for its log)
        self.dropped_trailers = False

    def feed(self, buf: bytearray) -> None:
        """Consume what it can of `buf` (removing it); sets `done` at the end. Raises BadRequest."""
        while not self.done:
            if self._in_trailers:
                if buf[:2] == b"\r\n" or buf[:1] == b"\n":
                    del buf[: 2 if buf[:1] == b"\r" else 1]
                    self.done = True
                    return
                match = BLANK_LINE.search(buf)
                if match is None:
                    if len(buf) > MAX_CHUNK_LINE * 16:
                        raise BadRequest("request trailers over the limit")
                    return
                self.dropped_trailers = True
                del buf[: match.end()]
                self.done = True
                return
            if self._left == -1:
                end = buf.find(b"\n")
                if end < 0:
                    if len(buf) > MAX_CHUNK_LINE:
                        raise BadRequest("chunk size line too long")
                    return
                line = bytes(buf[:end])
                if line[-1:] == b"\r":
                    line = line[:-1]
                match = _CHUNK_SIZE.fullmatch(line)
                if match is None:
                    raise BadRequest(f"bad chunk size line: {line[:60]!r}")
                del buf[: end + 1]
                size = int(match.group(1), 16)
                if size == 0:
                    self._in_trailers = True
                    continue
                self._left = size
            elif self._left == -2:
                if len(buf) < 2:
                    return
                if buf[:2] != b"\r\n":
                    raise BadRequest("a chunk does not end with CRLF")
                del buf[:2]
                self._left = -1
            else:
                if not buf:
                    return
                take = min(self._left, len(buf))
                self.body += buf[:take]
                del buf[:take]
                self._left -= take
                if self._left == 0:
                    self._left = -2
