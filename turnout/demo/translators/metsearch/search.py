"""MetSearch Search -> GET /people, GET /crimes?victimSurname=, GET /records, all at once.

A fan-out translator (docs/translators.md, "Several calls"): `to_calls` names three calls, each
`optional` with MetSearch's per-source timeout, so a source that does not answer in time (or
fails) reaches `to_replies` as a `NoAnswer` and is named in `sourcesUnavailable`, as the bus
names it. What is declared in `_metsearch.yaml`: the namespace, the response template, the
MessageHeader and the faults. What is Python, because a mapping cannot say it: the three calls,
and the merge (the bus's rule, turnout/demo/bus/metsearch.py): PNC and CRIS hits score 60, +25
with forenames, +15 with a date of birth, MERLIN's keep its score; hits about the same PNC
person are one hit, the best ranked, listing the others in `alsoIn`; ranked by score, then
source (PNC, MERLIN, CRIS), then the order the source answered in (never by a value redaction
replaces, so a redacted recording replays in the bus's order).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from lxml import etree

from turnout.soap import Envelope
from turnout.translators import (
    JsonCall,
    JsonCalls,
    JsonReplies,
    JsonReply,
    NamedCall,
    PythonTranslator,
    SoapReply,
    TranslationError,
)

#: seconds each source may take: the bus's SOURCE_TIMEOUT
SOURCE_TIMEOUT = 2.0
#: source -> modern service; the order `sourcesUnavailable` lists them in
SOURCES = {"PNC": "pnc", "CRIS": "cris", "MERLIN": "merlin"}
RANK = {"PNC": 0, "MERLIN": 1, "CRIS": 2}
_DDMMYYYY = re.compile(r"(\d{2})/(\d{2})/(\d{4})")


class Search(PythonTranslator):
    name = "metsearch/Search"
    operation = "/metsearch Search"
    service = "pnc"  # the first of its calls; each call names its own service
    shared = "_metsearch.yaml"

    def prepare(self) -> None:
        self.response = self.template("searchResponse")
        for field in ("surname", "forenames", "dateOfBirth"):
            self.xpath(f"ms:{field}")

    # -- the request --------------------------------------------------------------------

    def _field(self, request: Envelope, field: str, max_length: int) -> str | None:
        text = self.text(request, f"ms:{field}")
        if text is not None and len(text) > max_length:
            raise self.reject(request, field, f"{field} is longer than {max_length} characters")
        return text

    def _date(self, request: Envelope) -> str | None:
        text = self.text(request, "ms:dateOfBirth")
        if text is None:
            return None
        match = _DDMMYYYY.fullmatch(text)
        if not match:
            raise self.reject(request, "dateOfBirth",
                              f"dateOfBirth {text!r} is not a date in the form DD/MM/YYYY")
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            raise self.reject(request, "dateOfBirth",
                              f"dateOfBirth {text!r} is not a calendar date") from None

    def to_calls(self, request: Envelope, *, dry_run: bool = False) -> JsonCalls:
        surname = self._field(request, "surname", 35)
        if surname is None:
            raise self.reject(request, "surname", "surname is required")
        forenames = self._field(request, "forenames", 50)
        dob = self._date(request)

        def call(service: str, path: str, query: dict[str, str | None]) -> NamedCall:
            pairs = tuple((k, v) for k, v in query.items() if v is not None)
            return NamedCall(service, JsonCall(service, "GET", path, pairs),
                             timeout=SOURCE_TIMEOUT, optional=True)

        return JsonCalls((
            call("pnc", "/people", {"surname": surname, "forenames": forenames, "dob": dob}),
            call("cris", "/crimes", {"victimSurname": surname, "victimForenames": forenames,
                                     "victimDob": dob}),
            call("merlin", "/records", {"surname": surname, "forenames": forenames, "dob": dob}),
        ))

    def to_call(self, request: Envelope, *, dry_run: bool = False) -> JsonCall:
        raise TranslationError("MetSearch makes three calls: use to_calls", translator=self.name)

    # -- the reply ----------------------------------------------------------------------

    def to_reply(self, reply: JsonReply, request: Envelope) -> SoapReply:
        """A refusal made before any call (401/403), worded by the shared fault rules."""
        return self.fault_for(reply, request)

    def to_replies(self, replies: JsonReplies, request: Envelope) -> SoapReply:
        exact = 60 + (25 if self.text(request, "ms:forenames") else 0) + (
            15 if self.text(request, "ms:dateOfBirth") else 0)
        hits: list[dict[str, Any]] = []
        unavailable: list[str] = []
        for source, service in SOURCES.items():
            reply = replies.get(service)
            if not isinstance(reply, JsonReply) or reply.status != 200:
                unavailable.append(source)  # late, failed, or refused: not answered
                continue
            hits.extend(self._hits(source, reply.body, exact))
        merged = _merge(hits)
        document = {"hitCount": len(merged), "hits": merged, "unavailable": unavailable}
        scope = self.scope(request, document)

        def body(parent: etree._Element) -> None:
            self.build(self.add(parent, "ms:SearchResponse"), self.response, scope)

        return self.respond(request, body, document)

    def _hits(self, source: str, body: Any, exact: int) -> list[dict[str, Any]]:
        try:
            if source == "PNC":
                return [_hit(source, p["pncId"], p, exact, p["pncId"], n)
                        for n, p in enumerate(body["items"])]
            if source == "CRIS":
                return [_hit(source, c["reference"], c["victim"], exact, c["victim"]["pncId"], n)
                        for n, c in enumerate(body["items"])]
            return [_hit(source, h["record"]["recordId"], h["record"]["subject"], h["score"],
                         h["record"]["subject"]["pncId"], n) for n, h in enumerate(body["hits"])]
        except (KeyError, TypeError) as exc:
            raise TranslationError(f"{SOURCES[source]} answered without {exc}",
                                   translator=self.name) from None


def _hit(source: str, reference: str, who: dict[str, Any], score: int,
         person: str | None, order: int) -> dict[str, Any]:
    return {"source": source, "reference": reference, "surname": who["name"]["family"],
            "forenames": who["name"]["given"], "dateOfBirth": who["dateOfBirth"],
            "score": score, "person": person, "order": order, "alsoIn": []}


def _rank(hit: dict[str, Any]) -> tuple[int, int, int]:
    return (-hit["score"], RANK[hit["source"]], hit["order"])


def _merge(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One hit per PNC person, the best ranked, with the others in `alsoIn`; then ranked."""
    groups: dict[str, list[dict[str, Any]]] = {}
    alone: list[list[dict[str, Any]]] = []
    for hit in hits:
        if hit["person"] is None:
            alone.append([hit])
        else:
            groups.setdefault(hit["person"], []).append(hit)
    merged = []
    for group in (*groups.values(), *alone):
        best, *others = sorted(group, key=_rank)
        merged.append({**best, "alsoIn": [{"source": o["source"], "reference": o["reference"]}
                                          for o in others]})
    return sorted(merged, key=_rank)


TRANSLATORS = [Search()]
