"""The safeguarding service as spyne writes it: SOAP 1.1 document/literal, served by waitress.

`GetRecord(recordId)` answers a `Record`: the risk level an enumeration in an attribute, an
xs:dateTime `created` (spyne writes `isoformat()`: `+00:00`, microseconds only when there are
any), a nillable `lastSeenLocation` and the linked references as an `Array(Unicode)` (spyne's
`stringArray` wrapper of `string` items). An unknown id is spyne's
`Fault(faultcode="Client.RecordNotFound")` with a detail. `SearchRecords(surname)` answers an
array of records (an empty wrapper for no hits); a blank surname is a `Client.ValidationError`
Fault. A `RequestHeader` with a `correlationId` is echoed in a `ResponseHeader`; spyne writes
no Header at all on a Fault.
"""

from __future__ import annotations

import datetime
from typing import Any

from spyne import (
    Application,
    Array,
    ComplexModel,
    DateTime,
    Enum,
    Fault,
    ServiceBase,
    Unicode,
    XmlAttribute,
    rpc,
)
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from .data import NAMESPACE, RECORDS, search

RiskLevel = Enum("LOW", "MEDIUM", "HIGH", type_name="RiskLevel")


class RequestHeader(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [("correlationId", Unicode)]


class ResponseHeader(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [("correlationId", Unicode)]


class Record(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("riskLevel", XmlAttribute(RiskLevel)),
        ("recordId", Unicode),
        ("surname", Unicode),
        ("forenames", Unicode),
        ("created", DateTime),
        ("lastSeenLocation", Unicode(min_occurs=1, nillable=True)),
        ("linkedRefs", Array(Unicode)),
    ]


def _record(found: dict[str, Any]) -> Record:
    return Record(
        riskLevel=found["risk"], recordId=found["recordId"], surname=found["surname"],
        forenames=found["forenames"], created=datetime.datetime.fromisoformat(found["created"]),
        lastSeenLocation=found["lastSeenLocation"], linkedRefs=found["linkedRefs"],
    )


def _echo(ctx: Any) -> None:
    header = ctx.in_header
    if header is not None:
        ctx.out_header = ResponseHeader(correlationId=header.correlationId)


class SafeguardingService(ServiceBase):
    __in_header__ = RequestHeader
    __out_header__ = ResponseHeader

    @rpc(Unicode, _returns=Record, _in_variable_names={"record_id": "recordId"})
    def GetRecord(ctx: Any, record_id: str | None) -> Record:  # noqa: N802 - the SOAP operation's name
        found = RECORDS.get((record_id or "").strip())
        if found is None:
            raise Fault(faultcode="Client.RecordNotFound", faultstring=f"no record with id {record_id}",
                        detail={"RecordFault": {"field": "recordId", "value": record_id}})
        _echo(ctx)
        return _record(found)

    @rpc(Unicode, _returns=Array(Record))
    def SearchRecords(ctx: Any, surname: str | None) -> list[Record]:  # noqa: N802
        if not (surname or "").strip():
            raise Fault(faultcode="Client.ValidationError", faultstring="surname is required")
        _echo(ctx)
        return [_record(found) for found in search(surname or "")]


def make_app() -> WsgiApplication:
    application = Application(
        [SafeguardingService], tns=NAMESPACE, name="SafeguardingService",
        in_protocol=Soap11(validator="lxml"), out_protocol=Soap11(),
    )
    return WsgiApplication(application)


def main() -> None:
    """`python -m tests.interop.spyne_safeguarding.service`: serve on a free loopback port with
    waitress, print `listening <port>`, run until killed."""
    import logging

    from waitress.server import create_server

    logging.getLogger("spyne").setLevel(logging.CRITICAL)  # it logs every Fault with a traceback
    server: Any = create_server(make_app(), host="127.0.0.1", port=0, threads=4)
    print(f"listening {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
