"""Hostile requests through the running proxy, on a legacy route and on a translator route.

The corpus is in tests/hostile/ (its README.md says, per item, what it attacks and what the proxy
must do); the big items are generated here, lazily, so the test process never holds them. Real
parts throughout: mitmproxy on loopback, a scripted bus and a scripted JSON service (real HTTP
servers that count every request line reaching them, even ones they refuse), a canary file and
a canary HTTP server that only a parser reading entities, DTDs or XIncludes would touch, and raw
sockets as clients, so framing, headers and timing are exactly what the item says.
"""

from __future__ import annotations

import gc
import os
import gzip
import http.client
import select
import socket
import threading
import time
import uuid
import zlib
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import psutil
import pytest
from lxml import etree

from turnout.config import ConfigError, load_proxy_config
from turnout.proxy import ProxyThread
from turnout.recording import RecordingStore
from turnout.soap import parse_xml

from .support.bus import Reply, ScriptedBus
from .test_proxy_routes import write_config

CORPUS = Path(__file__).parent / "hostile"
SECRET = f"turnout-canary-{uuid.uuid4().hex}"
LEGACY = "/isb/pnc"  # no route names this service: everything posted here goes to the bus
TRANSLATED = "/pnc"  # `/pnc VehicleEnquiry` goes to the test translator, never to the bus
PATHS = {"legacy": LEGACY, "translator": TRANSLATED}
BUS_ANSWER = b"<from-the-bus/>"
TRANSLATED_MARK = b"<p:colourCode>blue</p:colourCode>"
LIMIT = 1024 * 1024  # limits.max_body_bytes
BOUND = 10.0  # seconds within which every hostile request is answered
CLIENT_BODY_TIMEOUT = 1.0
#: RSS growth allowed over the whole batch. 150 MB until the batch grew by the compressed,
#: then-junk, multipart, method and path items: it then peaked at 124 MB alone and 159 MB late in
#: a full run (a single parse of the 90,000-attribute items takes ~24 MB in libxml2, on both
#: routes). Still far below what buffering one 50 MB or 200 MB item would cost.
MEMORY_BOUND = 200 * 1024 * 1024
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}
BLOCK = b"A" * 65536


# --- the rig: canary, bus, JSON service, proxy -------------------------------------------------


class Canary:
    """A file and a URL holding a secret. Nothing may read either, so nothing may know the secret."""

    def __init__(self, directory: Path) -> None:
        self.file = directory / "canary.txt"
        self.file.write_text(SECRET)
        self.hits: list[Any] = []  # every connection, before any request is even read
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = SECRET.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        def count(request: object, address: object) -> bool:
            canary.hits.append(address)
            return True

        self.server.verify_request = count  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True
        )
        self._thread.start()

    def fill(self, template: bytes) -> bytes:
        return template.replace(b"@CANARY_FILE@", self.file.as_uri().encode()).replace(
            b"@CANARY_URL@", self.url.encode()
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def count_request_lines(server: ScriptedBus) -> list[bytes]:
    """Every request line that reaches `server`, including those it refuses (431) unhandled."""
    lines: list[bytes] = []
    base = server.server.RequestHandlerClass

    class Counting(base):  # type: ignore[misc, valid-type]
        def parse_request(self) -> bool:
            lines.append(self.raw_requestline)
            return super().parse_request()

    server.server.RequestHandlerClass = Counting
    return lines


@dataclass
class Rig:
    proxy: ProxyThread
    bus: ScriptedBus
    service: ScriptedBus
    canary: Canary
    bus_lines: list[bytes]
    service_lines: list[bytes]
    record_dir: Path
    stopped: bool = False

    def counts(self) -> tuple[int, int, int]:
        return len(self.bus_lines), len(self.bus.received), len(self.service_lines)

    def assert_serves_normal_traffic(self) -> None:
        for route, path in PATHS.items():
            answer = send(self, framed(NORMAL, path))
            assert answer.status == 200, (route, answer)
            if route == "legacy":
                assert answer.body == BUS_ANSWER
            else:
                assert TRANSLATED_MARK in answer.body

    def stop(self) -> None:
        if not self.stopped:
            self.proxy.stop()
            self.stopped = True


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp("hostile")
    canary = Canary(tmp)
    with ScriptedBus() as bus, ScriptedBus() as service:
        bus.reply = Reply(body=BUS_ANSWER)
        service.reply = Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "blue"}')
        bus_lines, service_lines = count_request_lines(bus), count_request_lines(service)
        path = write_config(
            tmp, bus, service, "  /pnc VehicleEnquiry: {mode: translator, on_error: fault}\n",
            extra=f"limits: {{max_body_bytes: {LIMIT}}}\n",
        )
        config = load_proxy_config(path).with_overrides(client_body_timeout=CLIENT_BODY_TIMEOUT)
        rig = Rig(ProxyThread(config).start(), bus, service, canary, bus_lines, service_lines, tmp / "rec")
        try:
            yield rig
        finally:
            rig.stop()
            canary.close()


