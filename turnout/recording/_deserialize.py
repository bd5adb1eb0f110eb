"""Reading an exchange back from YAML, with errors that name file, line and field."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, NoReturn

from turnout.soap import HttpRequest, HttpResponse, OperationName

from . import _yaml
from ._errors import RecordingError
from ._exchange import TOKEN, TRACE_ID, Exchange, OmittedBody, is_exchange_id
from ._format import (
    BODY_KEYS,
    CRLF,
    FORMAT_VERSION,
    REQUEST_KEYS,
    RESPONSE_KEYS,
    SAME_AS_RESPONSE,
    TOP_KEYS,
    TRANSLATED_BODY_KEYS,
    VERSION_KEY,
)

_EMPTY = _yaml.MarkedDict()


class _Reader:
    """Reads fields out of a loaded document, failing with file, line and field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, problem: str, where: str | None, line: int | None = None) -> NoReturn:
        raise RecordingError(problem, source=self.source, line=line, field=where)

    def bad(self, doc: _yaml.MarkedDict, key: str, problem: str, within: str = "") -> NoReturn:
        """Fail about `key` of `doc` (a mapping at `within`), on the key's own line."""
        self.fail(problem, f"{within}.{key}" if within else key, doc.line_of(key))

    def mapping(self, value: Any, where: str, line: int | None) -> _yaml.MarkedDict:
        if not isinstance(value, _yaml.MarkedDict):
            self.fail(f"expected a mapping, got {_kind(value)}", where, line)
        return value

    def check_keys(self, doc: _yaml.MarkedDict, allowed: tuple[str, ...], where: str) -> None:
        for key in doc:
            if key not in allowed:
                self.fail(
                    f"unknown key {key!r} (expected one of {', '.join(allowed)})",
                    where or None,
                    doc.line_of(key),
                )

    def get(
        self,
        doc: _yaml.MarkedDict,
        key: str,
        types: type | tuple[type, ...],
        where: str,
        *,
        optional: bool = False,
    ) -> Any:
        path = f"{where}.{key}" if where else key
        if key not in doc:
            if optional:
                return None
            self.fail("missing", path, doc.line)
        value = doc[key]
        if value is None and optional:
            return None
        # bool is an int in Python, never in a recording
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
            self.bad(doc, key, f"expected {_names(types)}, got {_kind(value)}", where)
        return value


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _names(types: type | tuple[type, ...]) -> str:
    words = {str: "a string", int: "an integer", float: "a number", list: "a list"}
    words[dict] = "a mapping"
    return " or ".join(words.get(t, t.__name__) for t in _tuple(types))


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"[:80]


def loads(text: str, source: str) -> Exchange:
    """Read the exchange in `text`, which came from `source` (named in every error)."""
    try:
        data = _yaml.load(text)
    except _yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise RecordingError(f"not valid YAML: {problem}", source=source, line=line) from exc
    except _yaml.YAMLError as exc:
        raise RecordingError(f"not valid YAML: {exc}", source=source) from exc
    r = _Reader(source)
    doc = r.mapping(data, "", None)
    version = r.get(doc, VERSION_KEY, int, "")
    if version != FORMAT_VERSION:
        r.bad(doc, VERSION_KEY, f"format version {version}; this Turnout reads {FORMAT_VERSION}")
    r.check_keys(doc, TOP_KEYS, "")

    exchange_id = r.get(doc, "id", str, "")
    if not is_exchange_id(exchange_id):
        r.bad(doc, "id", f"{exchange_id!r} is not an exchange id")
    started_at = _read_time(r, doc)
    route = r.get(doc, "route", str, "")
    if not TOKEN.fullmatch(route):
        r.bad(doc, "route", f"{route!r} is not a route name")
    outcome = r.get(doc, "outcome", str, "")
    if not TOKEN.fullmatch(outcome):
        r.bad(doc, "outcome", f"{outcome!r} is not an outcome name")
    soap_version = r.get(doc, "soap_version", (str, float), "", optional=True)
    if soap_version is not None:
        soap_version = str(soap_version)  # a hand-edited, unquoted 1.1 loads as a float
        if soap_version not in ("1.1", "1.2"):
            r.bad(doc, "soap_version", f"{soap_version!r} is not 1.1 or 1.2")

    notes = r.get(doc, "notes", list, "", optional=True) or []
    if not all(isinstance(n, str) for n in notes):
        r.bad(doc, "notes", "expected a list of strings")
    timings: _yaml.MarkedDict = r.get(doc, "timings", dict, "", optional=True) or _EMPTY
    for key, value in timings.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            r.bad(timings, str(key), f"expected a number, got {_kind(value)}", "timings")
    extra = r.get(doc, "extra", dict, "", optional=True) or {}
    trace_id = r.get(doc, "trace_id", str, "", optional=True) or ""
    if trace_id and not TRACE_ID.fullmatch(trace_id):
        r.bad(doc, "trace_id", f"{trace_id!r} is not a W3C trace id (32 lower-case hex digits)")

    omitted: dict[str, OmittedBody] = {}
    request_doc = r.mapping(doc.get("request"), "request", doc.line_of("request"))
    request = _read_request(r, request_doc, omitted)
    response = None
    response_doc = doc.get("response")
    if response_doc is not None:
        response = _read_response(
            r, r.mapping(response_doc, "response", doc.line_of("response")), omitted
        )
    translated = None
    translated_doc = doc.get("translated")
    if translated_doc is not None:
        translated = _read_response(
            r, r.mapping(translated_doc, "translated", doc.line_of("translated")), omitted,
            "translated", response,
        )
    translation = r.get(doc, "translation", dict, "", optional=True) or {}

    return Exchange(
        id=exchange_id,
        started_at=started_at,
        operation=_read_operation(r, doc),
        soap_version=soap_version,
        action=r.get(doc, "action", str, "", optional=True),
        route=route,
        outcome=outcome,
        notes=list(notes),
        client=r.get(doc, "client", str, ""),
        request_id=r.get(doc, "request_id", str, "", optional=True) or "",
        trace_id=trace_id,
        request=request,
        response=response,
        translated=translated,
        translation=_plain(translation),
        timings={str(k): float(v) for k, v in timings.items()},
        extra=_plain(extra),
        omitted_bodies=omitted,
    )


