"""Helpers for the mapping-language tests (tests/test_mapping_*.py): a mapping file written to a
temporary folder and compiled, request envelopes in either SOAP version, fixed volatiles."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from turnout.soap import SOAP11_NS, parse_xml, read_envelope
from turnout.translators import MappingTranslator, Volatiles, load_mapping

NS = "urn:police:merlin:v1"
FIXED = Volatiles(
    clock=lambda: datetime(2026, 11, 25, 7, 53, 1, 123456, tzinfo=UTC),
    message_id=lambda: "00000000-0000-4000-8000-000000000001",
)


def load(tmp_path: Path, text: str, name: str = "op.yaml") -> MappingTranslator:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_mapping(path).with_volatiles(FIXED)


def merlin(
    tmp_path: Path, request: str, response: str, top: str = "", namespaces: str = ""
) -> MappingTranslator:
    """A mapping for `/merlin GetRecord` (prefix `ms`, plus `namespaces`, e.g.
    `"wsa: 'http://...'"`), with the given sections."""
    more = f", {namespaces}" if namespaces else ""
    text = (
        f"operation: /merlin GetRecord\nservice: merlin\nnamespaces: {{ms: '{NS}'{more}}}\n"
        + textwrap.dedent(top)
        + "request:\n"
        + textwrap.indent(textwrap.dedent(request).strip("\n"), "  ")
        + "\nresponse:\n"
        + textwrap.indent(textwrap.dedent(response).strip("\n"), "  ")
        + "\n"
    )
    return load(tmp_path, text)


def envelope(payload: str = "", version: str = SOAP11_NS, header: str = "",
             attributes: str = "") -> Any:
    head = f"<e:Header>{header}</e:Header>" if header else ""
    data = (
        f'<e:Envelope xmlns:e="{version}">{head}<e:Body><ms:GetRecord xmlns:ms="{NS}"'
        f"{attributes}>{payload}</ms:GetRecord></e:Body></e:Envelope>"
    ).encode()
    return read_envelope(data, "/merlin")


def parsed(data: bytes) -> etree._Element:
    return parse_xml(data)


def payload_of(data: bytes) -> etree._Element:
    body = parse_xml(data).find("{*}Body")
    assert body is not None
    return body[0]
