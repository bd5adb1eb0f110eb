"""`/metsearch`: one search across PNC, CRIS and MERLIN, as the force's bus answers it. SOAP 1.1.

`Search(surname, forenames?, dateOfBirth?)` looks the person up in three sources at once:
PNC persons (as PersonEnquiry matches them), CRIS crime reports whose victim is such a person,
and MERLIN records (as SearchRecords ranks them, closed ones left out). Each source has
`SOURCE_TIMEOUT` seconds; a source that has not answered by then (or failed) is named in
`sourcesUnavailable` and its hits are left out: the answer never waits for the slowest.

The hits, merged:
- a score out of 100: MERLIN's own; PNC and CRIS match the surname exactly, the forenames as a
  prefix and the date of birth exactly, so they score 60, +25 when forenames were given, +15
  when a date of birth was (MERLIN's rule for the same match);
- de-duplicated by person: hits naming the same PNC id (a PNC person, a MERLIN record's
  subject, a crime's victim) are one hit, the best ranked of them, listing the others in
  `alsoIn` (source and reference, best ranked first);
- ranked by score (highest first), then source (PNC, MERLIN, CRIS), then the order the source
  answered in (PNC: by name and date of birth; CRIS: by reference; MERLIN: by record id), never
  by a value redaction replaces, so a redacted recording replays in the same order.
Names are written as the bus writes them everywhere: surname in capitals, forenames as held.

A demo switch makes a source slow (`DemoStore.slow_source`), so the unavailable path can be
seen: the lookup waits that long before answering, and the modern search endpoint too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date

from lxml import etree

from ...soap import SOAP11
from ..data import DemoStore
from ._codec import Fields, add, format_ddmmyyyy, new_element
from ._service import BusService

NS = "urn:police:metsearch:v1"
PREFIX = "ms"
#: seconds each source may take; the modern translator gives each call the same
SOURCE_TIMEOUT = 2.0
#: the order `sourcesUnavailable` lists them in
SOURCES = ("PNC", "CRIS", "MERLIN")
#: the order equal scores are ranked in
RANK = {"PNC": 0, "MERLIN": 1, "CRIS": 2}

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="metsearch")


@dataclass(frozen=True)
class Query:
    surname: str
    forenames: str | None
    born_on: date | None


@dataclass(frozen=True)
class Hit:
    source: str
    reference: str
    surname: str
    forenames: str
    born_on: date
    score: int
    #: the PNC id of the person the hit is about, when known: hits sharing one are merged
    person: str | None
    #: its place in its source's answer
    order: int = 0

    @property
    def rank(self) -> tuple[int, int, int]:
        return (-self.score, RANK[self.source], self.order)


def exact_score(query: Query) -> int:
    """The score of an exact PNC match (MERLIN's rule: surname 60, forenames 25, birth 15)."""
    return 60 + (25 if query.forenames else 0) + (15 if query.born_on else 0)


def _pnc(store: DemoStore, query: Query) -> list[Hit]:
    score = exact_score(query)
    return [Hit("PNC", p.pnc_id, p.surname, p.forenames, p.born_on, score, p.pnc_id, n)
            for n, p in enumerate(store.search_people(query.surname, query.forenames, query.born_on))]


def _cris(store: DemoStore, query: Query) -> list[Hit]:
    score = exact_score(query)
    found = store.search_crimes_by_victim(query.surname, query.forenames, query.born_on)
    return [Hit("CRIS", c.reference, p.surname, p.forenames, p.born_on, score, p.pnc_id, n)
            for n, (c, p) in enumerate(found)]


def _merlin(store: DemoStore, query: Query) -> list[Hit]:
    found = store.search_merlin(query.surname, query.forenames, query.born_on)
    return [Hit("MERLIN", h.record.record_id, h.record.surname, h.record.forenames,
                h.record.born_on, h.score, h.record.pnc_id, n) for n, h in enumerate(found)]


LOOKUPS: dict[str, Callable[[DemoStore, Query], list[Hit]]] = {
    "PNC": _pnc, "CRIS": _cris, "MERLIN": _merlin,
}


def _lookup(store: DemoStore, source: str, query: Query) -> list[Hit]:
    delay = store.source_delay(source)
    if delay:
        time.sleep(delay)  # the demo switch: this source answers late
    return LOOKUPS[source](store, query)


def merge(hits: list[Hit]) -> list[tuple[Hit, list[Hit]]]:
    """One entry per person (hits with the same PNC id), the best ranked hit first with the
    others it absorbed; the entries ranked as their hits are."""
    groups: dict[str, list[Hit]] = {}
    alone: list[list[Hit]] = []
    for hit in hits:
        if hit.person is None:
            alone.append([hit])
        else:
            groups.setdefault(hit.person, []).append(hit)
    merged = []
    for group in (*groups.values(), *alone):
        best, *others = sorted(group, key=lambda h: h.rank)
        merged.append((best, others))
    return sorted(merged, key=lambda entry: entry[0].rank)


def search(store: DemoStore, fields: Fields) -> etree._Element:
    """Every source at once, each within SOURCE_TIMEOUT; no match is an empty answer."""
    query = Query(
        fields.required("surname", max_length=35),
        fields.optional("forenames", max_length=50),
        fields.optional_ddmmyyyy("dateOfBirth"),
    )
    futures: dict[str, Future[list[Hit]]] = {
        source: _pool.submit(_lookup, store, source, query) for source in SOURCES
    }
    done, _ = wait(futures.values(), timeout=SOURCE_TIMEOUT)
    hits: list[Hit] = []
    unavailable: list[str] = []
    for source in SOURCES:
        future = futures[source]
        if future in done and future.exception() is None:
            hits.extend(future.result())
        else:
            unavailable.append(source)
    merged = merge(hits)
    response = new_element(NS, PREFIX, "SearchResponse")
    add(response, "hitCount", str(len(merged)))
    for best, others in merged:
        hit = add(response, "hit")
        add(hit, "source", best.source)
        add(hit, "reference", best.reference)
        add(hit, "surname", best.surname.upper())
        add(hit, "forenames", best.forenames)
        add(hit, "dateOfBirth", format_ddmmyyyy(best.born_on))
        add(hit, "score", str(best.score))
        for other in others:
            also = add(hit, "alsoIn")
            add(also, "source", other.source)
            add(also, "reference", other.reference)
    missing = add(response, "sourcesUnavailable")
    for source in unavailable:
        add(missing, "source", source)
    return response


SERVICE = BusService(
    name="metsearch",
    title="MetSearch: one search across PNC, CRIS and MERLIN",
    version=SOAP11,
    namespace=NS,
    prefix=PREFIX,
    handlers={"Search": search},
)
