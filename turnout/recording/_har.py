"""HAR 1.2 out of recordings, and recordings out of HAR files (browsers' devtools, mitmproxy...).

Out: `exchanges_to_har` writes exchanges exactly as they are stored. Stored exchanges are already
redacted (pseudonyms, `REDACTED` credentials), and nothing here reverses that or needs the key.
What HAR has no field for (operation, route, outcome, notes, timings, the translation, the
translated envelope, omitted bodies) goes in a custom field `_turnout` on each entry, as HAR
allows for fields starting with `_`, so an export read back by `har_to_exchanges` loses nothing.

In: `har_to_exchanges` checks the whole document first and raises `HarError` naming the entry
and field (`log.entries[3].request.headers[1].value: expected a string, got int`) before it
builds anything, so a bad file writes nothing. Each entry's request is named by the `Namer` the
caller passes: the proxy's own inspection (`turnout.gateway.inspect_request`, which this
package may not import; the CLI passes it in), so an imported exchange is filed under the
operation the proxy would have filed it under. Entries that are not SOAP operations (images,
scripts, a GET of a WSDL, anything that is not a readable envelope) are skipped, each with why.

Bodies come back as the bytes on the wire as far as HAR can tell: base64 text decoded; other
text encoded in the charset its Content-Type names (else UTF-8). HAR's `text` is decoded
("HTTP decoded (decompressed & unchunked)"), yet its headers still say `Content-Encoding: gzip`;
such a body is handed over without Content-Encoding and Content-Length and with a note. A body
that really is compressed (a tool that stored the bytes as sent) keeps its header, and the store
decodes it as it does the proxy's (`_decode`). Nothing here redacts: the exchanges go to a
`RecordingStore`, which decodes and redacts them before anything touches disk.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from turnout import __version__
from turnout.soap import (
    HttpRequest,
    HttpResponse,
    OperationName,
    XmlThreat,
    decode_content,
    header,
    is_encoded,
)

from ._decode import DEFAULT_MAX_DECODED, content_encoding
from ._errors import RecordingError
from ._exchange import TOKEN, TRACE_ID, Exchange, OmittedBody, is_exchange_id, new_exchange_id
from ._serialize import operation_doc

HAR_VERSION = "1.2"
#: the custom field of each entry holding what HAR has no field for
TURNOUT_FIELD = "_turnout"
#: the host of an exported URL when the request had no Host header
_NO_HOST = "turnout.invalid"
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
#: what a creator's name may add to an imported exchange's note
_CREATOR = re.compile(r"[^A-Za-z0-9 ._-]")
#: headers describing the encoded bytes, dropped when HAR's text is already decoded
_WIRE_HEADERS = frozenset({"content-encoding", "content-length"})
_MESSAGES = ("request", "response", "translated")


class HarError(RecordingError):
    """A HAR document that cannot be read: `field` names where (`log.entries[2].request.url`)."""


@dataclass(frozen=True)
class Naming:
    """What the proxy's inspection makes of one request.

    `outcome`: `forwarded` (a readable envelope, named), `passthrough` (no body: a WSDL GET),
    `unreadable` (not an envelope), `rejected` (a threat the guard refuses), or
    `mismatch-rejected`.
    """

    outcome: str
    operation: OperationName | None = None
    soap_version: str | None = None
    action: str | None = None
    notes: tuple[str, ...] = ()


#: names a request as the proxy would; see `Naming`
Namer = Callable[[HttpRequest], Naming]


@dataclass(frozen=True)
class HarSkip:
    """An entry that did not become an exchange, and why (`reason` never quotes a body)."""

    index: int
    url: str
    reason: str


@dataclass
class HarImport:
    """What `har_to_exchanges` made of a document."""

    exchanges: list[Exchange] = field(default_factory=list)
    skipped: list[HarSkip] = field(default_factory=list)
    #: the `log.creator.name` of the document ("" when absent)
    creator: str = ""


# -- out ------------------------------------------------------------------------------------


def exchanges_to_har(exchanges: Iterable[Exchange]) -> dict[str, Any]:
    """A HAR 1.2 document (a `dict` ready for `json.dumps`) of `exchanges`, as they are."""
    return {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "turnout", "version": __version__},
            "entries": [_entry(exchange) for exchange in exchanges],
        }
    }


def _entry(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    total = float(exchange.timings.get("total", 0.0))
    host = header(request.headers, "host") or _NO_HOST
    har_request: dict[str, Any] = {
        "method": request.method,
        "url": f"http://{host}{request.path}",
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _headers_out(request.headers),
        "queryString": [{"name": name, "value": value} for name, value
                        in parse_qsl(urlsplit(request.path).query, keep_blank_values=True)],
        "headersSize": -1,
        "bodySize": len(request.body),
    }
    if request.body or "request" in exchange.omitted_bodies:
        har_request["postData"] = {"mimeType": header(request.headers, "content-type") or "",
                                   **_text_out(request.body, request.headers)}
    return {
        "startedDateTime": exchange.started_at.isoformat(),
        "time": total,
        "request": har_request,
        "response": _response_out(exchange.response),
        "cache": {},
        "timings": {"send": 0.0, "wait": total, "receive": 0.0},
        TURNOUT_FIELD: _turnout_out(exchange),
    }


def _response_out(response: HttpResponse | None) -> dict[str, Any]:
    if response is None:  # no answer (the bus was down): as mitmproxy writes a flow without one
        return {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1,
                "bodySize": -1}
    content_type = header(response.headers, "content-type") or ""
    return {
        "status": response.status,
        "statusText": response.reason,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _headers_out(response.headers),
        "content": {"size": len(response.body), "mimeType": content_type,
                    **_text_out(response.body, response.headers)},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(response.body),
    }


def _turnout_out(exchange: Exchange) -> dict[str, Any]:
    translated = exchange.translated
    return {
        "id": exchange.id,
        "operation": operation_doc(exchange.operation),
        "soap_version": exchange.soap_version,
        "action": exchange.action,
        "route": exchange.route,
        "outcome": exchange.outcome,
        "notes": list(exchange.notes),
        "client": exchange.client,
        "timings": dict(exchange.timings),
        "translation": exchange.translation,
        "translated": None if translated is None else {
            "status": translated.status, "reason": translated.reason,
            "headers": _headers_out(translated.headers),
            **_text_out(translated.body, translated.headers)},
        "omitted": {which: {"reason": body.reason, "sha256": body.sha256, "length": body.length}
                    for which, body in exchange.omitted_bodies.items()},
        "extra": exchange.extra,
        "request_id": exchange.request_id,
        "trace_id": exchange.trace_id,
    }


def _headers_out(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _charset(headers: list[tuple[str, str]], mime_type: str = "") -> str:
    """The codec the Content-Type (else `mime_type`) names, when Python knows it; else UTF-8."""
    for value in (header(headers, "content-type"), mime_type):
        match = _CHARSET.search(value or "")
        if match:
            try:
                return codecs.lookup(match.group(1)).name
            except LookupError:
                return "utf-8"
    return "utf-8"


def _text_out(body: bytes, headers: list[tuple[str, str]]) -> dict[str, str]:
    """`{"text": ...}` when the body reads back to the same bytes in its charset, else
    `{"text": <base64>, "encoding": "base64"}`."""
    charset = _charset(headers)
    try:
        text = body.decode(charset)
        if text.encode(charset) == body:
            return {"text": text}
    except (UnicodeError, LookupError):
        pass
    return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


# -- in -------------------------------------------------------------------------------------


class _Checked:
    """Reads one value of the document, raising `HarError` at `where` when it has the wrong type."""

    def __init__(self, value: Any, where: str) -> None:
        self.value = value
        self.where = where

    def fail(self, problem: str) -> HarError:
        return HarError(problem, field=self.where)

    def _kind(self, expected: str, ok: bool) -> None:
        if not ok:
            raise self.fail(f"expected {expected}, got {_type_name(self.value)}")

    def mapping(self) -> dict[str, Any]:
        self._kind("an object", isinstance(self.value, dict))
        return dict(self.value)

    def get(self, key: str, required: bool = True) -> _Checked | None:
        data = self.mapping()
        if key not in data:
            if required:
                raise HarError(f"missing field {key!r}", field=self.where)
            return None
        return _Checked(data[key], f"{self.where}.{key}")

    def need(self, key: str) -> _Checked:
        found = self.get(key)
        assert found is not None
        return found

    def items(self) -> list[_Checked]:
        self._kind("a list", isinstance(self.value, list))
        return [_Checked(item, f"{self.where}[{index}]") for index, item in enumerate(self.value)]

    def string(self) -> str:
        self._kind("a string", isinstance(self.value, str))
        return str(self.value)

    def optional_string(self) -> str | None:
        return None if self.value is None else self.string()

    def integer(self) -> int:
        self._kind("an integer", isinstance(self.value, int) and not isinstance(self.value, bool))
        return int(self.value)

    def number(self) -> float:
        self._kind("a number", isinstance(self.value, (int, float))
                   and not isinstance(self.value, bool))
        return float(self.value)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value),
                                                                          type(value).__name__)


def har_to_exchanges(
    doc: Any,
    name: Namer,
    *,
    as_stored: bool = False,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED,
) -> HarImport:
    """The exchanges a parsed HAR document holds, and the entries skipped with why.

    Every entry is checked before any is built: a wrong type or a missing field anywhere raises
    `HarError` naming entry and field. `name` names each request as the proxy does (see
    `Naming`); only readable envelopes become exchanges. With `as_stored` the document must be
    a Turnout export (every entry has `_turnout`), and its `extra` data is kept too (no
    redactor reads `extra`, so it is taken only from a file Turnout itself wrote).
    """
    root = _Checked(doc, "har")
    log = root.need("log")
    log.where = "log"
    version = log.need("version").string()
    if not re.fullmatch(r"1\.\d+", version):
        raise HarError(f"HAR version {version!r} is not 1.x", field="log.version")
    creator = ""
    if (creator_node := log.get("creator", required=False)) is not None:
        if (creator_name := creator_node.get("name", required=False)) is not None:
            creator = creator_name.string()
    entries = log.need("entries").items()
    parsed = [_read_entry(entry, as_stored, max_decoded_bytes) for entry in entries]
    result = HarImport(creator=creator)
    note = f"imported from HAR ({_CREATOR.sub('', creator)[:40] or 'unknown tool'})"
    for index, entry in enumerate(parsed):
        why = entry.skip or _build(entry, name, note, result)
        if why is not None:
            result.skipped.append(HarSkip(index, entry.url, why))
    return result


@dataclass
class _Entry:
    """One entry, checked and decoded, not yet named."""

    where: str
    url: str
    started_at: datetime
    time: float | None
    request: HttpRequest
    response: HttpResponse | None
    notes: list[str]
    turnout: dict[str, Any] | None
    #: why this entry is no HTTP request at all (a `data:` URL), or None
    skip: str | None = None


def _read_entry(entry: _Checked, as_stored: bool, max_bytes: int) -> _Entry:
    """The entry checked and decoded (raises `HarError` at the first wrong field)."""
    entry.mapping()
    started = entry.need("startedDateTime")
    try:
        started_at = datetime.fromisoformat(started.string())
    except ValueError:
        raise started.fail(f"{started.value!r} is not an ISO 8601 date and time") from None
    if started_at.tzinfo is None or started_at.utcoffset() is None:
        raise started.fail(f"{started.value!r} has no UTC offset (HAR times carry one)")
    time_node = entry.get("time", required=False)
    time = time_node.number() if time_node is not None else None
    request_node = entry.need("request")
    method = request_node.need("method").string()
    url_node = request_node.need("url")
    url = url_node.string()
    headers = _headers_in(request_node.get("headers", required=False))
    body: bytes = b""
    notes: list[str] = []
    if (post := request_node.get("postData", required=False)) is not None:
        mime = post.get("mimeType", required=False)
        body = _body_in(post, headers, mime.string() if mime is not None else "")
        headers, body = _decoded_already("request", headers, body, notes, max_bytes)
    response = _response_in(entry.need("response"), notes, max_bytes)
    turnout = None
    if (extra := entry.get(TURNOUT_FIELD, required=False)) is not None:
        turnout = _turnout_in(extra, as_stored)
    elif as_stored:
        raise HarError("missing: --as-stored takes only a HAR file Turnout exported",
                       field=f"{entry.where}.{TURNOUT_FIELD}")
    parts = urlsplit(url)
    skip = None
    if parts.scheme.lower() not in ("http", "https"):
        skip = f"not an HTTP request ({parts.scheme or 'no'} URL)"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = HttpRequest(method, path, headers, body)
    return _Entry(entry.where, url, started_at, time, request, response, notes, turnout, skip)


def _headers_in(node: _Checked | None) -> list[tuple[str, str]]:
    if node is None:
        return []
    headers = []
    for item in node.items():
        name = item.need("name").string()
        value = item.need("value").string()
        if not name.startswith(":"):  # HTTP/2 pseudo-headers (Chrome): the URL says it all
            headers.append((name, value))
    return headers


def _body_in(node: _Checked, headers: list[tuple[str, str]], mime_type: str) -> bytes:
    """The bytes of a `postData` or `content` object's `text` (absent: none)."""
    text_node = node.get("text", required=False)
    if text_node is None or text_node.value is None:
        return b""
    text = text_node.string()
    encoding_node = node.get("encoding", required=False)
    encoding = encoding_node.optional_string() if encoding_node is not None else None
    if encoding:
        if encoding.lower() != "base64":
            assert encoding_node is not None
            raise encoding_node.fail(f"unknown text encoding {encoding!r} (HAR knows base64)")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise text_node.fail("not valid base64, though encoding says base64") from None
    charset = _charset(headers, mime_type)
    try:
        return text.encode(charset)
    except UnicodeError:
        return text.encode("utf-8", "surrogatepass")


