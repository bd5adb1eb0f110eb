"""Writing the SOAP side of a reply: the header every envelope carries and the fault rules.

    response:
      header:
        pnc:MessageHeader:
          pnc:messageId: {generate: message_id}
          pnc:timestamp: {generate: now, date: {from: iso, to: "%d/%m/%Y %H:%M:%S", utc: true}}
      faults:
        - status: 404
          fault: client
          reason: {json: error.message}
          detail:
            pnc:ServiceFault:
              pnc:errorCode: {value: NOREC}
              pnc:errorText: {json: error.message}

A `ReplyWriter` holds these, compiled, and is shared by mapping translators and Python ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..config import Node
from ..soap import (
    Envelope,
    FaultCode,
    Part,
    SoapFault,
    SoapVersion,
    new_envelope,
    serialise,
    write_fault,
)
from ._jsonpath import MISSING, JsonPath, compile_json_path
from ._protocol import JsonReply, SoapReply, TranslationError
from ._templates import Element, compile_elements
from ._values import Declarations, Scope, ValueProblem, ValueSpec, compile_value

_STATUS_CLASS = re.compile(r"[1-5]xx")
OK_STATUS = 200
FAULT_STATUS = 500
FAULT_KEYS = {"status", "when", "fault", "subcodes", "reason", "detail", "header"}
#: a fault code `prefix:Name` (or a subcode)
_QNAME = re.compile(r"([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)")
#: a code in the reply's own envelope namespace, whichever version that is (`soap:` undeclared)
ENVELOPE_NS = "urn:turnout:the-reply-envelope"


@dataclass(frozen=True)
class StatusMatch:
    """Which HTTP statuses a fault rule covers: exact codes and whole classes (`4xx`)."""

    codes: frozenset[int] = frozenset()
    classes: frozenset[int] = frozenset()  # 4 for 4xx

    def __contains__(self, status: int) -> bool:
        return status in self.codes or status // 100 in self.classes

    @classmethod
    def parse(cls, node: Node) -> StatusMatch:
        items = list(node.items()) if isinstance(node.value, list) else [node]
        codes: set[int] = set()
        classes: set[int] = set()
        for item in items:
            if isinstance(item.value, str) and _STATUS_CLASS.fullmatch(item.value):
                classes.add(int(item.value[0]))
            elif isinstance(item.value, str) and item.value.isdigit():
                codes.add(int(item.value))
            else:
                codes.add(item.integer(100, 599))
        if not codes and not classes:
            raise node.error("give at least one status: 404, [400, 422] or 5xx")
        return cls(frozenset(codes), frozenset(classes))


#: what a mapping answers as a success unless it says otherwise: any 2xx
ANY_SUCCESS = StatusMatch(classes=frozenset({2}))


@dataclass(frozen=True)
class FaultRule:
    """Answer with a SOAP Fault: blame the caller (`client`) or the server, with a reason and
    detail elements built from the JSON error body and the request."""

    sender: bool
    reason: ValueSpec
    detail: tuple[Element, ...]
    statuses: StatusMatch | None = None  # None for the invalid-request rule
    when: tuple[tuple[JsonPath, tuple[Any, ...]], ...] = ()
    where: str = ""
    #: a code given as a QName (`soap11env:Client.RecordNotFound`), instead of `sender`
    code: etree.QName | None = None
    subcodes: tuple[etree.QName, ...] = ()
    #: write the response header on this Fault: None follows `response.fault_header`
    header: bool | None = None

    def fault_code(self, version: SoapVersion) -> FaultCode | etree.QName:
        if self.code is None:
            return FaultCode.SENDER if self.sender else FaultCode.RECEIVER
        if self.code.namespace == ENVELOPE_NS:
            return etree.QName(version.namespace, self.code.localname)
        return self.code

    def matches(self, reply: JsonReply) -> bool:
        if self.statuses is None or reply.status not in self.statuses:
            return False
        for path, wanted in self.when:
            try:
                value = path.read(reply.body, reply.body)
            except TranslationError:
                return False
            if value is MISSING or value not in wanted:
                return False
        return True


def compile_fault(node: Node, decl: Declarations, *, with_status: bool) -> FaultRule:
    allowed = FAULT_KEYS if with_status else FAULT_KEYS - {"status", "when"}
    node.mapping(allowed)
    statuses = None
    if with_status:
        status_node = node.get("status")
        if status_node is None:
            raise node.error("a fault rule needs status: (404, [400, 422] or 5xx)")
        statuses = StatusMatch.parse(status_node)
    fault_node = node.get("fault")
    sender, code = True, None
    if fault_node is not None:
        text = fault_node.value
        if text in ("client", "server"):
            sender = text == "client"
        else:
            code = _qname(fault_node, decl, "client, server or a QName like soap:Client.NotFound")
    subcodes: tuple[etree.QName, ...] = ()
    if (sub_node := node.get("subcodes")) is not None:
        items = list(sub_node.items()) if isinstance(sub_node.value, list) else [sub_node]
        subcodes = tuple(_qname(item, decl, "a QName like ms:NOTFOUND") for item in items)
    header_node = node.get("header")
    header = header_node.boolean() if header_node is not None else None
    reason_node = node.get("reason")
    if reason_node is None:
        raise node.error("a fault needs reason: (the faultstring, e.g. {json: error.message})")
    reason = compile_value(reason_node, decl, "response")
    detail_node = node.get("detail")
    detail: tuple[Element, ...] = ()
    if detail_node is not None and detail_node.value is not False:  # false: no detail at all
        detail = compile_elements(detail_node, decl, "detail")
    when = []
    if (when_node := node.get("when")) is not None:
        if not isinstance(when_node.value, dict) or not when_node.value:
            raise when_node.error("when: must map JSON paths to the value (or values) they hold")
        for key in when_node.value:
            item = when_node.get(key)
            assert item is not None
            try:
                path = compile_json_path(str(key))
            except ValueError as exc:
                raise item.error(str(exc)) from None
            plain = item.plain()
            when.append((path, tuple(plain) if isinstance(plain, list) else (plain,)))
    return FaultRule(
        sender, reason, detail, statuses, tuple(when), where=f"{node.file}:{node.line}",
        code=code, subcodes=subcodes, header=header,
    )


def _qname(node: Node, decl: Declarations, what: str) -> etree.QName:
    """`prefix:Name` with a declared prefix; `soap:` undeclared is the reply's envelope."""
    text = node.value
    match = _QNAME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise node.error(f"must be {what}, not {text!r}")
    prefix, local = match.groups()
    if prefix in decl.namespaces:
        return etree.QName(decl.namespaces[prefix] or None, local)
    if prefix == "soap":
        return etree.QName(ENVELOPE_NS, local)
    raise node.error(f"fault code {text!r} uses undeclared namespace prefix {prefix!r}")


