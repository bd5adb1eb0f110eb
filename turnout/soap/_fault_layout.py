"""Where a Fault's parts go in each SOAP version: the one place 1.1 and 1.2 Faults differ.

SOAP 1.1 writes unqualified `faultcode`, `faultstring` and `detail` children, with one QName for
the code, refined the 1.1 way with dots (`soap:Client.RecordNotFound`). SOAP 1.2 writes qualified
`Code/Value` with a chain of `Subcode/Value`, `Reason/Text` with `xml:lang`, and `Detail`.
`SoapVersion.faults` holds one of these, so the writer in `_fault` never asks which version it
is writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lxml import etree

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class FaultLayout(Protocol):
    """Appends a Fault's code, reason and detail container to a `Fault` element."""

    def code(self, fault: etree._Element, codes: Sequence[str]) -> None:
        """`codes`: the code, then each subcode, as prefixed QName text (`soap:Client`)."""

    def reason(self, fault: etree._Element, text: str, lang: str) -> None: ...

    def detail(self, fault: etree._Element) -> etree._Element:
        """A new, empty detail container appended to `fault`."""


class Soap11Faults:
    """faultcode, faultstring, detail: unqualified, as SOAP 1.1 section 4.4 has them."""

    def code(self, fault: etree._Element, codes: Sequence[str]) -> None:
        refinements = "".join(f".{code.rpartition(':')[2]}" for code in codes[1:])
        etree.SubElement(fault, "faultcode").text = codes[0] + refinements

    def reason(self, fault: etree._Element, text: str, lang: str) -> None:
        etree.SubElement(fault, "faultstring").text = text  # 1.1 has no place for the language

    def detail(self, fault: etree._Element) -> etree._Element:
        return etree.SubElement(fault, "detail")


class Soap12Faults:
    """Code/Value (with Subcode/Value nested for each subcode), Reason/Text, Detail: qualified,
    as SOAP 1.2 part 1 section 5.4 has them."""

    def code(self, fault: etree._Element, codes: Sequence[str]) -> None:
        ns = etree.QName(fault).namespace
        parent = etree.SubElement(fault, f"{{{ns}}}Code")
        for depth, code in enumerate(codes):
            if depth:
                parent = etree.SubElement(parent, f"{{{ns}}}Subcode")
            etree.SubElement(parent, f"{{{ns}}}Value").text = code

    def reason(self, fault: etree._Element, text: str, lang: str) -> None:
        ns = etree.QName(fault).namespace
        reason = etree.SubElement(fault, f"{{{ns}}}Reason")
        text_el = etree.SubElement(reason, f"{{{ns}}}Text")
        text_el.set(XML_LANG, lang)
        text_el.text = text

    def detail(self, fault: etree._Element) -> etree._Element:
        return etree.SubElement(fault, f"{{{etree.QName(fault).namespace}}}Detail")
