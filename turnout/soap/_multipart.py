"""multipart/related bodies (MTOM/XOP, SOAP with Attachments): split strictly, root found.

An MTOM or SwA request carries its envelope in one MIME part (the root: the part the `start`
parameter names, else the first) and binary or XML attachments in others. The guard must read
the root as an envelope and every other XML part with the hardened parser, or a DOCTYPE travels
past it inside an attachment, so the body is split here first.

The splitter is small and strict on purpose (RFC 2046 section 5.1, RFC 2387). The `email`
package's parser is built to read whatever a mail client sent, and it hides exactly what matters
here: a missing closing delimiter, a line that begins with the delimiter and goes on, two parts
claiming one Content-ID. Where two readers could split one body two ways (the bus's and ours),
the body is a threat (`ambiguous-multipart`), because the part we inspected may not be the one
the bus reads; where it is simply broken it is `XmlUnreadable` (`MultipartUnreadable`, carrying
the parts read up to the problem, so a caller can still look in them for threats). Line breaks
are CRLF, and a bare LF is tolerated. Content-Transfer-Encoding base64 and quoted-printable are
undone (an envelope in base64 is still an envelope to the bus); one we cannot undo is refused
like an unknown Content-Encoding.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass

from ._errors import XmlThreat, XmlUnreadable

#: RFC 2046: a boundary is 1 to 70 characters
_MAX_BOUNDARY = 70

#: a token (RFC 2045) as a parameter name or unquoted value
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
#: a parameter; unquoted values are read up to `;` or space, not only as tokens: stacks send
#: `type=text/xml` and `start=<root@host>` unquoted
_PARAMETER = re.compile(rf'\s*;\s*({_TOKEN})\s*=\s*([^;\s"]+|"(?:[^"\\\r\n]|\\.)*")\s*')
_MEDIA_TYPE = re.compile(rf"\s*({_TOKEN}/{_TOKEN})\s*")
_HEADER_NAME = re.compile(_TOKEN)

#: transfer encodings whose bytes are the content as it is
_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})

#: byte order marks, longest first, then the whitespace a document may start with (any width)
_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_LEADING = b" \t\r\n\x00"


class MultipartUnreadable(XmlUnreadable):
    """A multipart/related body that is broken, not ambiguous (no closing delimiter, a root the
    `start` parameter names but no part carries, a part without a header section...).

    `parts` holds what was read before the problem: the proxy forwards unreadable bodies by
    default, so it can still refuse one whose readable parts hold a threat.
    """

    def __init__(self, message: str, parts: tuple[MimePart, ...] = ()) -> None:
        super().__init__(message)
        self.parts = parts


@dataclass(frozen=True)
class MimePart:
    """One MIME part: its headers as sent (folded lines joined) and its bytes."""

    headers: tuple[tuple[str, str], ...]
    #: the bytes between the header section and the next delimiter, as sent
    raw: bytes
    #: `raw` with its Content-Transfer-Encoding undone
    content: bytes

    def header(self, name: str) -> str | None:
        """The value of header `name` (any case), or None. Parts with two of the headers that
        matter (Content-Type, Content-ID, Content-Transfer-Encoding) are refused when split."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters; "" when the part has none."""
        value = self.header("content-type")
        match = _MEDIA_TYPE.match(value) if value else None
        return match.group(1).lower() if match else ""

    @property
    def content_id(self) -> str | None:
        """The Content-ID without its angle brackets."""
        value = self.header("content-id")
        return _bare_id(value) if value is not None else None

    @property
    def is_xml(self) -> bool:
        """Does the part hold XML: a media type naming it (text/xml, application/soap+xml,
        application/xop+xml...), or content that starts with `<` after any BOM and whitespace
        (in UTF-8, UTF-16 or UTF-32: NUL bytes are skipped too)?"""
        return "xml" in self.content_type or looks_like_xml(self.content)


@dataclass(frozen=True)
class RelatedParts:
    """A split multipart/related body."""

    parts: tuple[MimePart, ...]
    #: index in `parts` of the root: the part `start` names, else the first
    root_index: int
    boundary: str
    #: the `type` parameter (application/xop+xml for MTOM, text/xml for SwA), if sent
    type: str | None = None
    #: the `start` parameter without angle brackets, if sent
    start: str | None = None
    #: the `start-info` parameter (MTOM: the root's own media type), if sent
    start_info: str | None = None

    @property
    def root(self) -> MimePart:
        return self.parts[self.root_index]

    @property
    def attachments(self) -> tuple[MimePart, ...]:
        """Every part but the root, in order."""
        return self.parts[:self.root_index] + self.parts[self.root_index + 1:]