# --- a raw client -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None  # None: the connection closed (or reset) without an answer
    body: bytes
    elapsed: float
    next: "Answer | None" = None


class _KeepOpen:
    """The socket's one buffered reader, shared by successive responses on the connection."""

    def __init__(self, fp: Any) -> None:
        self.fp = fp

    def makefile(self, mode: str) -> Any:
        return self

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fp, name)


def _read(reader: _KeepOpen, started: float) -> Answer:
    response = http.client.HTTPResponse(reader, method="POST")  # type: ignore[arg-type]
    try:
        response.begin()
        body = response.read()
    except (http.client.HTTPException, OSError):
        return Answer(None, b"", time.monotonic() - started)
    return Answer(response.status, body, time.monotonic() - started)


def send(rig: Rig, wire: Iterable[bytes], *, answers: int = 1) -> Answer:
    """Send `wire` as it comes, stopping as soon as the proxy answers or closes (as any sane
    client would), then read up to `answers` responses."""
    started = time.monotonic()
    sock = socket.create_connection((rig.proxy.host, rig.proxy.port), timeout=BOUND)
    try:
        for chunk in wire:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except OSError:
                break
        reader = _KeepOpen(sock.makefile("rb"))
        first = answer = _read(reader, started)
        for _ in range(answers - 1):
            if answer.status is None:
                break
            answer.next = _read(reader, started)
            answer = answer.next
        return first
    finally:
        sock.close()


def request_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: turnout.test", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def framed(body: bytes, path: str, headers: dict[str, str] | None = None) -> Iterator[bytes]:
    yield request_head(path, {**(headers or SOAP_HEADERS), "Content-Length": str(len(body))})
    yield body


def fault_kind(body: bytes) -> str:
    root = parse_xml(body)
    assert root.xpath("//*[local-name()='Fault']"), body[:300]
    return str(root.xpath("string(//*[local-name()='kind'])"))


# --- the corpus ---------------------------------------------------------------------------------


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


NORMAL = corpus("normal.xml")
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


def reencoded(document: bytes, codec: str, label: str, *, declare: bool = True) -> bytes:
    """`document` in another encoding, its declaration naming `label` (or no declaration)."""
    text = document.decode("utf-8")
    text = text.replace(DECLARATION.decode(), f'<?xml version="1.0" encoding="{label}"?>' if declare else "")
    return text.lstrip().encode(codec)


def quadratic_blowup() -> bytes:
    """One 50 kB entity referenced 15,000 times: 125 kB on the wire, 750 MB if expanded."""
    declaration = b'<!DOCTYPE soap:Envelope [<!ENTITY a "' + b"a" * 50_000 + b'">]>'
    return NORMAL.replace(DECLARATION, DECLARATION + declaration).replace(b"AB12CDE", b"&a;" * 15_000)


def deeply_nested(depth: int = 10_000) -> bytes:
    return NORMAL.replace(b"AB12CDE", b"<p:x>" * depth + b"</p:x>" * depth)


def many_attributes(count: int = 100_000) -> bytes:
    start = b'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"'
    return NORMAL.replace(start, start + "".join(f" a{i:x}=''" for i in range(count)).encode())


