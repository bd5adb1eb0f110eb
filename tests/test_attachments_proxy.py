"""A witness statement with a signature image, sent as MTOM or SwA, through a real proxy process.

The proxy hands a multipart/related request's parts to the translator with the envelope, so the
eForms mapping's `attachment:` source turns the signature image into base64 in the JSON call,
and the modern service files the very bytes that were sent. A reference to a part the request
does not carry is a SOAP Fault; an attachment over the body limit is refused. The requests are
built by hand, byte for byte, as an MTOM client writes them (zeep sends no MTOM). Both hosts.
"""

from __future__ import annotations

import base64
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from lxml import etree

from turnout.compare import check_golden, load_rules, rules_for
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.recording import read_exchange
from turnout.translators import load_translators

from .support.proxy_process import ProxyProcess

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "turnout" / "demo"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
EF = "urn:police:eforms:v1"
ACTION = "urn:police:eforms:v1#SubmitWitnessStatement"
BOUNDARY = "MIMEBoundary_witness_7e1d"
LIMIT = 64 * 1024


def png(width: int = 12, height: int = 6) -> bytes:
    """A real (greyscale) PNG, small and distinct from any text."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes((x * 37 + y * 91) % 256 for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


SIGNATURE = png()


def statement(signature_xml: str, text: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{SOAP12}" xmlns:ef="{EF}" xmlns:xop="http://www.w3.org/2004/08/xop/include">
  <soap:Body>
    <ef:SubmitWitnessStatement>
      <ef:witness>
        <ef:surname>Oakenshaw</ef:surname>
        <ef:forenames>Wilhelmina</ef:forenames>
        <ef:dateOfBirth>17/06/1971</ef:dateOfBirth>
        <ef:addressLine>110 Riverside Walk, Turnbridge</ef:addressLine>
        <ef:postcode>TB3 6RW</ef:postcode>
      </ef:witness>
      <ef:statementText>{text}</ef:statementText>
      <ef:officerId>PC5518</ef:officerId>
      <ef:crimeReference>CR/2026/000104</ef:crimeReference>
      {signature_xml}
    </ef:SubmitWitnessStatement>
  </soap:Body>
</soap:Envelope>""".encode()


def related(root: bytes, root_type: str, parts: list[tuple[str, str, bytes]], *, mtom: bool) -> tuple[bytes, str]:
    """A multipart/related body: the root envelope, then (content-id, media type, bytes) parts
    in binary transfer encoding; and its Content-Type (MTOM: type application/xop+xml)."""
    lines = [f"--{BOUNDARY}\r\n".encode(),
             f"Content-Type: {root_type}\r\nContent-Transfer-Encoding: 8bit\r\n"
             "Content-ID: <root.statement@witness>\r\n\r\n".encode(), root, b"\r\n"]
    for cid, media_type, data in parts:
        lines += [f"--{BOUNDARY}\r\n".encode(),
                  f"Content-Type: {media_type}\r\nContent-Transfer-Encoding: binary\r\n"
                  f"Content-ID: <{cid}>\r\n\r\n".encode(), data, b"\r\n"]
    lines.append(f"--{BOUNDARY}--\r\n".encode())
    kind = 'type="application/xop+xml"' if mtom else 'type="application/soap+xml"'
    content_type = (f'multipart/related; boundary="{BOUNDARY}"; {kind}; start="<root.statement@witness>"; '
                    f'start-info="application/soap+xml"; action="{ACTION}"')
    return b"".join(lines), content_type


def mtom(text: str, href: str = "cid:signature.png@witness", data: bytes = SIGNATURE,
         media_type: str = "image/png") -> tuple[bytes, str]:
    root = statement(f'<ef:signature><xop:Include href="{href}"/></ef:signature>', text)
    root_type = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
    return related(root, root_type, [("signature.png@witness", media_type, data)], mtom=True)


def swa(text: str) -> tuple[bytes, str]:
    root = statement('<ef:signature href="cid:signature.png@witness"/>', text)
    return related(root, "application/soap+xml; charset=UTF-8",
                   [("signature.png@witness", "image/png", SIGNATURE)], mtom=False)


@dataclass
class Rig:
    #: the modern service's records behind the translating proxy
    store: DemoStore
    modern: str
    #: the bus's records behind the shadowing proxy (its dry runs go to a twin of them)
    bus_store: DemoStore
    translated: ProxyProcess
    shadowed: ProxyProcess
    records: Path

    def post(self, proxy: ProxyProcess, message: tuple[bytes, str]) -> requests.Response:
        body, content_type = message
        return requests.post(f"{proxy.url}/eforms", data=body, timeout=20,
                             headers={"Content-Type": content_type})

    def filed(self, answer: requests.Response) -> str:
        assert answer.status_code == 200, answer.text
        statement_id = etree.fromstring(answer.content).findtext(f".//{{{EF}}}statementId")
        assert statement_id, answer.text
        return statement_id

    def signature_at_the_service(self, statement_id: str) -> dict[str, str]:
        url_id = statement_id.replace("/", "-")
        got = requests.get(f"{self.modern}/statements/{url_id}", timeout=10)
        assert got.status_code == 200, got.text
        signature: dict[str, str] = got.json()["signature"]
        return signature


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp("attachments")
    store, bus_store = DemoStore(), DemoStore()
    # the shadow's dry runs go to a service over a twin of the bus's records, so the id the
    # dry run would give is the one the bus gave
    with ServerThread(make_legacy_app(bus_store)) as bus, ServerThread(make_modern_app(store)) as modern, \
            ServerThread(make_modern_app(DemoStore())) as twin:
        def config(name: str, mode: str, extra: str = "") -> Path:
            path = root / name
            service = twin.url if mode == "shadow" else modern.url
            path.write_text(
                f"upstream: {bus.url}\n"
                f"translators: {DEMO / 'translators'}\n"
                f"services: {{eforms: {service}}}\n"
                f"compare: {{rules: {DEMO / 'compare.yaml'}}}\n"
                f"limits: {{max_body_bytes: {LIMIT}}}\n"
                f"{extra}"
                f"routes:\n  /eforms SubmitWitnessStatement: {{mode: {mode}, on_error: fault}}\n"
            )
            return path
        records = root / "records"
        # no redaction rules (--unredacted): the recorder keeps a multipart body as it came
        # (credentials scrubbed), so the recording can be replayed offline; with body rules a
        # multipart body is not XML they can be applied to, and is omitted, as before
        shadow = config("shadow.yaml", "shadow", f"recordings: {{dir: {records}}}\n")
        with ProxyProcess(config("translated.yaml", "translator")) as translated, \
                ProxyProcess(shadow, extra=["--unredacted"]) as shadowed:
            yield Rig(store, modern.url, bus_store, translated, shadowed, records)


