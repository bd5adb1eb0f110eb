"""Writes linked_records.wsdl: the WSDL a real spyne 2.14 service publishes.

Run from the repository root to regenerate (`.venv/bin/python tests/wsdl/spyne-arrays/generate.py`);
the tests read the committed file, so they do not need spyne. `Array(Unicode)` is what spyne
publishes as a `stringArray` wrapper type (`<linkedRefs><string>..</string></linkedRefs>`),
`Array(Alias)` as an `AliasArray` of complex items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree
from spyne import Application, Array, ComplexModel, Date, ServiceBase, Unicode, rpc
from spyne.interface.wsdl import Wsdl11
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

NAMESPACE = "urn:police:merlin:linked:v1"
ADDRESS = "http://localhost:8000/merlin/linked"


class Alias(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [("surname", Unicode), ("forenames", Unicode)]


class LinkedRecord(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("recordId", Unicode),
        ("reported", Date),
        ("linkedRefs", Array(Unicode)),
        ("aliases", Array(Alias)),
    ]


class LinkedRecordService(ServiceBase):
    @rpc(Unicode, _returns=LinkedRecord, _in_variable_names={"record_id": "recordId"})
    def GetLinkedRecord(ctx: Any, record_id: str) -> LinkedRecord:  # noqa: N802 - SOAP name
        return LinkedRecord(recordId=record_id)

    @rpc(Unicode, Array(Unicode), Array(Alias), _returns=LinkedRecord,
         _in_variable_names={"record_id": "recordId", "linked_refs": "linkedRefs"})
    def LinkRecords(ctx: Any, record_id: str, linked_refs: list[str],  # noqa: N802 - SOAP name
                    aliases: list[Alias]) -> LinkedRecord:
        return LinkedRecord(recordId=record_id, linkedRefs=linked_refs, aliases=aliases)


def main() -> None:
    application = Application([LinkedRecordService], tns=NAMESPACE, name="LinkedRecordService",
                              in_protocol=Soap11(validator="lxml"), out_protocol=Soap11())
    WsgiApplication(application)  # served over HTTP: the binding's transport says so
    wsdl = Wsdl11(application.interface)
    wsdl.build_interface_document(ADDRESS)
    text = etree.tostring(etree.fromstring(wsdl.get_interface_document()), pretty_print=True,
                          xml_declaration=True, encoding="UTF-8")
    Path(__file__).with_name("linked_records.wsdl").write_bytes(text)


if __name__ == "__main__":
    main()
