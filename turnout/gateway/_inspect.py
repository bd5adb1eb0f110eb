"""Deciding what a request is before anything is sent anywhere. Plain Python, no mitmproxy.

Three kinds of request, treated differently:
- threats (DOCTYPE, entities, over size or depth, two Bodies, an encoding we cannot undo, a
  target we do not serve): answered here, never forwarded;
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
    Target,
    XmlLimits,
    build_fault,
)
from ..translators import SoapReply
from ._reading import ReadRequest, read_request


@dataclass(slots=True)
class Inspection:
    """What the proxy learned about one request, and whether it answers it itself."""

    version: SoapVersion
    envelope: Envelope | None = None
    outcome: str = "forwarded"  # forwarded | rejected | unreadable | mismatch-rejected | passthrough
    notes: list[str] = field(default_factory=list)
    #: a Fault the proxy answers with instead of forwarding; None means forward
    answer: SoapReply | None = None
    #: the one reading of the request: normalised target, decoded body, envelope
    read: ReadRequest | None = None

    @property
    def target(self) -> Target | None:
        return self.read.target if self.read else None

    @property
    def operation(self) -> OperationName | None:
        return self.envelope.operation if self.envelope else None

    @property
    def action(self) -> str | None:
        return self.envelope.action if self.envelope else None


def fault_answer(version: SoapVersion, fault: Fault, status: int = 500) -> SoapReply:
    """A Fault the proxy sends itself: HTTP 500, as both SOAP versions specify, except 400 for
    a request target the proxy does not serve (no SOAP processing happened)."""
    return SoapReply(status, version.content_type, build_fault(version, fault))


def inspect_request(
    request: HttpRequest,
    limits: XmlLimits,
    *,
    reject_unreadable: bool = False,
    reject_mismatch: bool = False,
    case_insensitive_paths: bool = False,
) -> Inspection:
    """Read `request` once (see `turnout.gateway.read_request`) and decide what the guard does
    with it before any route is looked at: threats and targets we do not serve are answered here."""
    read = read_request(request, limits, case_insensitive_paths)
    if read.reading == "passthrough":
        return Inspection(read.version, outcome="passthrough", read=read)
    if read.refusal is not None:
        status, fault = read.refusal
        return Inspection(read.version, outcome="rejected", notes=list(read.notes), read=read,
                          answer=fault_answer(read.version, fault, status))
    if read.envelope is None:
        inspection = Inspection(read.version, outcome="unreadable", notes=list(read.notes), read=read)
        if reject_unreadable:
            problem = read.notes[-1].removeprefix("unreadable: ") if read.notes else "unreadable"
            fault = Fault(
                f"Request is not a readable SOAP envelope: {problem}",
                sender=True, kind="unreadable",
            )
            inspection.answer = fault_answer(read.version, fault)
        return inspection
    envelope = read.envelope
    inspection = Inspection(envelope.version, envelope=envelope, notes=list(read.notes), read=read)
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
