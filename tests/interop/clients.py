"""Three real SOAP clients, each reduced to the same plain answer per call.

zeep (requests underneath), suds-community (urllib underneath) and node-soap (axios underneath,
via node/client.js) each read the WSDL from a URL, call GetRecord at an endpoint for each id, and
give, per id, a dict:

- `value`: what the client made of the answer, normalised across clients: the record as
  `{id, title, created (ISO date), tags}`, or the Fault as `{faultcode (without prefix),
  faultstring}`, or `{error: ...}` when the client could not use the answer at all;
- `status`: the HTTP status the client saw, where it tells;
- `body`: the response body as the client received it (after any Content-Encoding), where it
  tells.

Direct and through the proxy, a client must get the same dicts.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from suds.client import Client as SudsClient
from suds.plugin import MessagePlugin
from suds.sudsobject import Object as SudsObject

NODE_DIR = Path(__file__).parent / "node"


def _local(code: str | None) -> str | None:
    return code.split(":", 1)[-1] if code else code


def _date(value: Any) -> str:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    return str(value)[:10]  # node-soap: "2024-02-29T00:00:00.000Z"


def _record(record: Any, tags: list[Any]) -> dict[str, Any]:
    return {"id": record["id"], "title": record["title"], "created": _date(record["created"]),
            "tags": [str(tag) for tag in tags]}


# --- zeep --------------------------------------------------------------------------------------


class CapturingTransport(zeep.Transport):
    """A zeep transport that keeps the last HTTP answer to a POST."""

    def __init__(self, accept_encoding: str | None = None) -> None:
        session = requests.Session()
        if accept_encoding is not None:
            session.headers["Accept-Encoding"] = accept_encoding
        super().__init__(session=session, cache=None, timeout=20, operation_timeout=20)
        self.last: requests.Response | None = None

    def post(self, address: str, message: str, headers: dict[str, str]) -> requests.Response:
        self.last = super().post(address, message, headers)
        return self.last


def zeep_client(wsdl: str, endpoint: str, accept_encoding: str | None = None) -> tuple[Any, CapturingTransport]:
    transport = CapturingTransport(accept_encoding)
    client = zeep.Client(wsdl, transport=transport)
    binding = next(iter(client.wsdl.bindings))
    return client.create_service(binding, endpoint), transport


def zeep_call(service: Any, transport: CapturingTransport, record_id: str) -> dict[str, Any]:
    transport.last = None
    try:
        result = zeep.helpers.serialize_object(service.GetRecord(recordId=record_id), dict)
        value: dict[str, Any] = _record(result, result["tags"]["string"] if result["tags"] else [])
    except zeep.exceptions.Fault as fault:
        value = {"faultcode": _local(fault.code), "faultstring": fault.message}
    except Exception as exc:  # noqa: BLE001 - what the client could not use is the finding
        value = {"error": f"{type(exc).__name__}: {exc}"}
    last = transport.last
    return {"value": value, "status": last.status_code if last is not None else None,
            "body": last.content if last is not None else None}


def zeep_answers(wsdl: str, endpoint: str, ids: list[str], node: str | None = None) -> list[dict[str, Any]]:
    service, transport = zeep_client(wsdl, endpoint)
    return [zeep_call(service, transport, record_id) for record_id in ids]


# --- suds --------------------------------------------------------------------------------------


class _Received(MessagePlugin):  # type: ignore[misc]
    def __init__(self) -> None:
        self.reply: bytes | None = None

    def received(self, context: Any) -> None:
        self.reply = bytes(context.reply)


def _plain(value: Any) -> Any:
    if isinstance(value, SudsObject):
        return {key: _plain(item) for key, item in value}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def suds_answers(wsdl: str, endpoint: str, ids: list[str], node: str | None = None) -> list[dict[str, Any]]:
    received = _Received()
    client = SudsClient(wsdl, location=endpoint, cache=None, plugins=[received], timeout=20)
    answers = []
    for record_id in ids:
        received.reply = None
        status = None
        try:
            result = _plain(client.service.GetRecord(recordId=record_id))
            status = 200
            tags = result.get("tags") or {}
            value: dict[str, Any] = _record(result, tags.get("string", []) if isinstance(tags, dict) else [])
        except Exception as exc:  # noqa: BLE001 - suds.WebFault, or what the client could not use
            fault = getattr(exc, "fault", None)
            if fault is not None:
                value = {"faultcode": _local(str(fault.faultcode)), "faultstring": str(fault.faultstring)}
                status = 500
            else:
                value = {"error": f"{type(exc).__name__}: {exc}"}
        answers.append({"value": value, "status": status, "body": received.reply})
    return answers


# --- node-soap ---------------------------------------------------------------------------------


def run_node_client(node: str, wsdl: str, endpoint: str, ids: list[str]) -> list[dict[str, Any]]:
    """node/client.js: node-soap reads `wsdl`, calls GetRecord at `endpoint` once per id."""
    done = subprocess.run(
        [node, str(NODE_DIR / "client.js"), wsdl, endpoint, *ids],
        cwd=NODE_DIR, capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise AssertionError(f"node client.js failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers


def node_answers(wsdl: str, endpoint: str, ids: list[str], node: str | None = None) -> list[dict[str, Any]]:
    assert node is not None
    answers = []
    for answer in run_node_client(node, wsdl, endpoint, ids):
        if "result" in answer:
            result = answer["result"]["GetRecordResult"]
            tags = (result.get("tags") or {}).get("string", [])
            value: dict[str, Any] = _record(result, tags if isinstance(tags, list) else [tags])
        elif "fault" in answer:
            value = {"faultcode": _local(answer["fault"]["faultcode"]),
                     "faultstring": answer["fault"]["faultstring"]}
        else:
            value = {"error": answer.get("error")}
        raw = answer.get("raw")
        answers.append({"value": value, "status": answer.get("status"),
                        "body": raw.encode("utf-8") if isinstance(raw, str) else None})
    return answers


CLIENTS = {"zeep": zeep_answers, "suds": suds_answers, "node-soap": node_answers}
