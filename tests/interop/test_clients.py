"""zeep, suds and node-soap against spyne, spyne behind gzip, and node-soap's own server: each
client gets the same answers (records and Faults) and the same response bytes through the proxy
as it gets from the server directly."""

from __future__ import annotations

from typing import Any

import pytest

from .clients import CLIENTS
from .conftest import Stack
from .records import MISSING, RECORDS

pytestmark = pytest.mark.interop

IDS = [*RECORDS, MISSING, "R-1001"]  # the last again: a kept-alive connection after a Fault


def expected(record_id: str) -> dict[str, Any]:
    if record_id not in RECORDS:
        return {"faultcode": "Client.RecordNotFound", "faultstring": f"no record with id {record_id}"}
    record = RECORDS[record_id]
    return {"id": record["id"], "title": record["title"], "created": record["created"], "tags": record["tags"]}


@pytest.mark.parametrize("client", list(CLIENTS))
def test_client_gets_the_same_answers_direct_and_through_the_proxy(
    stack: Stack, client: str, request: pytest.FixtureRequest
) -> None:
    node = request.getfixturevalue("node") if client == "node-soap" else None
    call = CLIENTS[client]
    direct = call(stack.server.wsdl, stack.server.endpoint, IDS, node)
    # the stacks themselves work: this client reads this server's records and Faults
    assert [answer["value"] for answer in direct] == [expected(i) for i in IDS], (
        f"{client} against {stack.name} directly (not the proxy) did not get the records"
    )
    # WSDL and calls both through the proxy
    proxied = call(stack.proxy.wsdl, stack.proxy.endpoint, IDS, node)
    for record_id, got, want in zip(IDS, proxied, direct):
        assert got["value"] == want["value"], f"{client} via the proxy, {record_id}: {got['value']}"
        assert got["status"] == want["status"], f"{client} via the proxy, {record_id}: HTTP status"
        assert got["body"] == want["body"], f"{client} via the proxy, {record_id}: response bytes differ"