def mixed_encoding() -> bytes:
    """Declared UTF-8; one character in Latin-1, the others in UTF-8."""
    document = corpus("encoding-declared-latin1.xml").replace(b"ISO-8859-1", b"utf-8")
    return document.replace("ë".encode(), "ë".encode("latin-1"), 1)


def padded_to(size: int) -> bytes:
    """A valid envelope of exactly `size` bytes."""
    return NORMAL.replace(b"AB12CDE", b"AB12CDE" + b" " * (size - len(NORMAL)))


def text_node(path: str, size: int, framing: str) -> Iterator[bytes]:
    """An envelope whose vrm is `size` bytes of text, produced 64 kB at a time."""
    prefix, suffix = NORMAL.split(b"AB12CDE")
    blocks = size // len(BLOCK)
    length = len(prefix) + blocks * len(BLOCK) + len(suffix)
    if framing == "length":
        yield request_head(path, {**SOAP_HEADERS, "Content-Length": str(length)})
    elif framing == "chunked":
        yield request_head(path, {**SOAP_HEADERS, "Transfer-Encoding": "chunked"})
    else:  # neither: by HTTP/1.1 the request has no body, and what follows is the next request
        yield request_head(path, SOAP_HEADERS)
    parts = [prefix, *(BLOCK for _ in range(blocks)), suffix]
    for part in parts:
        yield b"%x\r\n%s\r\n" % (len(part), part) if framing == "chunked" else part
    if framing == "chunked":
        yield b"0\r\n\r\n"


def huge_header(path: str) -> Iterator[bytes]:
    head = request_head(path, {**SOAP_HEADERS, "Content-Length": str(len(NORMAL))})
    yield head[:-2] + b"X-Officer-Note: " + b"n" * (1024 * 1024) + b"\r\n\r\n"
    yield NORMAL


def many_headers(path: str) -> Iterator[bytes]:
    head = request_head(path, {**SOAP_HEADERS, "Content-Length": str(len(NORMAL))})
    yield head[:-2] + b"".join(b"X-Trace-%d: %d\r\n" % (i, i) for i in range(20_000)) + b"\r\n"
    yield NORMAL