def _read_time(r: _Reader, doc: _yaml.MarkedDict) -> datetime:
    value: str | datetime = r.get(doc, "started_at", (str, datetime), "")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            r.bad(doc, "started_at", f"{value!r} is not an ISO 8601 time")
    if value.tzinfo is None:
        # YAML's own timestamps load as naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _read_operation(r: _Reader, doc: _yaml.MarkedDict) -> OperationName | None:
    value = r.get(doc, "operation", dict, "", optional=True)
    if value is None:
        return None
    r.check_keys(value, ("service", "name", "namespace"), "operation")
    return OperationName(
        service=r.get(value, "service", str, "operation"),
        name=r.get(value, "name", str, "operation"),
        namespace=r.get(value, "namespace", str, "operation", optional=True) or "",
    )


def _read_headers(r: _Reader, doc: _yaml.MarkedDict, where: str) -> list[tuple[str, str]]:
    headers = r.get(doc, "headers", list, where, optional=True) or []
    result = []
    for index, pair in enumerate(headers):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(part, str) for part in pair)
        ):
            r.fail(
                f"expected a [name, value] pair of strings, got {_kind(pair)}",
                f"{where}.headers[{index}]",
                doc.line_of("headers"),
            )
        result.append((pair[0], pair[1]))
    return result


def _read_request(
    r: _Reader, doc: _yaml.MarkedDict, omitted: dict[str, OmittedBody]
) -> HttpRequest:
    r.check_keys(doc, REQUEST_KEYS + BODY_KEYS, "request")
    return HttpRequest(
        method=r.get(doc, "method", str, "request"),
        path=r.get(doc, "path", str, "request"),
        headers=_read_headers(r, doc, "request"),
        body=_read_body(r, doc, "request", omitted),
    )


def _read_response(
    r: _Reader, doc: _yaml.MarkedDict, omitted: dict[str, OmittedBody], where: str = "response",
    response: HttpResponse | None = None,
) -> HttpResponse:
    """A response message; `translated` (`where`) may say its body is `response`'s."""
    translated = where == "translated"
    r.check_keys(doc, RESPONSE_KEYS + (TRANSLATED_BODY_KEYS if translated else BODY_KEYS), where)
    return HttpResponse(
        status=r.get(doc, "status", int, where),
        reason=r.get(doc, "reason", str, where, optional=True) or "",
        headers=_read_headers(r, doc, where),
        body=_read_body(r, doc, where, omitted, response if translated else None, translated),
    )


def _read_body(
    r: _Reader, doc: _yaml.MarkedDict, where: str, omitted: dict[str, OmittedBody],
    response: HttpResponse | None = None, may_refer: bool = False,
) -> bytes:
    names = ("body", "body_base64", "body_omitted") + (("body_same_as",) if may_refer else ())
    forms = [key for key in names if key in doc]
    if len(forms) != 1:
        r.fail(
            f"needs exactly one of {', '.join(names)}"
            + (f", has {', '.join(forms)}" if forms else ""),
            where,
            doc.line,
        )
    form = forms[0]
    if form != "body" and "body_newline" in doc:
        r.bad(doc, "body_newline", "only goes with body", where)
    if form == "body_same_as":
        if "body_sha256" in doc or "body_length" in doc:
            r.fail("body_sha256 and body_length only go with body_omitted", where, doc.line)
        if r.get(doc, "body_same_as", str, where) != SAME_AS_RESPONSE:
            r.bad(doc, "body_same_as", f"the only message it can name is {SAME_AS_RESPONSE}", where)
        if response is None or not response.body:
            r.bad(doc, "body_same_as", "names the response, which holds no body", where)
        return response.body
    if form == "body":
        text: str = r.get(doc, "body", str, where)
        newline = r.get(doc, "body_newline", str, where, optional=True)
        if newline not in (None, CRLF):
            r.bad(doc, "body_newline", f"{newline!r} is not {CRLF}", where)
        if newline == CRLF:
            text = text.replace("\n", "\r\n")
        return text.encode("utf-8")
    if form == "body_base64":
        encoded: str = r.get(doc, "body_base64", str, where)
        try:
            return base64.b64decode("".join(encoded.split()).encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            r.bad(doc, "body_base64", "not valid base64", where)
    sha256 = r.get(doc, "body_sha256", str, where)
    length = r.get(doc, "body_length", int, where)
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        r.bad(doc, "body_sha256", "expected 64 lower-case hex digits", where)
    omitted[where] = OmittedBody(
        reason=r.get(doc, "body_omitted", str, where), sha256=sha256, length=length
    )
    return b""


def _plain(value: Any) -> Any:
    """Loaded data without the line bookkeeping, so it compares and copies like plain dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
