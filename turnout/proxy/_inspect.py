"""Deciding what a request is before anything is sent anywhere. Plain Python, no mitmproxy.

Three kinds of request, treated differently:
- threats (DOCTYPE, entities, over size or depth, two Bodies): answered here, never forwarded;
- unreadable (not XML, not an envelope): forwarded by default, because the bus may accept it
  today (first, do no harm), or answered with a Fault under `reject_unreadable`;
- readable envelopes: named, and checked for a SOAPAction that names another operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..soap import (
    Envelope,
    Fault,
    HttpRequest,
    OperationName,
    SoapVersion,
    XmlLimits,
    XmlThreat,
    XmlUnreadable,
    build_fault,
    headers_dict,
    read_envelope,
    version_for_content_type,
)


@dataclass
class Inspection:
    """What the proxy learned about one request, and whether it answers it itself."""

    version: SoapVersion
    envelope: Envelope | None = None
    outcome: str = "forwarded"  # forwarded | rejected | unreadable | mismatch-rejected | passthrough
    notes: list[str] = field(default_factory=list)
    #: a Fault the proxy answers with instead of forwarding; None means forward
    answer: "ProxyAnswer | None" = None

    @property
    def operation(self) -> OperationName | None:
        return self.envelope.operation if self.envelope else None

    @property
    def action(self) -> str | None:
        return self.envelope.action if self.envelope else None


@dataclass(frozen=True)
class ProxyAnswer:
    status: int
    content_type: str
    body: bytes


def fault_answer(version: SoapVersion, fault: Fault) -> ProxyAnswer:
    """A Fault the proxy sends itself: always HTTP 500, as both SOAP versions specify."""
    return ProxyAnswer(500, version.content_type, build_fault(version, fault))


def inspect_request(
    request: HttpRequest,
    limits: XmlLimits,
    *,
    reject_unreadable: bool = False,
    reject_mismatch: bool = False,
) -> Inspection:
    headers = headers_dict(request.headers)
    guessed = version_for_content_type(headers.get("content-type"))
    if request.method != "POST":
        # WSDL downloads and anything else that is not a SOAP call pass through untouched.
        return Inspection(guessed, outcome="passthrough")
    try:
        envelope = read_envelope(request.body, request.path, headers, limits)
    except XmlThreat as threat:
        fault = Fault(
            f"Request refused by the proxy: {threat}",
            sender=True,
            kind=f"threat.{threat.kind}",
        )
        return Inspection(
            guessed, outcome="rejected", notes=[f"threat:{threat.kind}"],
            answer=fault_answer(guessed, fault),
        )
    except XmlUnreadable as problem:
        inspection = Inspection(guessed, outcome="unreadable", notes=[f"unreadable: {problem}"])
        if reject_unreadable:
            fault = Fault(
                f"Request is not a readable SOAP envelope: {problem}",
                sender=True, kind="unreadable",
            )
            inspection.answer = fault_answer(guessed, fault)
        return inspection
    inspection = Inspection(envelope.version, envelope=envelope)
    if envelope.action_mismatch:
        inspection.notes.append("soapaction-mismatch")
        if reject_mismatch:
            inspection.outcome = "mismatch-rejected"
            fault = Fault(
                f"SOAPAction {envelope.action!r} names another operation than the Body "
                f"({envelope.operation.name})",
                sender=True, kind="soapaction-mismatch",
                details={"action": envelope.action or "", "body": envelope.operation.name},
            )
            inspection.answer = fault_answer(envelope.version, fault)
    return inspection

