"""Reading a JSON request body: JSON by Content-Type, at most `MAX_BODY_BYTES`, an object."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from ._problem import MALFORMED_JSON, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, Problem

MAX_BODY_BYTES = 1024 * 1024


def _too_large() -> Problem:
    return Problem(PAYLOAD_TOO_LARGE, f"the request body is larger than {MAX_BODY_BYTES} bytes")


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith("+json")


async def _bounded_body(request: Request) -> bytes:
    """The body, refused before reading when Content-Length is too big and while reading when
    the bytes turn out to be (chunked bodies have no length)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or a `Problem` (415, 413, 400)."""
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type):
        raise Problem(UNSUPPORTED_MEDIA_TYPE, f"expected application/json, not {content_type!r}")
    raw = await _bounded_body(request)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise Problem(MALFORMED_JSON, f"the request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise Problem(MALFORMED_JSON, "the request body must be a JSON object")
    return data
