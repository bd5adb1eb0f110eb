"""The one hardened XML parser. Every byte of XML Turnout reads goes through `parse_xml`.

lxml is safe only when told to be: we turn off DTD loading, entity resolution, network access
and huge-tree mode, and we refuse any DOCTYPE outright (SOAP 1.1 and 1.2 both forbid one), so an
entity bomb is never even declared, let alone expanded. Size is checked before parsing; nesting
depth, attribute floods and entity references after it.

Two rules shape the code:

- **A threat is found whatever follows it.** A bus behind us may read documents we cannot (a
  lenient or recovering parser), so a syntax error later in a document must not turn a threat
  before it into "unreadable", which the proxy forwards. So every document is parsed once, by a
  parser that reads on past errors (still no DTD, no entities, no network, no huge trees), and
  whatever it read gets the structural checks and the caller's (`check`: XInclude and two
  Bodies, for envelopes) before any syntax error is reported. libxml2 keeps what it built
  before an error, even one it stops at (a name over 50,000 characters, nesting past 256), so
  for a threat at byte N the bytes after N cannot change the verdict. Only which kind is named
  can change, when what follows holds a second threat: the checks run in a fixed order.
  A document is well-formed, and its tree returned, only when libxml2 logged no error (level
  ERROR or FATAL): what a strict parse accepts, to the same tree (a comparison over 12,000
  fuzzed documents found no difference; `tests/test_soap_parser.py` keeps one). Parsing twice,
  strictly and then recovering, made a 1 MiB malformed document cost two parses, which made
  "wide and then junk" the cheapest way to slow the proxy.
- **The checks run in C, not in Python.** A legal 1 MiB envelope holds 250,000 empty elements;
  walking them in Python took 115 ms per request on the proxy's event loop (the parse itself
  takes 20 ms), so one client sending them starved every other. Depth and attribute counts are
  compiled XPath expressions evaluated by libxml2, entity references an lxml `iter` filter; no
  Python code runs per element. Compiled XPath objects are locked by lxml for one evaluation at
  a time, so each thread gets its own (`threading.local`), and threads never queue behind one.

Declared encodings are read too: the byte patterns below find a DOCTYPE in ASCII-compatible
encodings, UTF-16/32 and EBCDIC, but libxml2 (through iconv) also reads encodings in which
`<!DOCTYPE` is spelled with other bytes, so a document declaring one is decoded with Python's
codec and scanned again. UTF-7 is refused outright.

Every request pays for this, so the cheap way is taken wherever it is exactly as strict: a byte
every declaration must hold (`!`, or EBCDIC's `E`/`e`) is looked for with `memchr` before the
patterns that need it run; what a declared encoding asks of the scan is worked out once per
label; each thread parses with one hardened parser of its own (lxml clears its error log and
its document before every parse: nothing of one document reaches the next), and the depth and
attribute bounds are one XPath evaluation.
"""

from __future__ import annotations

import codecs
import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from ._errors import XmlThreat, XmlUnreadable

#: libxml2's own hard ceiling on nesting without XML_PARSE_HUGE; our bound is always below it.
_LIBXML_MAX_DEPTH = 256


def _spelled(codec: str) -> bytes:
    """`<!DOCTYPE` or `<!ENTITY`, any case, as `codec` writes it, as a regex."""
    def letter(char: str) -> bytes:
        forms = {re.escape(char.upper().encode(codec)), re.escape(char.lower().encode(codec))}
        return b"(?:" + b"|".join(sorted(forms)) + b")"
    opener = b"".join(re.escape(c.encode(codec)) for c in "<!")
    words = (b"".join(letter(c) for c in word) for word in ("DOCTYPE", "ENTITY"))
    return opener + b"(?:" + b"|".join(words) + b")"


#: the encodings whose declarations are looked for in the bytes: any ASCII-compatible one, UTF-16
#: and UTF-32 either way round (libxml2 reads UTF-32 too, and a bomb it refuses as over-amplified
#: would otherwise be "unreadable", and forwarded), and EBCDIC (which a legacy bus may read)
_SCANNED_CODECS = ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "cp500")

# A DOCTYPE or ENTITY declaration in each of those encodings. One pattern per encoding: each
# starts with a literal, which `re` scans for quickly; one alternation is slower.
_DECLARATIONS = tuple(re.compile(_spelled(codec)) for codec in _SCANNED_CODECS)


