"""Writing an exchange as YAML (the format is described in `_format`).

Bodies go in literal blocks for people and diffs. A block is written by hand (`_yaml`), so it
is the one part of the document that could come back other than it went in; a body is put in a
block only when it provably loads back as the very same text, otherwise base64. "Provably" was
a YAML load of each block, per body; now a text of the shape nearly every XML body has (it
starts with a character that is not whitespace and holds only characters a YAML block keeps as
they are: see `_PLAIN_BLOCK`) is known to round-trip without loading it, and only other texts
are loaded to find out. The rest of the document is PyYAML's safe dumper over strings, numbers,
lists and mappings, whose round trip is PyYAML's own contract; `dumps` checks it whole by
loading the text back (`verify`), which the store does for the first file it writes, as a
check of the library and the format, not for every file (it cost more than the dump itself).

In translator mode the client's answer is the translator's envelope: `translated` then says
`body_same_as: response` instead of holding the same body a second time.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from turnout.soap import HttpRequest, HttpResponse, OperationName

from . import _yaml
from ._errors import RecordingError
from ._exchange import Exchange, OmittedBody
from ._format import CRLF, FORMAT_VERSION, SAME_AS_RESPONSE, VERSION_KEY

#: message mappings sit at column 0, so their keys (and bodies) at column 2
_MESSAGE_KEY_COLUMN = 2

#: A text `_yaml.literal_block` writes so that it loads back unchanged, without trying: its
#: first character is no whitespace (so no indentation indicator is needed and the first line
#: sets the indentation), and every character is one YAML keeps as it is inside a block: tab,
#: line feed and the printable characters, less the other line breaks (CR, NEL, LS, PS: YAML
#: turns them into line feeds) and the byte order mark. Any other text is tried by loading it.
_PLAIN_BLOCK = re.compile(
    "[\x21-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    "[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)


class _Block(str):
    """A string to be written as a literal block scalar."""


def dumps(exchange: Exchange, *, verify: bool = True) -> str:
    """The YAML text of `exchange`. With `verify`, loaded back and compared with what was
    meant before it is returned (a `RecordingError` if it differs); without, only the hand-made
    parts are checked (see the module's docstring)."""
    doc: dict[str, Any] = {
        VERSION_KEY: FORMAT_VERSION,
        "id": exchange.id,
        "started_at": _format_time(exchange.started_at),
        "operation": operation_doc(exchange.operation),
        "soap_version": exchange.soap_version,
        "action": exchange.action,
        "route": exchange.route,
        "outcome": exchange.outcome,
        "notes": list(exchange.notes),
        "client": exchange.client,
    }
    # written when known, so files from before (and the golden files) keep their bytes
    if exchange.request_id:
        doc["request_id"] = exchange.request_id
    if exchange.trace_id:
        doc["trace_id"] = exchange.trace_id
    doc.update({
        "timings": {str(k): float(v) for k, v in exchange.timings.items()},
        "request": _request_doc(exchange.request, exchange.omitted_bodies.get("request")),
        "response": _response_doc(exchange.response, exchange.omitted_bodies.get("response")),
        "extra": exchange.extra,
    })
    if exchange.translated is not None or exchange.translation:
        if _same_body(exchange):
            assert exchange.translated is not None
            doc["translated"] = _response_doc(exchange.translated, None, same_as_response=True)
        else:
            doc["translated"] = _response_doc(
                exchange.translated, exchange.omitted_bodies.get("translated")
            )
        doc["translation"] = exchange.translation
    # Blocks are written by hand (see _yaml): dump a placeholder token, then swap the block in.
    nonce = secrets.token_hex(8)
    placed: dict[str, Any] = dict(doc)
    blocks: list[tuple[str, str]] = []
    for name in ("request", "response", "translated"):
        message = doc.get(name)
        if message is None:
            continue
        placed[name] = dict(message)
        for key, value in message.items():
            if isinstance(value, _Block):
                token = f"turnout-block-{nonce}-{len(blocks)}"
                placed[name][key] = token
                indent = " " * _MESSAGE_KEY_COLUMN
                block = _yaml.literal_block(value, _MESSAGE_KEY_COLUMN)
                blocks.append((f"{indent}{key}: {token}\n", f"{indent}{key}: {block}"))
    try:
        text = _yaml.dump(placed)
    except _yaml.YAMLError as exc:
        # not str(exc): it can quote the data, and the data may be personal
        problem = exc.args[0] if exc.args and isinstance(exc.args[0], str) else type(exc).__name__
        raise RecordingError(
            f"cannot serialise: {problem}", source=f"exchange {exchange.id}"
        ) from exc
    for placeholder, block in blocks:
        if text.count(placeholder) != 1:
            raise RecordingError("body placeholder lost", source=f"exchange {exchange.id}")
        text = text.replace(placeholder, block)
    if verify:
        _verify(text, doc, exchange.id)
    return text


def _same_body(exchange: Exchange) -> bool:
    """Whether the translated envelope is the client's answer, byte for byte (translator mode)."""
    translated, response = exchange.translated, exchange.response
    return (
        translated is not None and response is not None and bool(translated.body)
        and translated.body == response.body
        and "translated" not in exchange.omitted_bodies and "response" not in exchange.omitted_bodies
    )


def _verify(text: str, doc: dict[str, Any], exchange_id: str) -> None:
    """Refuse to hand out text that would not load back to exactly what was meant."""
    try:
        loaded = _yaml.load(text)
    except _yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__  # no snippet of the data
        raise RecordingError(
            f"serialised form does not load: {problem}", source=f"exchange {exchange_id}"
        ) from exc
    if loaded != doc:
        differing = sorted(k for k in doc if loaded.get(k) != doc[k])
        raise RecordingError(
            f"serialised form does not round-trip ({', '.join(differing)})",
            source=f"exchange {exchange_id}",
        )


def _format_time(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def operation_doc(operation: OperationName | None) -> dict[str, str] | None:
    if operation is None:
        return None
    return {"service": operation.service, "name": operation.name, "namespace": operation.namespace}


def _headers_doc(headers: list[tuple[str, str]]) -> list[_yaml.FlowList]:
    return [_yaml.FlowList([name, value]) for name, value in headers]


def _request_doc(request: HttpRequest, omitted: OmittedBody | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "headers": _headers_doc(request.headers),
    }
    doc.update(_body_doc(request.body, omitted))
    return doc


def _response_doc(
    response: HttpResponse | None, omitted: OmittedBody | None, same_as_response: bool = False
) -> Any:
    if response is None:
        return None
    doc: dict[str, Any] = {
        "status": response.status,
        "reason": response.reason,
        "headers": _headers_doc(response.headers),
    }
    if same_as_response:
        doc["body_same_as"] = SAME_AS_RESPONSE
    else:
        doc.update(_body_doc(response.body, omitted))
    return doc


def _body_doc(body: bytes, omitted: OmittedBody | None) -> dict[str, Any]:
    if omitted is not None:
        return {
            "body_omitted": omitted.reason,
            "body_sha256": omitted.sha256,
            "body_length": omitted.length,
        }
    if not body:
        return {"body": ""}
    text, newline = _readable_text(body)
    if text is not None and _block_round_trips(text):
        doc: dict[str, Any] = {"body_newline": newline} if newline else {}
        doc["body"] = _Block(text)
        return doc
    return {"body_base64": _Block(base64.encodebytes(body).decode("ascii"))}


def _readable_text(body: bytes) -> tuple[str | None, str | None]:
    """The body as text for a literal block, and the line ending to restore, if it has one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, None
    if "\r" not in text:
        return text, None
    crlf = text.count("\r\n")
    if crlf == text.count("\r") == text.count("\n"):
        return text.replace("\r\n", "\n"), CRLF
    return None, None  # mixed or bare CRs: YAML would turn them into LFs


def _block_round_trips(text: str) -> bool:
    if _PLAIN_BLOCK.fullmatch(text):
        return True
    return _block_loads_back(text)


def _block_loads_back(text: str) -> bool:
    """Whether `text` written as a block loads back the same: tried, by loading it."""
    probe = f"m:\n  body: {_yaml.literal_block(text, _MESSAGE_KEY_COLUMN)}  end: 0\n"
    try:
        loaded = _yaml.load(probe)
    except _yaml.YAMLError:
        return False
    return bool(loaded == {"m": {"body": text, "end": 0}})
