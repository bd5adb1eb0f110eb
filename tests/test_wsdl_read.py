"""Reading WSDLs: the demo's, public ones of every style, sloppy ones, and the network rules."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from turnout.wsdl import Field, WsdlError, fetch_documents, load_with_zeep, read_wsdl
from turnout.wsdl._zeep import OfflineTransport, TransportRefused

HERE = Path(__file__).parent / "wsdl"
DEMO = Path(__file__).parent.parent / "turnout" / "demo" / "wsdl"
PUBLIC = [
    HERE / "cxf-hello-world" / "hello_world_recursive.wsdl",
    HERE / "soapbuilders-round2" / "round2_base.wsdl",
    HERE / "jaxws-hello" / "hello.wsdl",
    HERE / "blz-service" / "BLZService.wsdl",
    HERE / "extension-base" / "foo.wsdl",
    HERE / "xsd-include" / "xsd_include.wsdl",
    HERE / "xsd-include" / "xsd_include_http.wsdl",
    HERE / "multi-service" / "multi-service.wsdl",
    HERE / "reuters-multiport" / "multiport.wsdl",
    HERE / "turnout-features" / "dispatch.wsdl",
]


def operation(wsdl_path: Path, name: str, binding: str | None = None):  # type: ignore[no-untyped-def]
    wsdl = read_wsdl(str(wsdl_path))
    for candidate in wsdl.bindings:
        if binding is not None and not candidate.name.endswith("}" + binding):
            continue
        for op in candidate.operations:
            if op.name == name:
                return wsdl, op
    raise AssertionError(f"no operation {name}")


def child(field: Field, name: str) -> Field:
    for candidate in field.children:
        if candidate.name == name:
            return candidate
    raise AssertionError(f"{field.name} has no {name}: {[c.name for c in field.children]}")


# --- the demo's WSDLs ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pnc", "cris", "geo", "eforms"])
def test_demo_wsdls_read_cleanly_with_their_imported_schema(name: str) -> None:
    wsdl = read_wsdl(str(DEMO / f"{name}.wsdl"))
    assert wsdl.problems == ()
    assert [d.kind for d in wsdl.documents] == ["wsdl", "schema"]


def test_vehicle_enquiry_tree_has_types_cardinality_and_enumerations() -> None:
    wsdl, op = operation(DEMO / "pnc.wsdl", "VehicleEnquiry")
    assert (op.soap_version, op.style, op.use, op.wrapped) == ("1.1", "document", "literal", True)
    assert op.soap_action == "urn:police:pnc:v1#VehicleEnquiry"
    vehicle = child(op.output.body[0], "vehicle")
    assert wsdl.short(vehicle.type_name) == "tns:VehicleRecord"
    insured = child(vehicle, "insured")
    assert insured.simple.facets.enumeration == ("Y", "N")
    keeper = child(vehicle, "keeper")
    assert keeper.occurs() == "0..1"
    marker = child(child(keeper, "warningMarkers"), "marker")
    assert marker.occurs() == "0..*" and "FI" in marker.simple.facets.enumeration
    surname = child(keeper, "surname")
    assert (surname.simple.facets.min_length, surname.simple.facets.max_length) == (1, 35)
    assert child(op.output.headers[0], "timestamp").simple.documentation.startswith("DD/MM/YYYY")


def test_soap12_binding_is_read_as_soap12() -> None:
    _, op = operation(DEMO / "eforms.wsdl", "SubmitWitnessStatement")
    assert op.soap_version == "1.2"


def test_anonymous_restriction_keeps_its_facets() -> None:
    _, op = operation(DEMO / "cris.wsdl", "SearchCrimeReports")
    page_size = child(op.input.body[0], "pageSize")
    assert page_size.type_name is None
    assert (page_size.simple.builtin, page_size.simple.facets.max_inclusive) == (
        "positiveInteger", "50")


# --- public WSDLs: styles -------------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.parent.name + "/" + p.name)
def test_public_wsdls_read_without_raising(path: Path) -> None:
    wsdl = read_wsdl(str(path))
    assert wsdl.bindings
    assert any(op for b in wsdl.bindings for op in b.operations)


def test_recursive_wsdl_import_reads_both_files_once() -> None:
    wsdl = read_wsdl(str(PUBLIC[0]))
    assert [d.kind for d in wsdl.documents] == ["wsdl", "wsdl"]
    binding = wsdl.bindings[0]
    names = {op.name: op for op in binding.operations}
    assert names["greetMe"].wrapped and not names["testDocLitBare"].wrapped
    assert names["greetMeOneWay"].one_way
    assert [f.name for f in names["testDocLitFault"].faults] == [
        "NoSuchCodeLitFault", "BadRecordLitFault"]
    response = names["testDocLitBare"].output.body[0]
    assert [c.kind for c in response.children] == ["element", "attribute"]


def test_rpc_encoded_arrays_and_wrappers() -> None:
    wsdl, op = operation(PUBLIC[1], "echoStructArray")
    assert (op.style, op.use) == ("rpc", "encoded")
    wrapper = op.input.body[0]
    assert wrapper.qname == "{http://soapinterop.org/}echoStructArray"
    array = child(wrapper, "inputStructArray")
    assert array.namespace is None and array.encoded_array
    item = array.children[0]
    assert item.repeated and [c.name for c in item.children] == ["varString", "varInt",
                                                                 "varFloat"]
    assert op.output.body[0].name == "echoStructArrayResponse"
    assert any(d.kind == "bundled" for d in wsdl.documents)  # SOAP-ENC, never fetched


def test_rpc_literal_with_imported_xsd() -> None:
    wsdl, op = operation(PUBLIC[2], "getHelloAsString")
    assert (op.style, op.use, op.rpc_namespace) == ("rpc", "literal", "http://hello/")
    assert [c.name for c in op.input.body[0].children] == ["arg0"]
    assert {f.name for f in op.faults} == {"HelloError", "HelloByeError"}
    assert op.faults[0].detail[0].children[0].name == "message"


def test_soap11_soap12_and_http_bindings_side_by_side() -> None:
    wsdl = read_wsdl(str(PUBLIC[3]))
    assert [b.kind for b in wsdl.bindings] == ["soap11", "soap12", "http"]
    assert [p.kind for p in wsdl.services[0].ports] == ["soap11", "soap12", "http"]
    assert {p.service_path for p in wsdl.services[0].ports} == {"/axis2/services/BLZService"}


def test_extension_and_chained_imports() -> None:
    wsdl, op = operation(PUBLIC[4], "fooOp")
    shipper = op.input.body[0]
    name = child(shipper, "Name")
    name1 = child(name, "name1")
    assert name1.namespace == "http://example.com/bar1/xsd"
    assert name1.simple.facets.max_length == 50
    assert [d.kind for d in wsdl.documents] == ["wsdl", "schema", "schema"]


def test_several_services_and_ports() -> None:
    wsdl = read_wsdl(str(PUBLIC[7]))
    assert [s.name for s in wsdl.services] == ["Hello_Service", "Bye_Service"]
    assert [p.service_path for p in wsdl.services[1].ports] == ["/SayBye", "/SayAnotherBye"]


def test_substitution_groups_choice_any_extension_and_restriction() -> None:
    wsdl, op = operation(PUBLIC[9], "RaiseIncident", "DispatchSoap11")
    body = op.input.body[0]
    kinds = [c.kind for c in body.children]
    assert kinds == ["element", "element", "choice", "choice", "element", "element", "any"]
    callers = body.children[2]
    assert [c.name for c in callers.children] == ["caller", "anonymousCaller"]
    assert [c.name for c in callers.children[1].children[0].children] == ["phone", "radio"]
    locations = body.children[3]  # abstract head: only the members
    assert [c.name for c in locations.children] == ["address", "coordinates", "landmark"]
    coordinates = locations.children[1]
    assert [c.name for c in coordinates.children] == ["note", "lat", "lon", "datum"]
    assert child(coordinates, "lat").simple.facets.min_inclusive == "-90"
    assert op.input.headers[0].name == "Credentials"
    any_ = body.children[6]
    assert (any_.wildcard, any_.process_contents, any_.max_occurs) == ("##other", "lax", None)
    response = op.output.body[0]
    distance = child(child(response, "assigned"), "distance")
    assert distance.simple.builtin == "decimal"
    assert child(distance, "unit").simple.facets.enumeration == ("m", "km")
    assert child(response, "standby").simple.is_list


# --- sloppy WSDLs: warnings, not refusal ----------------------------------------------------


def test_sloppy_wsdl_is_read_with_warnings() -> None:
    wsdl = read_wsdl(str(PUBLIC[5]))
    messages = [p.message for p in wsdl.problems]
    assert any("DummyList is not declared" in m for m in messages)
    assert any("'DummySave' is not in port type" in m for m in messages)
    assert any(m.startswith("zeep cannot load") for m in messages)
    _, op = operation(PUBLIC[5], "Dummy")
    assert child(op.output.body[0], "Result").unresolved
    assert child(op.input.body[0], "ID").simple.facets.patterns == (r"\d{5,15}",)


def test_part_pointing_at_missing_element_is_a_warning() -> None:
    wsdl = read_wsdl(str(PUBLIC[8]))
    assert any("{http://www.reuters.com/}string is not declared" in p.message
               for p in wsdl.problems)
    assert any(p.line == 29 for p in wsdl.problems)


def test_undeclared_prefix_is_a_warning_and_read_as_meant(tmp_path: Path) -> None:
    text = PUBLIC[3].read_text().replace(' xmlns:tns="http://thomas-bayer.com/blz/"', "")
    text = text.replace('name="blz" type="xsd:string"', 'name="blz" type="xs:string"')
    path = tmp_path / "sloppy.wsdl"
    path.write_text(text)
    wsdl = read_wsdl(str(path))
    messages = [p.message for p in wsdl.problems]
    assert any("prefix 'tns' is used but never declared" in m for m in messages)
    assert any("prefix 'xs' is used but never declared" in m for m in messages)
    op = wsdl.bindings[0].operations[0]
    assert op.input.body[0].children[0].simple.builtin == "string"


# --- what cannot be read: one clear message -------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x/>", "refused"),
        (b"not xml at all", "not well-formed"),
        (b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>", "not a WSDL"),
        (b"<description xmlns='http://www.w3.org/ns/wsdl'/>", "WSDL 2.0"),
        (b"<html><body>404</body></html>", "not a WSDL"),
    ],
    ids=["missing", "doctype", "not-xml", "schema", "wsdl20", "html"],
)
def test_unreadable_wsdl_gets_one_message_naming_the_file(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "broken.wsdl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(WsdlError) as raised:
        read_wsdl(str(path))
    assert str(raised.value).startswith(str(path))
    assert expected in str(raised.value)


def test_imported_file_with_a_doctype_is_refused_and_reported(tmp_path: Path) -> None:
    wsdl = (HERE / "jaxws-hello" / "hello.wsdl").read_text()
    (tmp_path / "hello.wsdl").write_text(wsdl)
    (tmp_path / "hello.xsd").write_text('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                        "<x>&e;</x>")
    read = read_wsdl(str(tmp_path / "hello.wsdl"))
    assert any("refused" in p.message and "hello.xsd" in p.message for p in read.problems)


# --- the network: never unless asked, never hanging -----------------------------------------


def test_remote_import_is_reported_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    wsdl = read_wsdl(str(PUBLIC[6]))
    skipped = [d for d in wsdl.documents if d.kind == "not fetched"]
    assert [d.location for d in skipped] == ["http://localhost:50000/Platform.asmx?xsd"]
    assert any("not fetched without --allow-network" in p.message for p in wsdl.problems)


def test_dead_address_with_network_allowed_is_a_quick_warning() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = PUBLIC[6].read_text().replace("localhost:50000", f"127.0.0.1:{port}")
    path = PUBLIC[6].parent / f".dead-{port}.wsdl"
    path.write_text(text)
    try:
        started = time.monotonic()
        wsdl = read_wsdl(str(path), allow_network=True, timeout=2)
        assert time.monotonic() - started < 5
    finally:
        path.unlink()
    assert any("cannot read" in p.message for p in wsdl.problems)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a hung upstream."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


def test_silent_address_times_out_instead_of_hanging(tmp_path: Path, silent_server: int) -> None:
    text = PUBLIC[6].read_text().replace("localhost:50000", f"127.0.0.1:{silent_server}")
    path = tmp_path / "silent.wsdl"
    path.write_text(text)
    started = time.monotonic()
    wsdl = read_wsdl(str(path), allow_network=True, timeout=0.5)
    assert time.monotonic() - started < 4
    assert any("no answer within 0.5 s" in p.message for p in wsdl.problems)


def test_zeep_transport_serves_only_what_was_read() -> None:
    documents = fetch_documents(str(DEMO / "pnc.wsdl"))
    transport = OfflineTransport(documents)
    with pytest.raises(TransportRefused):
        transport.load("http://example.com/other.xsd")
    with pytest.raises(TransportRefused):
        transport.post("http://example.com/", b"", {})
    document = load_with_zeep(documents)
    assert set(document.bindings) == {"{urn:police:pnc:v1}PncBinding"}
