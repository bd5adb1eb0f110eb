"""Writing an exchange as YAML (the format is described in `_format`).

Bodies go in literal blocks for people and diffs, but only once loading the block back has been
shown to give the very same text; otherwise base64. The whole document is checked the same way.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone
from typing import Any

from turnout.soap import HttpRequest, HttpResponse, OperationName

from . import _yaml
from ._errors import RecordingError
from ._exchange import Exchange, OmittedBody
from ._format import CRLF, FORMAT_VERSION, VERSION_KEY

#: message mappings sit at column 0, so their keys (and bodies) at column 2
_MESSAGE_KEY_COLUMN = 2


class _Block(str):
    """A string to be written as a literal block scalar."""


def dumps(exchange: Exchange) -> str:
    """The YAML text of `exchange`. Verified to load back to the same data before returning."""
    doc: dict[str, Any] = {
        VERSION_KEY: FORMAT_VERSION,
        "id": exchange.id,
        "started_at": _format_time(exchange.started_at),
        "operation": _operation_doc(exchange.operation),
        "soap_version": exchange.soap_version,
        "action": exchange.action,
        "route": exchange.route,
        "outcome": exchange.outcome,
        "notes": list(exchange.notes),
        "client": exchange.client,
        "timings": {str(k): float(v) for k, v in exchange.timings.items()},
        "request": _request_doc(exchange.request, exchange.omitted_bodies.get("request")),
        "response": _response_doc(exchange.response, exchange.omitted_bodies.get("response")),
        "extra": exchange.extra,
    }
    if exchange.translated is not None or exchange.translation:
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
    _verify(text, doc, exchange.id)
    return text


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
    text = moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")


def _operation_doc(operation: OperationName | None) -> dict[str, str] | None:
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


def _response_doc(response: HttpResponse | None, omitted: OmittedBody | None) -> Any:
    if response is None:
        return None
    doc: dict[str, Any] = {
        "status": response.status,
        "reason": response.reason,
        "headers": _headers_doc(response.headers),
    }
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
    probe = f"m:\n  body: {_yaml.literal_block(text, _MESSAGE_KEY_COLUMN)}  end: 0\n"
    try:
        loaded = _yaml.load(probe)
    except _yaml.YAMLError:
        return False
    return bool(loaded == {"m": {"body": text, "end": 0}})