def is_multipart_related(content_type: str | None) -> bool:
    """Is `content_type` multipart/related (any case, any parameters)?"""
    if not content_type:
        return False
    match = _MEDIA_TYPE.match(content_type)
    return match is not None and match.group(1).lower() == "multipart/related"


def xml_parts(related: RelatedParts, *, include_root: bool = False) -> tuple[MimePart, ...]:
    """The parts holding XML (see `MimePart.is_xml`): the attachments, and the root if asked. The
    root is read with `read_envelope`, every other XML part with `parse_xml`."""
    parts = related.parts if include_root else related.attachments
    return tuple(part for part in parts if part.is_xml)


def looks_like_xml(content: bytes) -> bool:
    """Does `content` start with `<` after any BOM, whitespace and NUL bytes?"""
    head = content[:1024]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
            break
    return head.lstrip(_LEADING).startswith(b"<")


def split_related(body: bytes, content_type: str, max_parts: int = 64) -> RelatedParts:
    """Split a multipart/related `body` sent with `content_type`.

    Raises `XmlThreat` `too-many-parts` (more than `max_parts`), `ambiguous-multipart` (a
    parameter given twice, a line starting with the delimiter and going on, a part with two
    Content-Types, Content-IDs or transfer encodings, two parts with one Content-ID),
    `unsupported-encoding` or `bad-encoding` (a transfer encoding we cannot undo, or corrupt);
    `MultipartUnreadable` (an `XmlUnreadable`) for a body that is not multipart/related or is
    broken: no boundary, no delimiter, no closing delimiter, a part without its blank line...
    """
    if max_parts < 1:
        raise ValueError("max_parts must be at least 1")
    params = _content_type_parameters(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartUnreadable("multipart/related without a boundary parameter")
    if len(boundary) > _MAX_BOUNDARY or not boundary.isascii() or not boundary.isprintable():
        raise MultipartUnreadable(f"boundary is not 1 to {_MAX_BOUNDARY} printable ASCII characters")
    if boundary.endswith(" "):
        raise MultipartUnreadable("boundary ends with a space")
    start = _bare_id(params["start"]) if "start" in params else None
    parts = _split(body, boundary.encode("ascii"), max_parts)
    seen: set[str] = set()
    for part in parts:
        cid = part.content_id
        if cid is not None:
            if cid in seen:
                raise XmlThreat("ambiguous-multipart", f"two parts have Content-ID <{cid}>")
            seen.add(cid)
    if start is None:
        root_index = 0
    else:
        root_index = next((i for i, part in enumerate(parts) if part.content_id == start), -1)
        if root_index < 0:
            raise MultipartUnreadable(f"no part has the start Content-ID <{start}>", parts)
    return RelatedParts(parts, root_index, boundary, params.get("type"), start, params.get("start-info"))


def _content_type_parameters(content_type: str) -> dict[str, str]:
    """The parameters of a multipart/related Content-Type, names lower case, values unquoted."""
    match = _MEDIA_TYPE.match(content_type or "")
    if not match or match.group(1).lower() != "multipart/related":
        raise MultipartUnreadable(f"content type {content_type[:80]!r} is not multipart/related")
    params: dict[str, str] = {}
    at = match.end()
    while at < len(content_type):
        param = _PARAMETER.match(content_type, at)
        if not param:
            if content_type[at:].strip(" \t;") == "":
                break  # a trailing `;` is harmless
            raise MultipartUnreadable(f"cannot read the Content-Type parameters at {content_type[at:at + 40]!r}")
        name, value = param.group(1).lower(), param.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if name in params:
            # one reader takes the first, another the last: the body splits two ways
            raise XmlThreat("ambiguous-multipart", f"the Content-Type names {name!r} twice")
        params[name] = value
        at = param.end()
    return params


def _bare_id(value: str) -> str:
    value = value.strip()
    return value[1:-1].strip() if value.startswith("<") and value.endswith(">") else value


def _split(body: bytes, boundary: bytes, max_parts: int) -> tuple[MimePart, ...]:
    dash = b"--" + boundary
    # The first delimiter starts the body or a line; what comes before it is the preamble.
    if body.startswith(dash):
        at = 0
    else:
        found = body.find(b"\n" + dash)
        if found < 0:
            raise MultipartUnreadable("no delimiter line for the boundary")
        at = found + 1
    parts: list[MimePart] = []
    while True:
        after = at + len(dash)
        if body.startswith(b"--", after):
            if not parts:
                raise MultipartUnreadable("multipart body has no parts")
            # The closing delimiter. RFC 2046 has the epilogue ignored, but a reader that splits
            # on every delimiter (some SOAP stacks do) would find parts in it that we never read.
            if body.find(b"\n" + dash, after) >= 0:
                raise XmlThreat("ambiguous-multipart", "a delimiter line follows the closing delimiter")
            return tuple(parts)
        line_end = _end_of_delimiter_line(body, after)
        if len(parts) == max_parts:
            raise XmlThreat("too-many-parts", f"multipart body has more than {max_parts} parts")
        start = line_end
        found = body.find(b"\n" + dash, start - 1)
        if found < 0:
            parts.append(_part(body[start:], tuple(parts), closed=False))
            raise MultipartUnreadable("multipart body has no closing delimiter", tuple(parts))
        end = found - 1 if found > 0 and body[found - 1:found] == b"\r" else found
        parts.append(_part(body[start:max(start, end)], tuple(parts), closed=True))
        at = found + 1


def _end_of_delimiter_line(body: bytes, after: int) -> int:
    """Where the line of a delimiter (not the closing one) ends, after transport padding. A line
    that begins with the delimiter and goes on is read as a delimiter by some parsers and as
    content by others: RFC 2046 forbids it in content, so it is refused as ambiguous."""
    at = after
    while body[at:at + 1] in (b" ", b"\t"):
        at += 1
    if body.startswith(b"\r\n", at):
        return at + 2
    if body.startswith(b"\n", at):
        return at + 1
    if at >= len(body):
        raise MultipartUnreadable("multipart body ends in a delimiter line")
    raise XmlThreat("ambiguous-multipart", "a line begins with the boundary delimiter and goes on")


def _part(data: bytes, before: tuple[MimePart, ...], *, closed: bool) -> MimePart:
    """One part: header lines up to the first empty line, then the content."""
    headers: list[tuple[str, str]] = []
    at = 0
    while True:
        line_end = data.find(b"\n", at)
        if line_end < 0:
            raise MultipartUnreadable("a part has no empty line after its headers", before)
        line = data[at:line_end].removesuffix(b"\r")
        at = line_end + 1
        if not line:
            break
        text = line.decode("latin-1")
        if text[0] in " \t":
            if not headers:
                raise MultipartUnreadable("a part starts with a folded header line", before)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise MultipartUnreadable(f"a part has a malformed header line {text[:60]!r}", before)
        headers.append((name, value.strip()))
    names = [name.lower() for name, _ in headers]
    for name in ("content-type", "content-id", "content-transfer-encoding"):
        if names.count(name) > 1:
            raise XmlThreat("ambiguous-multipart", f"a part has two {name} headers")
    raw = data[at:]
    coding = next((value.strip().lower() for key, value in headers
                   if key.lower() == "content-transfer-encoding"), "")
    if closed:
        return MimePart(tuple(headers), raw, _decoded(raw, coding))
    try:  # a part cut off by the end of the body: its content as far as it decodes
        return MimePart(tuple(headers), raw, _decoded(raw, coding))
    except XmlThreat:
        return MimePart(tuple(headers), raw, raw)


def _decoded(raw: bytes, coding: str) -> bytes:
    if coding in _IDENTITY_ENCODINGS:
        return raw
    if coding == "base64":
        try:
            return base64.b64decode(re.sub(rb"[ \t\r\n]", b"", raw), validate=True)
        except binascii.Error as exc:
            raise XmlThreat("bad-encoding", f"a base64 part is not valid base64: {exc}") from None
    if coding == "quoted-printable":
        return quopri.decodestring(raw)
    raise XmlThreat("unsupported-encoding", f"a part's Content-Transfer-Encoding {coding!r} is not one Turnout reads")