def endless_header(path: str) -> Iterator[bytes]:
    """A head that never ends: 100 MB of one header line."""
    yield request_head(path, SOAP_HEADERS)[:-2] + b"X-Padding: "
    for _ in range(100 * 1024 * 1024 // len(BLOCK)):
        yield BLOCK


Wire = Callable[[Canary, str], Iterator[bytes]]


# --- what the bus would see that the guard did not: encodings, syntax after a threat, parts,
# --- methods and path spellings (issue 9) ------------------------------------------------------


def gzipped(make: Callable[[Canary], bytes]) -> Callable[[Canary], bytes]:
    return lambda canary: gzip.compress(make(canary), mtime=0)


def deflated(make: Callable[[Canary], bytes]) -> Callable[[Canary], bytes]:
    return lambda canary: zlib.compress(make(canary))


def incompressible(make: Callable[[Canary], bytes], size: int = 120_000) -> Callable[[Canary], bytes]:
    """The document with a comment of random text ahead of it, so that it compresses like real
    traffic (a few times) rather than like a bomb: the verdict must come from what it holds."""
    noise = b"<!-- " + bytes(0x41 + b % 26 for b in os.urandom(size)) + b" -->"
    return lambda canary: make(canary).replace(DECLARATION, DECLARATION + noise, 1)


def gzip_bomb() -> bytes:
    """About 200 KB of gzip that expands to 200 MB of whitespace inside the envelope."""
    prefix, suffix = NORMAL.split(b"AB12CDE")
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(prefix)]
    for _ in range(200 * 1024 * 1024 // len(BLOCK)):
        parts.append(compressor.compress(b" " * len(BLOCK)))
    parts.append(compressor.compress(suffix))
    parts.append(compressor.flush())
    return b"".join(parts)


def then_junk(make: Callable[[Canary], bytes]) -> Callable[[Canary], bytes]:
    """The document, then bytes that make it not well-formed: the threat comes first."""
    return lambda canary: make(canary) + b"<<junk after the envelope"


def deep_then_long_name() -> bytes:
    """10,000 levels, then an element name over libxml2's length limit."""
    long_name = b"p:" + b"n" * 60_000
    return deeply_nested().replace(b"</soap:Body>", b"<" + long_name + b"/></soap:Body>")


def utf7_doctype_then_junk(canary: Canary) -> bytes:
    """The file entity written in UTF-7, which no ASCII scan sees, then junk."""
    text = canary.fill(corpus("xxe-file.xml")).decode("utf-8")
    text = text.replace(DECLARATION.decode(), "")
    return b'<?xml version="1.0" encoding="UTF-7"?>' + text.encode("utf-7") + b"<<junk"


BOUNDARY = "MIMEBoundary_turnout"
MULTIPART = {
    "Content-Type": f'multipart/related; type="application/xop+xml"; start="<root@turnout>"; '
                    f'start-info="text/xml"; boundary="{BOUNDARY}"',
    "SOAPAction": SOAP_HEADERS["SOAPAction"],
}


def related(*parts: tuple[str, bytes]) -> bytes:
    """A multipart/related body; the first part is the root (Content-ID <root@turnout>)."""
    out = b""
    for i, (content_type, body) in enumerate(parts):
        cid = "<root@turnout>" if i == 0 else f"<part{i}@turnout>"
        out += (f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\nContent-ID: {cid}\r\n\r\n").encode()
        out += body + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


ROOT_PART = 'application/xop+xml; charset=UTF-8; type="text/xml"'


def with_method(method: str, item_name: str, make: Callable[[Canary], bytes], outcome: str,
                translator: str | None = None) -> Item:
    def wire(canary: Canary, path: str) -> Iterator[bytes]:
        body = make(canary)
        head = request_head(path, {**SOAP_HEADERS, "Content-Length": str(len(body))})
        yield head.replace(b"POST ", method.encode() + b" ", 1)
        yield body
    return Item(item_name, wire, outcome, translator or outcome, body=make)


def at_path(item_name: str, spell: Callable[[str], str], legacy: str, translator: str) -> Item:
    """The normal request posted to another spelling of the route's path."""
    def wire(canary: Canary, path: str) -> Iterator[bytes]:
        yield from framed(NORMAL, spell(path))
    return Item(item_name, wire, legacy, translator, body=lambda canary: NORMAL)


GZIP = {**SOAP_HEADERS, "Content-Encoding": "gzip"}
DEFLATE = {**SOAP_HEADERS, "Content-Encoding": "deflate"}


@dataclass(frozen=True)
class Item:
    """One hostile request and what the proxy must do with it on each route.

    Outcomes: `fault:<kind>` (the proxy's Fault; nothing reaches the bus or the JSON service),
    `bus` (forwarded unchanged, the bus's answer returned; the service sees nothing),
    `translator` (the translator answers; the bus sees nothing), `bus:empty` (see no-length).
    """

    name: str
    wire: Wire
    legacy: str
    translator: str
    #: the bytes the bus must receive unchanged, for items it receives
    body: Callable[[Canary], bytes] | None = None
    answers: int = 1


def filled(name: str) -> Callable[[Canary], bytes]:
    return lambda canary: canary.fill(corpus(name))


def in_encoding(make: Callable[[Canary], bytes], codec: str, label: str) -> Callable[[Canary], bytes]:
    return lambda canary: reencoded(make(canary), codec, label)


def from_file(name: str, legacy: str, translator: str | None = None,
              headers: dict[str, str] | None = None) -> Item:
    return generated(name.removesuffix(".xml"), filled(name), legacy, translator, headers)


def generated(name: str, make: Callable[[Canary], bytes], legacy: str, translator: str | None = None,
              headers: dict[str, str] | None = None) -> Item:
    """An item sent with its Content-Length; `translator` defaults to the legacy outcome."""
    wire = lambda canary, path: framed(make(canary), path, headers)  # noqa: E731
    return Item(name, wire, legacy, translator or legacy, body=make)


def streamed(name: str, wire: Wire, outcome: str, answers: int = 1) -> Item:
    """An item whose bytes on the wire are generated as they are sent; the same on both routes."""
    return Item(name, wire, outcome, outcome, answers=answers)


DOCTYPE = "fault:threat.doctype"
XINCLUDE = "fault:threat.xinclude"
TOO_LARGE = "fault:threat.too-large"
HEADERS_TOO_LARGE = "fault:proxy.http-431"
MB_50 = 50 * 1024 * 1024
UTF16 = {"Content-Type": "text/xml; charset=utf-16", "SOAPAction": SOAP_HEADERS["SOAPAction"]}
OTHER_ACTION = {**SOAP_HEADERS, "SOAPAction": '"urn:police:pnc:v1#PersonEnquiry"'}


ITEMS: list[Item] = [
    from_file("billion-laughs.xml", DOCTYPE),
    generated("quadratic-blowup", lambda c: quadratic_blowup(), DOCTYPE),
    from_file("xxe-file.xml", DOCTYPE),
    from_file("xxe-url.xml", DOCTYPE),
    from_file("external-dtd.xml", DOCTYPE),
    from_file("parameter-entity.xml", DOCTYPE),
    from_file("parameter-entity-oob.xml", DOCTYPE),
    from_file("xinclude-file.xml", XINCLUDE),
    from_file("xinclude-url.xml", XINCLUDE),
    from_file("doctype-bare.xml", DOCTYPE),
    from_file("doctype-lowercase.xml", DOCTYPE),
    generated("xxe-file-utf16", in_encoding(filled("xxe-file.xml"), "utf-16", "UTF-16"), DOCTYPE,
              headers=UTF16),
    generated("billion-laughs-utf32", in_encoding(filled("billion-laughs.xml"), "utf-32", "UTF-32"), DOCTYPE),
    generated("xxe-url-utf32be", in_encoding(filled("xxe-url.xml"), "utf-32-be", "UTF-32"), DOCTYPE),
    generated("billion-laughs-ebcdic", in_encoding(filled("billion-laughs.xml"), "cp037", "IBM037"), DOCTYPE),
    generated("deep-10000", lambda c: deeply_nested(), "fault:threat.too-deep"),
    generated("attributes-100000", lambda c: many_attributes(), "fault:threat.too-many-attributes"),
    streamed("text-node-50mb", lambda c, path: text_node(path, MB_50, "length"), TOO_LARGE),
    streamed("over-limit-chunked", lambda c, path: text_node(path, MB_50, "chunked"), TOO_LARGE),
    streamed("over-limit-no-length", lambda c, path: text_node(path, MB_50, "none"), "bus:empty", answers=2),
    generated("over-limit-by-one", lambda c: padded_to(LIMIT + 1), TOO_LARGE),
    generated("at-limit", lambda c: padded_to(LIMIT), "bus", "translator"),
    from_file("encoding-declared-utf16.xml", "bus"),
    from_file("encoding-declared-latin1.xml", "bus", "translator"),
    generated("encoding-mixed", lambda c: mixed_encoding(), "bus"),
    generated("utf16-bom", lambda c: reencoded(NORMAL, "utf-16", "UTF-16"), "bus", "translator", UTF16),
    generated("utf16-no-bom", lambda c: reencoded(NORMAL, "utf-16-le", "UTF-16"), "bus", "translator", UTF16),
    generated("utf16-no-bom-no-declaration", lambda c: reencoded(NORMAL, "utf-16-le", "", declare=False),
              "bus", headers=UTF16),
    from_file("two-bodies.xml", "fault:threat.ambiguous-envelope"),
    from_file("comment-before-operation.xml", "bus", "translator"),
    generated("action-mismatch", lambda c: NORMAL, "bus", "fault:soapaction-mismatch", OTHER_ACTION),
    streamed("huge-header", lambda c, path: huge_header(path), HEADERS_TOO_LARGE),
    streamed("many-headers", lambda c, path: many_headers(path), HEADERS_TOO_LARGE),
    streamed("endless-header", lambda c, path: endless_header(path), HEADERS_TOO_LARGE),
    # compressed: the guard reads what the bus will decode
    generated("gzip-xxe-file", gzipped(filled("xxe-file.xml")), DOCTYPE, headers=GZIP),
    generated("deflate-xxe-url", deflated(filled("xxe-url.xml")), DOCTYPE, headers=DEFLATE),
    generated("gzip-deep-10000", gzipped(incompressible(lambda c: deeply_nested())), "fault:threat.too-deep",
              headers=GZIP),
    generated("gzip-3mb", gzipped(incompressible(lambda c: NORMAL, 3 * LIMIT)), TOO_LARGE, headers=GZIP),
    generated("gzip-bomb-200mb", lambda c: gzip_bomb(), TOO_LARGE, headers=GZIP),
    generated("gzip-truncated", lambda c: gzip.compress(NORMAL)[:-9], "fault:threat.bad-encoding",
              headers=GZIP),
    generated("encoding-unknown", lambda c: NORMAL, "fault:threat.unsupported-encoding",
              headers={**SOAP_HEADERS, "Content-Encoding": "compress"}),
    generated("gzip-normal", gzipped(lambda c: NORMAL), "bus", "translator", GZIP),
    # a syntax error after the threat does not hide it
    generated("deep-then-junk", then_junk(lambda c: deeply_nested()), "fault:threat.too-deep"),
    generated("deep-then-long-name", lambda c: deep_then_long_name(), "fault:threat.too-deep"),
    generated("attributes-90000-then-junk", then_junk(lambda c: many_attributes(90_000)),
              "fault:threat.too-many-attributes"),
    generated("xinclude-then-junk", then_junk(filled("xinclude-file.xml")), XINCLUDE),
    generated("two-bodies-then-junk", then_junk(filled("two-bodies.xml")), "fault:threat.ambiguous-envelope"),
    generated("utf7-doctype-then-junk", utf7_doctype_then_junk, DOCTYPE),
    # multipart/related (MTOM, SwA): every XML part passes the guard
    generated("multipart-xxe-in-a-part", lambda c: related((ROOT_PART, NORMAL), ("text/xml", c.fill(
        corpus("xxe-file.xml")))), DOCTYPE, headers=MULTIPART),
    generated("multipart-deep-root", lambda c: related((ROOT_PART, deeply_nested())),
              "fault:threat.too-deep", headers=MULTIPART),
    generated("multipart-normal", lambda c: related((ROOT_PART, NORMAL), ("image/png", b"\x89PNG\r\n")),
              "bus", "translator", MULTIPART),
    # every method with a body is read
    with_method("PUT", "put-xxe", filled("xxe-file.xml"), DOCTYPE),
    with_method("PATCH", "patch-deep", lambda c: deeply_nested(), "fault:threat.too-deep"),
    with_method("GET", "get-with-xxe-body", filled("xxe-file.xml"), DOCTYPE),
    with_method("PUT", "put-normal", lambda c: NORMAL, "bus", "fault:routing.method"),
    # path spellings the bus resolves to the same service
    at_path("path-percent-encoded", lambda p: p.replace("/pnc", "/%70nc"), "bus", "translator"),
    at_path("path-dot-segment", lambda p: p.replace("/pnc", "/./pnc"), "bus", "translator"),
    at_path("path-dot-dot", lambda p: p.replace("/pnc", "/cris/../pnc"), "bus", "translator"),
    at_path("path-double-slash", lambda p: p.replace("/pnc", "//pnc"), "bus", "translator"),
]


def check(rig: Rig, item: Item, route: str, answer: Answer, before: tuple[int, int, int]) -> None:
    expected = getattr(item, route)
    bus_lines, bus_received, service_lines = before
    new_bus_lines = rig.bus_lines[bus_lines:]
    new_bus = rig.bus.received[bus_received:]
    new_service = rig.service_lines[service_lines:]
    assert answer.elapsed < BOUND
    assert SECRET.encode() not in answer.body
    assert rig.canary.hits == [], "a file or URL named by the request was read"
    if expected.startswith("fault:"):
        assert answer.status is not None, "closed without a Fault"
        assert answer.status in (500, 431), answer
        assert fault_kind(answer.body) == expected.removeprefix("fault:")
        assert new_bus_lines == [] and new_service == [], "a refused request reached the bus or the service"
    elif expected == "bus":
        assert (answer.status, answer.body) == (200, BUS_ANSWER)
        assert item.body is not None
        assert [r.body for r in new_bus] == [item.body(rig.canary)], "the bus did not get the bytes unchanged"
        assert new_service == []
    elif expected == "translator":
        assert answer.status == 200 and TRANSLATED_MARK in answer.body, answer
        assert new_bus_lines == [] and len(new_service) == 1
    elif expected == "bus:empty":
        # HTTP/1.1: a request with neither Content-Length nor chunking has no body. The bus gets
        # that empty POST; the 50 MB after it are a malformed next request, refused by size.
        assert (answer.status, answer.body) == (200, BUS_ANSWER)
        assert [r.body for r in new_bus] == [b""] and len(new_bus_lines) == 1 and new_service == []
        follow = answer.next
        assert follow is not None
        if follow.status is not None:
            assert fault_kind(follow.body) == "proxy.http-431"
    else:  # pragma: no cover - a typo in the table
        raise AssertionError(f"unknown outcome {expected!r}")


# --- the tests ----------------------------------------------------------------------------------


class _PeakRss:
    """Samples this process's RSS (the proxy runs on a thread here) every few milliseconds."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> "_PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_the_whole_batch_is_answered_in_time_with_memory_bounded(rig: Rig) -> None:
    """First in the module, so the batch runs on a fresh proxy: every item on both routes."""
    rig.assert_serves_normal_traffic()  # connection pools, translator, recorder: warmed up
    gc.collect()
    before = psutil.Process().memory_info().rss
    slowest = 0.0
    with _PeakRss() as rss:
        for item in ITEMS:
            for path in PATHS.values():
                answer = send(rig, item.wire(rig.canary, path), answers=item.answers)
                slowest = max(slowest, answer.elapsed)
    gc.collect()
    after = psutil.Process().memory_info().rss
    assert rss.peak - before < MEMORY_BOUND, f"RSS peaked {(rss.peak - before) >> 20} MB over the start"
    assert after - before < MEMORY_BOUND
    assert slowest < BOUND
    assert rig.canary.hits == []
    rig.assert_serves_normal_traffic()


@pytest.mark.parametrize("route", ["legacy", "translator"])
@pytest.mark.parametrize("item", ITEMS, ids=[item.name for item in ITEMS])
def test_hostile_request(rig: Rig, item: Item, route: str) -> None:
    before = rig.counts()
    answer = send(rig, item.wire(rig.canary, PATHS[route]), answers=item.answers)
    check(rig, item, route, answer, before)
    rig.assert_serves_normal_traffic()


def dribble(rig: Rig, path: str, pause: float) -> tuple[float, bytes | None]:
    """Send headers, then the body one byte every `pause` s until the proxy answers or hangs up.
    Returns the seconds from the headers to that moment and what the proxy sent (None: reset)."""
    sock = socket.create_connection((rig.proxy.host, rig.proxy.port), timeout=BOUND)
    try:
        sock.sendall(request_head(path, {**SOAP_HEADERS, "Content-Length": str(len(NORMAL))}))
        started = time.monotonic()
        for byte in NORMAL:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return time.monotonic() - started, None
            if select.select([sock], [], [], pause)[0]:
                break
            assert time.monotonic() - started < BOUND, "the proxy never cut the client off"
        waited = time.monotonic() - started
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:
            return waited, received or None
        return waited, received
    finally:
        sock.close()


@pytest.mark.parametrize("route", ["legacy", "translator"])
def test_a_dribbling_client_is_cut_off_after_the_body_timeout(rig: Rig, route: str) -> None:
    before = rig.counts()
    waited, received = dribble(rig, PATHS[route], pause=0.5)
    assert CLIENT_BODY_TIMEOUT * 0.9 <= waited < CLIENT_BODY_TIMEOUT + 3
    if received:  # the Fault is written just before the close; a reset may still lose it
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 500")
        assert fault_kind(body) == "client.body-timeout"
    bus_lines, _, service_lines = rig.counts()
    assert (bus_lines, service_lines) == (before[0], before[2]), "the dribble reached the bus or the service"
    assert rig.proxy.state.stats.snapshot().get("client-body-timeout", 0) >= 1
    rig.assert_serves_normal_traffic()


def test_a_slow_client_within_the_timeout_is_served(rig: Rig) -> None:
    sock = socket.create_connection((rig.proxy.host, rig.proxy.port), timeout=BOUND)
    try:
        sock.sendall(request_head(LEGACY, {**SOAP_HEADERS, "Content-Length": str(len(NORMAL))}))
        half = len(NORMAL) // 2
        sock.sendall(NORMAL[:half])
        time.sleep(CLIENT_BODY_TIMEOUT * 0.6)
        sock.sendall(NORMAL[half:])
        answer = _read(_KeepOpen(sock.makefile("rb")), time.monotonic())
    finally:
        sock.close()
    assert (answer.status, answer.body) == (200, BUS_ANSWER)
    assert rig.bus.received[-1].body == NORMAL


def test_client_body_timeout_is_read_from_turnout_yaml(tmp_path: Path) -> None:
    path = tmp_path / "turnout.yaml"
    path.write_text("upstream: http://127.0.0.1:9\ntimeouts: {upstream: 3, client_body: 2.5}\n")
    assert load_proxy_config(path).client_body_timeout == 2.5
    path.write_text("upstream: http://127.0.0.1:9\n")
    assert load_proxy_config(path).client_body_timeout == 10.0
    path.write_text("upstream: http://127.0.0.1:9\ntimeouts: {client_body: soon}\n")
    with pytest.raises(ConfigError) as info:
        load_proxy_config(path)
    assert "client_body" in str(info.value) and ":2" in str(info.value)


class _FetchingResolver(etree.Resolver):
    """What a careless parser with network access does: fetch http URLs (libxml2 here cannot)."""

    def resolve(self, url: str, pubid: str, context: Any) -> Any:
        if url.startswith("http"):
            with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback canary
                return self.resolve_string(reply.read(), context)
        return None


@pytest.mark.parametrize(
    "name",
    ["xxe-file.xml", "xxe-url.xml", "external-dtd.xml", "parameter-entity.xml",
     "parameter-entity-oob.xml", "xinclude-file.xml", "xinclude-url.xml"],
)
def test_the_corpus_is_live_against_a_careless_parser(tmp_path: Path, name: str) -> None:
    """The control: these items do read the canary when a parser lets them, so the proxy's
    zero reads above are its own doing, not a dud corpus."""
    canary = Canary(tmp_path)
    try:
        careless = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)
        careless.resolvers.add(_FetchingResolver())
        try:
            root = etree.fromstring(canary.fill(corpus(name)), careless)
            root.getroottree().xinclude()
            seen = etree.tostring(root)
        except (etree.XMLSyntaxError, etree.XIncludeError):
            seen = b""  # a fetched DTD that is not one: it was read all the same
        assert SECRET.encode() in seen or canary.hits
    finally:
        canary.close()


def test_nothing_was_read_or_leaked_and_threats_were_recorded(rig: Rig) -> None:
    """Last in the module: stop the proxy (its writer drains) and look at everything it kept."""
    rig.stop()
    assert rig.canary.hits == []
    for received in (*rig.bus.received, *rig.service.received):
        assert SECRET.encode() not in received.body
    files = [p for p in rig.record_dir.rglob("*") if p.is_file()]
    assert files
    for recording in files:
        assert SECRET.encode() not in recording.read_bytes()
    notes = {note for exchange in RecordingStore(rig.record_dir).iter_exchanges() for note in exchange.notes}
    expected = {f"threat:{kind}" for kind in (
        "doctype", "xinclude", "too-deep", "too-many-attributes", "too-large", "ambiguous-envelope",
    )}
    assert expected <= notes
    assert "soapaction-mismatch" in notes