def _decoded_already(
    which: str, headers: list[tuple[str, str]], body: bytes, notes: list[str], max_bytes: int
) -> tuple[list[tuple[str, str]], bytes]:
    """HAR's text is decoded although the headers still say Content-Encoding: then the headers
    go (they describe bytes HAR did not keep) and a note says so. A body that does decode (a
    tool that kept the wire bytes) is left for the store to decode as it does the proxy's."""
    coding = content_encoding(headers)
    if not body or not is_encoded(coding):
        return headers, body
    assert coding is not None
    try:
        decode_content(body, coding, max_bytes)
    except XmlThreat as exc:
        if exc.kind != "bad-encoding":
            return headers, body  # compressed, too large to keep: the store omits it, as it would
        notes.append(f"{which}: HAR text already decoded ({coding})")
        return [(k, v) for k, v in headers if k.lower() not in _WIRE_HEADERS], body
    return headers, body


def _response_in(node: _Checked, notes: list[str], max_bytes: int) -> HttpResponse | None:
    status = node.need("status").integer()
    if status == 0:  # no answer: the HAR convention (mitmproxy, browsers) for a failed request
        return None
    if not 100 <= status <= 999:
        raise node.need("status").fail(f"{status} is not an HTTP status")
    reason_node = node.get("statusText", required=False)
    reason = reason_node.string() if reason_node is not None else ""
    headers = _headers_in(node.get("headers", required=False))
    body = b""
    if (content := node.get("content", required=False)) is not None:
        mime = content.get("mimeType", required=False)
        body = _body_in(content, headers, mime.string() if mime is not None else "")
        headers, body = _decoded_already("response", headers, body, notes, max_bytes)
    return HttpResponse(status, headers, body, reason)