def _gate(codec: str) -> tuple[bytes, ...]:
    """Single bytes of which every declaration `codec` spells holds one: the `!` of its `<!`, or,
    where `codec` writes `!` as an ASCII letter (EBCDIC: `Z`, `O`), the `E` or `e` that both
    DOCTYPE and ENTITY hold. Looking for one byte is a `memchr`, many times cheaper than a
    pattern search, and a document without it cannot match the pattern."""
    bang = bytes(b for b in "!".encode(codec) if b)
    if bang == b"!":
        return (bang,)
    return tuple(sorted({bytes([b]) for char in "Ee" for b in char.encode(codec) if b}))


def _gated_scans() -> tuple[tuple[tuple[bytes, ...], tuple[re.Pattern[bytes], ...]], ...]:
    """The patterns of `_DECLARATIONS`, grouped by their gate (`_gate`), in their order."""
    groups: dict[tuple[bytes, ...], list[re.Pattern[bytes]]] = {}
    for codec, pattern in zip(_SCANNED_CODECS, _DECLARATIONS, strict=True):
        groups.setdefault(_gate(codec), []).append(pattern)
    return tuple((gate, tuple(patterns)) for gate, patterns in groups.items())


#: (gate bytes, the patterns that run only when one of them is in the document)
_GATED_DECLARATIONS = _gated_scans()


def declares_doctype(data: bytes) -> bool:
    """Does `data` hold a DOCTYPE or ENTITY declaration in any of `_SCANNED_CODECS`? Exactly
    `any(pattern.search(data) for pattern in _DECLARATIONS)`, most often without running one."""
    for gate, patterns in _GATED_DECLARATIONS:
        for byte in gate:
            if byte in data:
                for pattern in patterns:
                    if pattern.search(data):
                        return True
                break
    return False

#: the same declarations in decoded text
_DECLARATION_TEXT = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)

#: an XML declaration naming an encoding, at the very start of a document
_ENCODING_DECLARATION = re.compile(
    r"<\?xml\s[^>]{0,200}?\bencoding\s*=\s*([\"'])([A-Za-z][A-Za-z0-9._:+-]{0,63})\1"
)

#: byte order marks, longest first (UTF-32-LE's starts with UTF-16-LE's)
_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF8, codecs.BOM_UTF16_LE,
         codecs.BOM_UTF16_BE)
#: the bytes a BOM can start with (most documents start with `<`, and skip the BOM loop)
_BOM_FIRST_BYTES = frozenset(bom[:1] for bom in _BOMS)

#: how libxml2 reads an XML declaration, by its first four bytes (after any BOM)
_DECLARATION_STARTS = {
    b"<?xm": "latin-1",
    b"<\0?\0": "utf-16-le",
    b"\0<\0?": "utf-16-be",
    b"<\0\0\0": "utf-32-le",
    b"\0\0\0<": "utf-32-be",
    b"\x4c\x6f\xa7\x94": "cp037",
}

#: declared encodings the byte patterns above already read exactly, so no decode is needed
_SCANNED_AS_BYTES = frozenset({
    "utf-8", "ascii", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
    "cp037", "cp500",
})

#: Python codecs that are no character set a parser reads (and `punycode` decodes slowly)
_NOT_CHARSETS = frozenset({
    "idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem",
})


@dataclass(frozen=True)
class XmlLimits:
    """Bounds on a document, checked before and during parsing."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 64
    #: attributes on one element; thousands are an attack on parsers that check them pairwise
    max_attributes: int = 256

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if self.max_attributes < 1:
            raise ValueError("max_attributes must be at least 1")
        if not 1 <= self.max_depth < _LIBXML_MAX_DEPTH:
            raise ValueError(f"max_depth must be between 1 and {_LIBXML_MAX_DEPTH - 1}")


DEFAULT_LIMITS = XmlLimits()

#: the level from which libxml2's log entry means "not well-formed" (ERROR, FATAL)
_ERROR = etree.ErrorLevels.ERROR

#: a further check of a parsed (or recovered) tree, raising `XmlThreat`
TreeCheck = Callable[[etree._Element], None]


#: what makes a parser hardened: no DTD, no entities, no network, no huge trees
_HARDENED: dict[str, bool] = {
    "resolve_entities": False,
    "load_dtd": False,
    "dtd_validation": False,
    "no_network": True,
    "huge_tree": False,
    "remove_blank_text": False,
    "collect_ids": False,
}


def make_parser() -> etree.XMLParser:
    """The hardened parser factory. A new parser per call: lxml parsers are not thread-safe."""
    return etree.XMLParser(**_HARDENED)


def _make_recovering_parser() -> etree.XMLParser:
    """The hardened parser, reading on past syntax errors: what `parse_xml` parses with. A tree
    is returned only when libxml2 reported no error at all, so callers see well-formed
    documents only, exactly as from `make_parser`'s."""
    return etree.XMLParser(recover=True, **_HARDENED)


