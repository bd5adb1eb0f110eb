"""An exchange as a compact tuple of plain values, for the hand-off to the writer process.

The serving process pays for every byte of work it does per exchange under its interpreter
lock, and pickling an `Exchange` (nested dataclasses: a class lookup and a state dict each)
costs several times what pickling the same values in tuples does. `pack` and `unpack` are each
other's inverse; `tests/test_recording_process.py` holds them to that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from turnout.soap import HttpRequest, HttpResponse, OperationName

from ._exchange import Exchange, OmittedBody

Packed = tuple[Any, ...]


def pack(exchange: Exchange, body: Callable[[bytes], Any] = bytes) -> Packed:
    """`exchange` as a tuple of str, bytes, numbers, lists and dicts (and one datetime); each
    body as `body` makes it (`_wire.out_of_band`: to travel beside the pickle)."""
    operation = exchange.operation
    request = exchange.request
    return (
        exchange.id,
        exchange.started_at,
        None if operation is None else (operation.service, operation.name, operation.namespace),
        exchange.soap_version,
        exchange.action,
        exchange.route,
        exchange.outcome,
        exchange.notes,
        exchange.client,
        exchange.timings,
        (request.method, request.path, request.headers, body(request.body)),
        _pack_response(exchange.response, body),
        _pack_response(exchange.translated, body),
        exchange.translation,
        exchange.extra,
        {which: (body.reason, body.sha256, body.length)
         for which, body in exchange.omitted_bodies.items()} if exchange.omitted_bodies else None,
        exchange.request_id,
        exchange.trace_id,
    )


def unpack(packed: Packed) -> Exchange:
    """The exchange `pack` was given (equal to it, not the same object)."""
    (exchange_id, started_at, operation, soap_version, action, route, outcome, notes, client,
     timings, request, response, translated, translation, extra, omitted, request_id, trace_id) = packed
    return Exchange(
        id=exchange_id,
        started_at=started_at,
        operation=None if operation is None else OperationName(*operation),
        soap_version=soap_version,
        action=action,
        route=route,
        outcome=outcome,
        notes=notes,
        client=client,
        timings=timings,
        request=HttpRequest(request[0], request[1], request[2], bytes(request[3])),
        response=_unpack_response(response),
        translated=_unpack_response(translated),
        translation=translation,
        extra=extra,
        omitted_bodies={which: OmittedBody(*body) for which, body in (omitted or {}).items()},
        request_id=request_id,
        trace_id=trace_id,
    )


def _pack_response(
    response: HttpResponse | None, body: Callable[[bytes], Any]
) -> tuple[Any, ...] | None:
    if response is None:
        return None
    return (response.status, response.headers, body(response.body), response.reason)


def _unpack_response(packed: tuple[Any, ...] | None) -> HttpResponse | None:
    if packed is None:
        return None
    status, headers, body, reason = packed
    return HttpResponse(status, headers, bytes(body), reason)
