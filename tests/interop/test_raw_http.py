"""The same raw HTTP request, to the server directly and through the proxy: the proxied answer
has the server's status, body bytes (compressed ones included) and end-to-end headers, framed
once (Content-Length or chunked, never both), and no hop-by-hop headers the server sent for its
own connection (Keep-Alive, Connection) beyond what the proxy says on its own answers."""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import LOOPBACK, SERVICE_PATH, Proxy, Stack
from .records import MISSING, NAMESPACE

pytestmark = pytest.mark.interop

ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:r="{ns}">'
    "<soapenv:Body><r:GetRecord><r:recordId>{id}</r:recordId></r:GetRecord></soapenv:Body>"
    "</soapenv:Envelope>"
)
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetRecord"'}
#: one Host for both paths, so the WSDL's addresses (built from Host) are the same bytes
HOST = "records.interop.invalid"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
NOT_COMPARED = HOP_BY_HOP | {"content-length", "date"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]  # as received, names lower-cased, in order
    body: bytes  # after de-chunking, before any Content-Encoding is undone

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def send(port: int, requests: list[tuple[str, str, bytes | None, dict[str, str]]]) -> list[Answer]:
    """Send the requests one after another on one kept-alive connection."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=20)
    answers = []
    try:
        for method, target, body, headers in requests:
            conn.request(method, target, body=body, headers={"Host": HOST, **headers})
            response = conn.getresponse()
            data = response.read()
            answers.append(Answer(response.status, [(k.lower(), v) for k, v in response.getheaders()], data))
    finally:
        conn.close()
    return answers


def post(record_id: str, **headers: str) -> tuple[str, str, bytes, dict[str, str]]:
    body = ENVELOPE.format(ns=NAMESPACE, id=record_id).encode()
    return "POST", SERVICE_PATH, body, {**SOAP_HEADERS, **headers}


CASES: dict[str, Any] = {
    "wsdl": ("GET", SERVICE_PATH + "?wsdl", None, {}),
    "record": post("R-1003"),
    "record-gzip": post("R-1003", **{"Accept-Encoding": "gzip"}),
    "fault": post(MISSING),
    "fault-gzip": post(MISSING, **{"Accept-Encoding": "gzip"}),
}

_own_headers: dict[int, set[tuple[str, str]]] = {}


def proxy_own_hop_headers(proxy: Proxy) -> set[tuple[str, str]]:
    """The Connection/Keep-Alive headers the proxy puts on an answer it makes itself (a Fault for
    a request carrying a DOCTYPE, which never reaches the server)."""
    if proxy.port not in _own_headers:
        hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
        [answer] = send(proxy.port, [("POST", SERVICE_PATH, hostile, SOAP_HEADERS)])
        assert answer.status == 500 and b"Fault" in answer.body, answer
        _own_headers[proxy.port] = {(k, v) for k, v in answer.headers if k in ("connection", "keep-alive")}
    return _own_headers[proxy.port]


@pytest.mark.parametrize("case", list(CASES))
def test_raw_answer_is_the_servers_through_the_proxy(stack: Stack, case: str) -> None:
    request = CASES[case]
    [direct] = send(stack.server.port, [request])
    [proxied] = send(stack.proxy.port, [request])

    problems = []
    if proxied.status != direct.status:
        problems.append(f"status {proxied.status}, the server said {direct.status}")
    if proxied.body != direct.body:
        problems.append(f"the body bytes changed: {proxied.body[:200]!r}... for {direct.body[:200]!r}...")
    if case.endswith("gzip") and stack.name == "spyne-gzip":
        assert direct.all("content-encoding") == ["gzip"], "the compressing server did not compress"
    # the server's end-to-end headers reach the client unchanged
    end_to_end = [(k, v) for k, v in direct.headers if k not in NOT_COMPARED]
    if missing := [header for header in end_to_end if header not in proxied.headers]:
        problems.append(f"end-to-end headers lost or changed: {missing}")
    # framed exactly once
    lengths, codings = proxied.all("content-length"), proxied.all("transfer-encoding")
    if (len(lengths), len(codings)) not in ((1, 0), (0, 1)):
        problems.append(
            f"framing: exactly one of Content-Length / Transfer-Encoding, not {lengths=} {codings=} "
            f"(the server sent Content-Length {direct.all('content-length')}, "
            f"Transfer-Encoding {direct.all('transfer-encoding')})"
        )
    elif lengths and int(lengths[0]) != len(proxied.body):
        problems.append(f"Content-Length {lengths[0]} for a body of {len(proxied.body)} bytes")
    elif codings and codings[0].lower() != "chunked":
        problems.append(f"Transfer-Encoding {codings[0]}")
    # no hop-by-hop headers of the server's connection, beyond the proxy's own
    own = proxy_own_hop_headers(stack.proxy)
    if leaked := [(k, v) for k, v in proxied.headers if k in ("connection", "keep-alive") and (k, v) not in own]:
        problems.append(f"hop-by-hop headers leaked from the server: {leaked} "
                        f"(the proxy's own answers carry {sorted(own)})")
    assert not problems, f"{stack.name} {case} through the proxy:\n" + "\n".join(problems)


def test_one_connection_carries_every_kind_of_answer_in_turn(stack: Stack) -> None:
    """WSDL, record, Fault, gzip answers back to back on one client connection to the proxy:
    a framing mistake in one answer would corrupt the next."""
    requests = list(CASES.values()) * 2
    direct = send(stack.server.port, requests)
    proxied = send(stack.proxy.port, requests)
    assert [(a.status, a.body) for a in proxied] == [(a.status, a.body) for a in direct]