def _turnout_in(node: _Checked, as_stored: bool) -> dict[str, Any]:
    """The `_turnout` field checked: every value of the type `_turnout_out` writes."""
    node.mapping()
    found: dict[str, Any] = {}
    if (id_node := node.get("id", required=False)) is not None:
        exchange_id = id_node.string()
        if not is_exchange_id(exchange_id):
            raise id_node.fail(f"{exchange_id!r} is not an exchange id")
        found["id"] = exchange_id
    for key in ("route", "outcome"):
        if (value := node.get(key, required=False)) is not None:
            found[key] = value.string()
            if not TOKEN.fullmatch(found[key]):
                raise value.fail(f"{found[key]!r} is not a lower-case token like 'forwarded'")
    for key in ("client", "request_id"):
        if (value := node.get(key, required=False)) is not None:
            found[key] = value.string()
    if (trace := node.get("trace_id", required=False)) is not None:
        found["trace_id"] = trace.string()
        if found["trace_id"] and not TRACE_ID.fullmatch(found["trace_id"]):
            raise trace.fail(f"{found['trace_id']!r} is not a W3C trace id (32 lower-case hex digits)")
    if (notes := node.get("notes", required=False)) is not None:
        found["notes"] = [item.string() for item in notes.items()]
    if (timings := node.get("timings", required=False)) is not None:
        found["timings"] = {key: _Checked(value, f"{timings.where}.{key}").number()
                            for key, value in timings.mapping().items()}
    if (translation := node.get("translation", required=False)) is not None:
        found["translation"] = translation.mapping()
    if (translated := node.get("translated", required=False)) is not None and translated.value is not None:
        headers = _headers_in(translated.get("headers", required=False))
        reason = translated.get("reason", required=False)
        found["translated"] = HttpResponse(
            translated.need("status").integer(), headers, _body_in(translated, headers, ""),
            reason.string() if reason is not None else "")
    if (omitted := node.get("omitted", required=False)) is not None:
        found["omitted"] = {}
        for which, value in omitted.mapping().items():
            body = _Checked(value, f"{omitted.where}.{which}")
            if which not in _MESSAGES:
                raise body.fail(f"{which!r} is not one of {', '.join(_MESSAGES)}")
            found["omitted"][which] = OmittedBody(body.need("reason").string(),
                                                  body.need("sha256").string(),
                                                  body.need("length").integer())
    if (extra := node.get("extra", required=False)) is not None:
        data = extra.mapping()
        if as_stored:
            found["extra"] = data
    return found