@contextmanager
def reply_errors() -> Iterator[None]:
    """Turn a value the reply half could not produce into a TranslationError that says which
    JSON field and which line of the mapping."""
    try:
        yield
    except ValueProblem as problem:
        raise TranslationError(f"{problem.message} ({problem.where})") from None


@dataclass(frozen=True)
class ReplyWriter:
    """Writes envelopes the way the legacy service does: its namespaces, its header, its
    faults. `to_soap` is the whole reply half of a mapping translator, given a body builder."""

    namespaces: dict[str, str] = field(default_factory=dict)
    header: tuple[Element, ...] = ()
    faults: tuple[FaultRule, ...] = ()
    invalid: FaultRule | None = None
    #: whether Faults carry `header` (a rule's own `header:` wins)
    fault_header: bool = True

    def respond(
        self, request: Envelope, scope: Scope, body: Callable[[etree._Element], None]
    ) -> SoapReply:
        """A 200 response envelope: the header, then whatever `body` appends to the Body."""
        version = request.version
        with reply_errors():
            envelope, body_el = new_envelope(
                version, self.namespaces, _built(self.header, scope)
            )
            body(body_el)
        return SoapReply(OK_STATUS, version.content_type, serialise(envelope))

    def fault(self, request: Envelope, scope: Scope, rule: FaultRule) -> SoapReply:
        """A 500 Fault envelope built from `rule`, in the request's SOAP version, by the one
        Fault writer: the header every envelope carries, the rule's code, reason and detail."""
        version = request.version
        with reply_errors():
            reason = rule.reason.evaluate(scope)
            with_header = self.fault_header if rule.header is None else rule.header
            fault = SoapFault(
                str(reason or ""),
                rule.fault_code(version),
                subcodes=rule.subcodes,
                header=_built(self.header, scope) if with_header else (),
                detail=_built(rule.detail, scope),
            )
            body = write_fault(version, fault, self.namespaces)
        return SoapReply(FAULT_STATUS, version.content_type, body)

    def rule_for(self, reply: JsonReply) -> FaultRule | None:
        return next((rule for rule in self.faults if rule.matches(reply)), None)


def _built(templates: tuple[Element, ...], scope: Scope) -> tuple[Part, ...]:
    """`templates` as one part that builds them in place, where the envelope's namespace
    prefixes are in scope; no parts when there are no templates."""
    if not templates:
        return ()

    def build(parent: etree._Element) -> None:
        for element in templates:
            element.build(parent, scope)

    return (build,)