_per_thread = threading.local()


def _thread_parser() -> etree.XMLParser:
    """This thread's recovering parser (`_make_recovering_parser`), made once: a parser is used
    by one parse at a time, and `parse_xml` never parses inside a parse. lxml clears the
    parser's error log and drops its document before each parse, and libxml2's context is reset,
    so one document's errors, depth or tree never reach the next's verdict
    (`tests/test_soap_parser.py` parses threats, junk and clean documents in turn to show it)."""
    parser: etree.XMLParser | None = getattr(_per_thread, "parser", None)
    if parser is None:
        parser = _per_thread.parser = _make_recovering_parser()
    return parser


def parse_xml(
    data: bytes, limits: XmlLimits = DEFAULT_LIMITS, *, check: TreeCheck | None = None
) -> etree._Element:
    """Parse `data` into an element tree, or raise `XmlThreat` / `XmlUnreadable`.

    `check` (raising `XmlThreat`) is run on the tree after the parser's own checks, and on what
    could be read of a document that is not well-formed, so that what it refuses is refused
    whatever follows it (see the module docstring).
    """
    if len(data) > limits.max_bytes:
        raise XmlThreat(
            "too-large", f"document is {len(data)} bytes, over the limit of {limits.max_bytes}"
        )
    if declares_doctype(data):
        raise XmlThreat("doctype", "document carries a DOCTYPE or entity declaration")
    _check_declared_encoding(data)
    parser = _thread_parser()
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:  # not one element could be read (an empty document)
        raise XmlUnreadable(f"not well-formed XML: {exc}") from exc
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise XmlUnreadable(f"not XML: {exc}") from exc
    log = parser.error_log
    error = next((entry for entry in log if entry.level >= _ERROR), None) if log else None
    if root is None:
        problem = f"{error.message}, line {error.line}, column {error.column}" if error else "empty document"
        raise XmlUnreadable(f"not well-formed XML: {problem}")
    _check_structure(root, limits, log)
    if error is not None:
        # Not well-formed: what was read of it has passed the threat checks; the caller's too.
        # Entity nodes are not looked for: a recovering parser keeps an undeclared `&x;` as one,
        # and with no DOCTYPE (refused above) it can never be expanded. Malformed, not hostile.
        if check is not None:
            check(root)
        raise XmlUnreadable(
            f"not well-formed XML: {error.message}, line {error.line}, column {error.column}"
        )
    # Unreachable while every DOCTYPE is refused (no declaration, no entity), kept in case one
    # ever gets through: lxml filters the tree for entity nodes in C.
    if next(root.iter(etree.Entity), None) is not None:
        raise XmlThreat("entity", "document references an entity")
    if check is not None:
        check(root)
    return root


def _check_structure(root: etree._Element, limits: XmlLimits, log: etree._ListErrorLog) -> None:
    """Refuse a DOCTYPE libxml2 found, nesting past the bound and attribute floods."""
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlThreat("doctype", "document carries a DOCTYPE")
    found = int(_compiled(limits).threats(root))
    if found & _TOO_DEEP or (log and _depth_exceeded(log)):
        raise XmlThreat("too-deep", f"document nests deeper than {limits.max_depth}")
    if found & _TOO_MANY_ATTRIBUTES:
        raise XmlThreat(
            "too-many-attributes",
            f"an element carries more than {limits.max_attributes} attributes",
        )


def _depth_exceeded(log: etree._ListErrorLog) -> bool:
    """Did libxml2 stop at its own nesting ceiling? (Matched on the message's fixed start: an
    element named `depth` appears in other messages.)"""
    return any(entry.message.startswith("Excessive depth in document") for entry in log)


#: the bits of `_Checks.threats`
_TOO_DEEP = 1
_TOO_MANY_ATTRIBUTES = 2
#: the depth whose emptiness spares the depth check its full chain (see `_Checks`)
_DEPTH_GATE = 8