def _build(entry: _Entry, name: Namer, note: str, result: HarImport) -> str | None:
    """Add the entry's exchange to `result`; or return why it is not one."""
    request = entry.request
    turnout = entry.turnout or {}
    omitted: dict[str, OmittedBody] = dict(turnout.get("omitted", {}))
    if "request" in omitted and not request.body:
        return f"request body was not stored ({omitted['request'].reason})"
    naming = name(request)
    if naming.outcome == "passthrough":
        return f"{request.method} without a body: not a SOAP call"
    if naming.outcome == "rejected":
        return f"refused by the proxy's guard ({', '.join(naming.notes) or 'rejected'})"
    if naming.operation is None:
        reason = next((n.removeprefix("unreadable: ") for n in naming.notes
                       if n.startswith("unreadable")), "not an envelope")
        return f"not a SOAP envelope ({reason})"
    if entry.turnout is None:
        notes = [*naming.notes, note, *entry.notes]
        timings = {"total": entry.time} if entry.time is not None and entry.time >= 0 else {}
        outcome = "forwarded" if entry.response is not None else "upstream-error"
        started_at = entry.started_at.astimezone(UTC)
        fields: dict[str, Any] = {"id": new_exchange_id(started_at), "route": "legacy",
                                  "outcome": outcome, "client": ""}
    else:
        notes = list(turnout.get("notes", [])) + entry.notes
        timings = turnout.get("timings", {})
        fields = {key: turnout[key] for key in ("id", "route", "outcome", "client", "request_id",
                                                "trace_id") if key in turnout}
        fields.setdefault("client", "")
        started_at = entry.started_at
    try:
        exchange = Exchange(
            **fields, started_at=started_at, request=request, response=entry.response,
            operation=naming.operation, soap_version=naming.soap_version, action=naming.action,
            notes=notes, timings=timings, translation=dict(turnout.get("translation", {})),
            translated=turnout.get("translated"), extra=dict(turnout.get("extra", {})),
            omitted_bodies=omitted,
        )
    except ValueError as exc:
        raise HarError(str(exc), field=f"{entry.where}.{TURNOUT_FIELD}") from None
    result.exchanges.append(exchange)
    return None
