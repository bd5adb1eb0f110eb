"""The virtual bus: a recorded answer for each SOAP request, with fresh volatile values.

`VirtualBus.answer(request)` is plain Python over `HttpRequest` and returns the response and
how long the recorded bus took; `turnout.mock.legacy_app` serves it over HTTP.

A request is read and named exactly as the proxy reads and names it (`turnout.gateway.
read_request`: the target normalised, the body decoded, the operation the service path plus the
Body's first element). The recording is chosen by `LegacyBook.choose`. The answer is the
recorded envelope with every volatile leaf (what the compare rules ignore; for a write, what
the bus allocated) made fresh (`turnout.mock._fresh`).

State follows within one mock's life: a fresh value the mock handed out (a new crime
reference) is remembered with the recorded value it stands for, so a later request carrying it
(`GetCrimeReport` of the new reference) is matched as if it carried the recorded one, and its
answer carries the fresh value back where the recorded one was. The memory (`Handed`) may be
shared with the virtual services, so that values either one handed out are known to both.

A request no recording answers gets a SOAP Fault (HTTP 500) naming the operation, the nearest
recording and the fields that differ, with a `TurnoutFault` detail of kind `mock.no-match`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from turnout.gateway import read_request
from turnout.soap import (
    DEFAULT_LIMITS,
    SOAP11,
    Fault,
    HttpRequest,
    HttpResponse,
    SoapVersion,
    build_fault,
)

from ._book import Choice, LegacyBook, Recorded, at, username
from ._fresh import Freshener
from ._handed import Handed

_SHOWN_DIFFERENCES = 5


@dataclass(frozen=True)
class Answer:
    response: HttpResponse
    #: the recorded bus's own time for this answer (ms), for `--latency recorded`
    bus_ms: float | None
    #: exact | rules | nearest-write | none | unreadable
    how: str


def _fault(reason: str, kind: str, details: dict[str, str],
           version: SoapVersion = SOAP11) -> HttpResponse:
    fault = Fault(reason, sender=True, kind=kind, details=details)
    return HttpResponse(500, [("Content-Type", version.content_type)], build_fault(version, fault))


class VirtualBus:
    """Answers SOAP requests from a `LegacyBook`."""

    def __init__(self, book: LegacyBook, handed: Handed | None = None) -> None:
        self.book = book
        self.freshener = Freshener()
        #: fresh value handed out -> the recorded value it stands for (shared with the virtual
        #: services when both run in one process)
        self.handed = handed if handed is not None else Handed()

    def answer(self, request: HttpRequest) -> Answer:
        read = read_request(request, DEFAULT_LIMITS)
        if read.envelope is None or read.service is None:
            why = read.refusal[1].reason if read.refusal else "not a SOAP envelope"
            return Answer(_fault(f"turnout mock: cannot read the request: {why}",
                                 "mock.unreadable", {}, read.version), None, "unreadable")
        envelope = read.envelope
        key = f"{read.service} {envelope.operation.name}"
        payload = copy.deepcopy(envelope.payload)
        stood_for = self._recorded_values(payload)
        choice = self.book.choose(key, payload, username(envelope.header))
        if choice.recorded is None:
            return Answer(self._no_match(key, choice, envelope.version), None, "none")
        return Answer(self._respond(choice.recorded, stood_for), choice.recorded.bus_ms, choice.how)

    def _recorded_values(self, payload: etree._Element) -> dict[str, str]:
        """Puts back the recorded value wherever the request carries one we handed out;
        returns recorded -> fresh for what it put back."""
        stood_for: dict[str, str] = {}
        if not self.handed:
            return stood_for
        for node in payload.iter():
            text = (node.text or "").strip() if isinstance(node.tag, str) else ""
            if text:
                put = self.handed.put_back(text, stood_for)
                if put != text:
                    node.text = put
        return stood_for

    def _respond(self, recorded: Recorded, stood_for: dict[str, str]) -> HttpResponse:
        headers = [("Content-Type", recorded.content_type)]
        if recorded.answer is None:
            return HttpResponse(recorded.status, headers, recorded.body)
        root = copy.deepcopy(recorded.answer)
        for position in recorded.volatile:
            node = at(root, position)
            was = (node.text or "").strip()
            if was in stood_for:  # the request carried our fresh value for it: the same again
                node.text = stood_for[was]
                continue
            fresh = self.freshener.draw(was)
            node.text = fresh
            if fresh != was:
                self.handed.remember(fresh, was)
        if stood_for:
            for node in root.iter():
                if isinstance(node.tag, str) and len(node) == 0:
                    text = (node.text or "").strip()
                    if text in stood_for:
                        node.text = stood_for[text]
        body: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8")
        return HttpResponse(recorded.status, headers, body)

    def _no_match(self, key: str, choice: Choice, version: SoapVersion) -> HttpResponse:
        details = {"operation": key}
        if choice.nearest is None:
            reason = f"turnout mock: no recording of {key}"
            known = self.book.operations
            details["recorded operations"] = ", ".join(known) if known else "none"
            return _fault(reason, "mock.no-operation", details, version)
        details["nearest"] = choice.nearest.id
        shown = []
        for number, difference in enumerate(choice.differences[:_SHOWN_DIFFERENCES], start=1):
            details[f"difference {number}"] = (
                f"{difference.kind} {difference.path}: recorded {difference.legacy!r}, "
                f"sent {difference.new!r}"
            )
            shown.append(f"{difference.path} ({difference.kind})")
        more = len(choice.differences) - len(shown)
        fields = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        reason = (f"turnout mock: no recording of {key} matches this request; the nearest, "
                  f"{choice.nearest.id}, differs at {fields}")
        return _fault(reason, "mock.no-match", details, version)