class _Checks:
    """The structural checks for one pair of bounds, compiled once per thread.

    `threats` is one XPath evaluation (one context set up, not two) of two tests, and returns
    the sum of the bits of those that hold. Too deep (`_TOO_DEEP`): is there an element, comment
    or processing instruction below `max_depth` elements (the root is depth 1)? Each `/*`
    step's node-set is built by libxml2, so the cost is one pass over the elements in the first
    `max_depth` levels; a document with no element at depth `_DEPTH_GATE` (most requests) pays
    for that many steps only. Too many attributes (`_TOO_MANY_ATTRIBUTES`): does any element have an
    attribute in position `max_attributes + 1`? Namespace declarations are not attributes to
    XPath, nor to lxml's `attrib`.
    """

    def __init__(self, max_depth: int, max_attributes: int) -> None:
        too_deep = "boolean(" + "/*" * max_depth + "/node()[not(self::text())])"
        if max_depth > _DEPTH_GATE:
            # No element at depth 8, nothing below the bound: XPath's `and` leaves the long
            # chain unevaluated for the shallow documents most requests are.
            too_deep = f"(boolean({'/*' * _DEPTH_GATE}) and {too_deep})"
        too_many_attributes = f"boolean(//@*[{max_attributes + 1}])"
        self.threats = etree.XPath(
            f"{_TOO_DEEP} * number({too_deep}) + {_TOO_MANY_ATTRIBUTES} * number({too_many_attributes})",
            regexp=False,  # no EXSLT regular-expression functions registered for each evaluation
        )


def _compiled(limits: XmlLimits) -> _Checks:
    cache: dict[tuple[int, int], _Checks] | None = getattr(_per_thread, "checks", None)
    if cache is None:
        cache = _per_thread.checks = {}
    key = (limits.max_depth, limits.max_attributes)
    checks = cache.get(key)
    if checks is None:
        if len(cache) >= 16:  # a handful of limits are in use; never grow without bound
            cache.clear()
        checks = cache[key] = _Checks(*key)
    return checks


def _declared_encoding(data: bytes) -> str | None:
    """The encoding named by `data`'s XML declaration, read the ways libxml2 reads one (as
    ASCII, UTF-16 or UTF-32 either way round, or EBCDIC, after any BOM), or None. Only the
    first 512 bytes are read, BOM included."""
    start = 0
    if data[:1] in _BOM_FIRST_BYTES:
        for bom in _BOMS:
            if data.startswith(bom):
                start = len(bom)
                break
    codec = _DECLARATION_STARTS.get(data[start:start + 4])
    if codec is None:
        return None
    head = data[start:512]
    if codec == "latin-1":
        # One byte, one character, and no part of the pattern matches `>`: the declaration is
        # read from the bytes before the first `>`, and that read is kept per spelling (every
        # request of one client starts alike).
        end = head.find(b">")
        return _latin1_label(head if end < 0 else head[:end])
    match = _ENCODING_DECLARATION.match(head.decode(codec, errors="replace"))
    return match.group(2) if match else None


@functools.lru_cache(maxsize=256)
def _latin1_label(head: bytes) -> str | None:
    """`_declared_encoding` of a head read as latin-1, up to its first `>` (at most 512 bytes)."""
    match = _ENCODING_DECLARATION.match(head.decode("latin-1"))
    return match.group(2) if match else None


def _check_declared_encoding(data: bytes) -> None:
    """Refuse UTF-7, and a DOCTYPE spelled in a declared encoding the byte patterns cannot see."""
    label = _declared_encoding(data)
    if label is None:
        return
    verdict = _label_verdict(label)
    if verdict is None:
        return
    what, value = verdict
    if what == "refuse":
        raise XmlThreat("encoding", value)
    try:
        text = data.decode(value, errors="replace")
    except LookupError:  # a bytes-to-bytes codec (base64, zlib...): not a character set
        return
    if _DECLARATION_TEXT.search(text):
        raise XmlThreat("doctype", f"document carries a DOCTYPE or entity declaration in {label}")


@functools.lru_cache(maxsize=256)
def _label_verdict(label: str) -> tuple[str, str] | None:
    """What a declared encoding `label` asks of `_check_declared_encoding`, worked out once per
    label (at most 64 characters; 256 labels are kept): `("refuse", why)` for UTF-7,
    `("decode", codec)` when the byte patterns cannot read the encoding, so the document is
    decoded and scanned again, and None when nothing more is needed."""
    # UTF-7 writes `<` as `+ADw-`: markup no byte scan of ours, nor any filter in front of the
    # bus, recognises, while libxml2 (through iconv) decodes it. No SOAP stack needs UTF-7; it
    # is used to smuggle markup. Refused under any of its names, known to Python or not.
    if "utf7" in re.sub(r"[^a-z0-9]", "", label.lower()):
        return "refuse", f"document is declared in {label}, which Turnout refuses"
    try:
        codec = codecs.lookup(label).name.replace("_", "-")
    except LookupError:
        return None  # libxml2 may know it through iconv; a DOCTYPE it reads is refused after parsing
    if codec == "utf-7":
        return "refuse", f"document is declared in {label} (UTF-7), which Turnout refuses"
    if codec in _SCANNED_AS_BYTES or codec in _NOT_CHARSETS:
        return None
    return "decode", codec
