"""The one Fault writer, for SOAP 1.1 and 1.2, and Turnout's own faults written with it.

`SoapFault` says everything a Fault envelope can carry: a code (one both versions define, by
meaning, or any QName), 1.2 subcodes, the reason and its language, a Header, and the detail
(elements already built or simple values). `write_fault` lays it out in the version's shape,
which comes from the `SoapVersion` (`faults`, `code_name`), so nothing here or above asks which
version it is writing. The proxy, the translators and the demo bus all write their Faults here.

`Fault` is Turnout's own refusal (the proxy's, the gateway's): a sentence, who is to blame and a
stable `kind`, sent with a `TurnoutFault` detail and no Header by `build_fault`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from ._compose import Part, add_parts, new_envelope, serialise
from ._version import FaultCode, SoapVersion

TURNOUT_FAULT_NS = "urn:turnout:fault"


@dataclass(frozen=True)
class SoapFault:
    """A Fault envelope to write, in terms both SOAP versions can carry.

    `code` is a `FaultCode` (written `soap:Client` in 1.1, `soap:Sender` in 1.2) or a QName
    written as given (`etree.QName(SOAP11_NS, "Client.RecordNotFound")`, or a code in the
    service's own namespace). `subcodes` refine it: nested `Subcode/Value` in 1.2; in 1.1, whose
    code is one QName, their local names follow the code after dots (`soap:Client.NotFound`).
    `lang` is the reason's `xml:lang` (1.2 only). `header` and `detail` are `Part`s; an empty
    Header or detail is left out.
    """

    reason: str
    code: FaultCode | etree.QName = FaultCode.SENDER
    subcodes: tuple[etree.QName, ...] = ()
    lang: str = "en"
    header: tuple[Part, ...] = ()
    detail: tuple[Part, ...] = ()


def write_fault(
    version: SoapVersion, fault: SoapFault, namespaces: Mapping[str, str] | None = None
) -> bytes:
    """`fault` as a complete envelope of `version`, UTF-8 with an XML declaration.

    `namespaces` (prefix -> URI) are declared on the Envelope, as the caller's other envelopes
    declare them; a namespace a code or subcode needs and `namespaces` lacks is declared there
    too, with a prefix of its own (`c1`, `c2`, ...).
    """
    declared = dict(namespaces or {})
    for name in _qnames(fault):
        if name.namespace and name.namespace != version.namespace and (
            name.namespace not in {uri for prefix, uri in declared.items() if prefix}
        ):
            declared[_free_prefix(declared)] = name.namespace
    envelope, body = new_envelope(version, declared, fault.header)
    node = etree.SubElement(body, f"{{{version.namespace}}}Fault")
    prefixes = _prefixes(envelope)
    codes = [_code_text(version, code, prefixes) for code in (fault.code, *fault.subcodes)]
    version.faults.code(node, codes)
    version.faults.reason(node, fault.reason, fault.lang)
    if fault.detail:
        detail = add_parts(version.faults.detail(node), fault.detail)
        if len(detail) == 0:
            node.remove(detail)
    return serialise(envelope)


def _qnames(fault: SoapFault) -> list[etree.QName]:
    names = [fault.code] if isinstance(fault.code, etree.QName) else []
    return names + list(fault.subcodes)


def _free_prefix(declared: Mapping[str, str]) -> str:
    n = 1
    while f"c{n}" in declared:
        n += 1
    return f"c{n}"


def _prefixes(envelope: etree._Element) -> dict[str, str]:
    """URI -> the first prefix the Envelope declares for it; "" -> "" unless a default namespace
    is declared (an unprefixed code would then name that namespace)."""
    found = {"": ""} if None not in envelope.nsmap else {}
    for prefix, uri in envelope.nsmap.items():
        if prefix:
            found.setdefault(uri, prefix)
    return found


def _code_text(
    version: SoapVersion, code: FaultCode | etree.QName, prefixes: Mapping[str, str]
) -> str:
    """A code as QName text: `soap:Client`, `pnc:NoRecord`, or `Bare` for no namespace."""
    if isinstance(code, FaultCode):
        return f"{prefixes[version.namespace]}:{version.code_name(code)}"
    if code.namespace:
        return f"{prefixes[code.namespace]}:{code.localname}"
    if "" not in prefixes:
        raise ValueError(
            f"fault code {code.localname!r} is in no namespace, but the envelope declares a "
            "default one, which the unprefixed code would name instead"
        )
    return code.localname


@dataclass(frozen=True)
class Fault:
    """A fault to send: who is to blame, a sentence for a person, and a machine-readable kind."""

    reason: str
    sender: bool = True  # True: the caller's request is at fault; False: we or a neighbour failed
    kind: str = "error"  # a short stable token, e.g. "threat.doctype", "upstream.timeout"
    details: dict[str, str] = field(default_factory=dict)

    def to_soap(self) -> SoapFault:
        """This fault as the writer takes it: no Header, a `TurnoutFault` detail."""
        info = etree.Element(f"{{{TURNOUT_FAULT_NS}}}TurnoutFault", nsmap={"t": TURNOUT_FAULT_NS})
        etree.SubElement(info, f"{{{TURNOUT_FAULT_NS}}}kind").text = self.kind
        for key, value in sorted(self.details.items()):
            etree.SubElement(info, f"{{{TURNOUT_FAULT_NS}}}detail", name=key).text = value
        code = FaultCode.SENDER if self.sender else FaultCode.RECEIVER
        return SoapFault(self.reason, code, detail=(info,))


def build_fault(version: SoapVersion, fault: Fault) -> bytes:
    """Serialise `fault` as a complete envelope of `version`, UTF-8, with an XML declaration."""
    return write_fault(version, fault.to_soap())