def test_an_mtom_signature_reaches_the_modern_service_as_the_same_bytes(rig: Rig) -> None:
    """Fails on a Turnout whose proxy does not hand attachments to translators: there the
    xop:Include names a part the translator is not given, and the request is refused."""
    answer = rig.post(rig.translated, mtom("I saw it and I sign it (MTOM)."))
    statement_id = rig.filed(answer)
    signature = rig.signature_at_the_service(statement_id)
    assert signature["contentType"] == "image/png"
    assert base64.b64decode(signature["data"]) == SIGNATURE
    filed = rig.store.statement(statement_id)
    assert filed is not None and filed.signature is not None and filed.signature.data == SIGNATURE


def test_a_swa_cid_reference_reaches_the_modern_service_as_the_same_bytes(rig: Rig) -> None:
    statement_id = rig.filed(rig.post(rig.translated, swa("I saw it and I sign it (SwA).")))
    signature = rig.signature_at_the_service(statement_id)
    assert signature == {"contentType": "image/png", "data": base64.b64encode(SIGNATURE).decode()}


def test_a_reference_to_a_missing_part_is_a_soap_fault(rig: Rig) -> None:
    before = len(rig.store.statements())
    answer = rig.post(rig.translated, mtom("Missing part.", href="cid:not-sent@witness"))
    assert answer.status_code in (400, 500), answer.text
    fault = etree.fromstring(answer.content).find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    assert fault is not None, answer.text
    assert fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value", "").endswith("Sender")
    assert "cid:not-sent@witness" in answer.text and "does not carry" in answer.text
    assert "Traceback" not in answer.text
    assert len(rig.store.statements()) == before  # nothing was filed
    # the bus (through the shadowing proxy) refuses it in the same words
    legacy = rig.post(rig.shadowed, mtom("Missing part.", href="cid:not-sent@witness"))
    assert legacy.status_code == answer.status_code, legacy.text

    def service_fault(xml: bytes) -> list[str | None]:
        detail = etree.fromstring(xml).find(f".//{{{EF}}}ServiceFault")
        assert detail is not None, xml
        return [detail.findtext(f"{{{EF}}}{name}") for name in ("errorCode", "errorText", "field")]

    assert service_fault(answer.content) == service_fault(legacy.content) == [
        "INVAL", "signature refers to attachment cid:not-sent@witness, which the request does not carry",
        "signature"]


def test_an_attachment_over_the_body_limit_is_refused(rig: Rig) -> None:
    before = len(rig.store.statements())
    answer = rig.post(rig.translated, mtom("Too big.", data=SIGNATURE + bytes(LIMIT)))
    assert answer.status_code == 500, answer.text
    # a SOAP Fault (the mitmproxy host answers its body-size refusal in SOAP 1.1 whatever the
    # request's version: it refuses before reading the body)
    fault = etree.fromstring(answer.content).xpath("//*[local-name()='Fault']")
    assert fault, answer.text
    assert "threat.too-large" in answer.text and "over the limit" in answer.text
    assert len(rig.store.statements()) == before


def test_a_shadowed_mtom_statement_matches_the_bus_and_replays_offline(rig: Rig) -> None:
    """The bus files the signature from the MTOM part; the shadow translation (a dry run with
    the same attachment) answers the same; the recording replays offline with the same call."""
    statement_id = rig.filed(rig.post(rig.shadowed, mtom("I saw it and I sign it (shadow).")))
    filed = rig.bus_store.statement(statement_id)
    assert filed is not None and filed.signature is not None
    assert (filed.signature.content_type, filed.signature.data) == ("image/png", SIGNATURE)
    deadline = time.monotonic() + 20
    recorded = []
    while time.monotonic() < deadline and not recorded:
        recorded = [exchange for path in rig.records.rglob("*.yaml")
                    if (exchange := read_exchange(path)).translation.get("call")
                    and exchange.translation.get("reply")]
        time.sleep(0.1)
    assert len(recorded) == 1, list(rig.records.rglob("*"))
    exchange = recorded[0]
    assert exchange.translation.get("diff") == [], exchange.translation
    call = exchange.translation["call"]
    assert call["body"]["signature"] == {"contentType": "image/png",
                                         "data": base64.b64encode(SIGNATURE).decode()}
    rules = load_rules(DEMO / "compare.yaml")
    result = check_golden(exchange, load_translators(DEMO / "translators"),
                          {exchange.operation.key: rules_for(rules, exchange.operation.key)})
    assert result.passed, result.text()
    assert result.produced_call is not None
    assert result.produced_call.body["signature"]["data"] == base64.b64encode(SIGNATURE).decode()
