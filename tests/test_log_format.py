"""JSON log lines and the request ids they carry, in process: the formatter, and that a request's
ids are set for what it logs and gone once it is finished (the wire is tests/test_tracing.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys

import pytest

from turnout.config import REQUEST_IDS, ProxyConfig, configure_logging
from turnout.config._logging import JsonFormatter, RequestIds
from turnout.gateway import Gateway, Peer, ProxyState, start
from turnout.soap import HttpRequest, HttpResponse
from turnout.transport import MemoryTransport, Outbound

BUS = "http://bus.test"
ENVELOPE = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<p:PersonEnquiry xmlns:p="urn:police:pnc:v1"/></soap:Body></soap:Envelope>')


def formatted(record: logging.LogRecord) -> dict[str, object]:
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RequestIds())
    handler.setFormatter(JsonFormatter())
    handler.handle(record)
    text = handler.stream.getvalue()  # type: ignore[attr-defined]
    assert text.count("\n") == 1, text  # one line, however many the traceback had
    parsed: dict[str, object] = json.loads(text)
    return parsed


def test_an_exception_is_one_field_on_one_line() -> None:
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        record = logging.getLogger("turnout.proxy").makeRecord(
            "turnout.proxy", logging.ERROR, __file__, 1, "failed on %s", ("/pnc",), exc_info=sys.exc_info())
    line = formatted(record)
    assert line["message"] == "failed on /pnc" and line["level"] == "ERROR"
    assert "Traceback" in str(line["exception"]) and "second line" in str(line["exception"])
    assert "request_id" not in line  # logged outside any request


def test_a_line_logged_while_a_request_is_served_names_it_and_the_next_does_not() -> None:
    seen: list[tuple[str, str] | None] = []

    def answer(request: Outbound) -> HttpResponse:
        seen.append(REQUEST_IDS.get())  # the bus call happens inside the request
        return HttpResponse(200, [("Content-Type", "text/xml")], b"<ok/>")

    state = ProxyState(ProxyConfig(upstream=BUS))
    gateway = Gateway(state)

    async def two_requests() -> list[tuple[str, str] | None]:
        await start(gateway, MemoryTransport(answer))
        after = []
        for request_id in ("first-1", "second-2"):
            request = HttpRequest("POST", "/pnc", [("Content-Type", "text/xml"), ("X-Request-Id", request_id)],
                                  ENVELOPE)
            handled = await gateway.handle(request, Peer("127.0.0.1", 1))
            gateway.finish(handled, 200)
            after.append(REQUEST_IDS.get())  # the same task: as a connection's next wait
        return after

    after = asyncio.run(two_requests())
    assert [ids[0] if ids else None for ids in seen] == ["first-1", "second-2"]
    assert all(ids is not None and len(ids[1]) == 32 for ids in seen)
    assert seen[0] is not None and seen[1] is not None and seen[0][1] != seen[1][1]
    assert after == [None, None]


def test_configure_logging_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="xml"):
        configure_logging(logging.WARNING, "xml")
