"""Following state during a replay: capture what the target answers, carry it into later
requests, and hold a request back until the answer it depends on has come.

Before anything is sent, the recordings say who depends on whom: a request whose recorded
value at a rule's `to` path was first given, in the recording, by an earlier answer at the
rule's `from` path depends on that exchange (when it is being replayed too). While
replaying:

- `prepare(i, request)` waits for the answers request i depends on, then replaces, at each
  `to` path of its operation, a leaf whose whole text (or attribute value) is a recorded
  value captured from the target with the target's value. The body is then serialised
  again (UTF-8, or the encoding it declared); a body with nothing to replace goes as it was.
  A value that an answer gave in the recording but that was never captured from the target
  (the creating request failed, or was not sent) stays as recorded and is counted;
- `capture(i, original, sent)` pairs the recorded answer's values at each `from` path of the
  operation with the target's answer's values at the same path, in document order, when
  the target answered with a 2xx that is not a Fault; then releases the requests waiting.

Only whole values at named paths are replaced: a reference quoted inside free text
(`... court (CR/2026/000111).`) is sent as recorded.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from lxml import etree

from turnout.soap import HttpRequest, SoapError, parse_xml

from ._carry_rules import CarryPlace, CarryRule, answered_ok, elements_at, leaves, values_at
from ._exchange import Exchange

KeyOf = Callable[[Exchange], str | None]


class Carrier:
    """The state of one replay that follows `rules` over `send` (in the order sent).

    `recorded`: every exchange of the recordings, sent or not, in time order, so that a
    request whose value came from an exchange that is not being replayed is reported."""

    def __init__(self, rules: Sequence[CarryRule], send: Sequence[Exchange], key_of: KeyOf,
                 recorded: Sequence[Exchange] | None = None) -> None:
        self.rules = list(rules)
        self._send = list(send)
        self._keys = [key_of(e) for e in self._send]
        self._sources: dict[str, list[CarryPlace]] = {}
        self._targets: dict[str, list[CarryRule]] = {}
        for rule in self.rules:
            places = self._sources.setdefault(rule.source.operation, [])
            if rule.source not in places:
                places.append(rule.source)
            self._targets.setdefault(rule.target.operation, []).append(rule)
        self.captured: dict[CarryPlace, dict[str, str]] = {}
        self.substitutions: Counter[str] = Counter()  # rule -> values replaced
        self.not_captured: Counter[str] = Counter()  # rule -> values sent as recorded
        self.notes: dict[int, list[str]] = {}  # sent index -> what happened to its values
        self.needs = self._dependencies(recorded if recorded is not None else self._send, key_of)
        self._done: list[asyncio.Event] | None = None

    # -- before sending ------------------------------------------------------------------------
    def _dependencies(self, recorded: Sequence[Exchange], key_of: KeyOf) -> list[set[int]]:
        """For each request sent, the indexes (in `send`) of the exchanges it waits for. Also
        sets `self._given`: for each source place, the recorded values it gave and the
        position (in `recorded`) of the first exchange whose answer gave each."""
        order = {e.id: n for n, e in enumerate(recorded)}
        self._order = [order.get(e.id, len(recorded)) for e in self._send]
        self._given: dict[CarryPlace, dict[str, int]] = {}
        for n, exchange in enumerate(recorded):
            key = key_of(exchange)
            if key is None or key not in self._sources or not answered_ok(exchange.response):
                continue
            assert exchange.response is not None
            for place in self._sources[key]:
                given = self._given.setdefault(place, {})
                for value in values_at(exchange.response.body, place.path):
                    given.setdefault(value, n)
        sent_at = {n: i for i, n in enumerate(self._order)}
        needs: list[set[int]] = []
        for i, exchange in enumerate(self._send):
            wanted: set[int] = set()
            for rule, value in self._carried(i, exchange):
                j = sent_at.get(self._producer(rule, value, i), -1)
                if 0 <= j < i:
                    wanted.add(j)
            needs.append(wanted)
        return needs

    def _producer(self, rule: CarryRule, value: str, i: int) -> int:
        """The position in the recordings of the exchange that gave `value` at the rule's
        source before request i was sent in the recording; -1 when none did."""
        n = self._given.get(rule.source, {}).get(value, -1)
        return n if n < self._order[i] else -1

    def _carried(self, i: int, exchange: Exchange) -> list[tuple[CarryRule, str]]:
        """The (rule, recorded value) pairs request i holds at its rules' `to` paths."""
        rules = self._targets.get(self._keys[i] or "", [])
        if not rules:
            return []
        found = leaves(exchange.request.body)
        return [(rule, value) for rule in rules for path, value in found
                if path == rule.target.path]

    async def prepare(self, index: int, request: HttpRequest) -> HttpRequest:
        """Request `index` as it must be sent: after the answers it needs, with their values."""
        done = self._events()
        for j in sorted(self.needs[index]):
            await done[j].wait()
        rules = self._targets.get(self._keys[index] or "", [])
        if not rules or not request.body:
            return request
        try:
            root = parse_xml(request.body)
        except SoapError:
            return request
        changed = False
        notes = self.notes.setdefault(index, [])
        for rule in rules:
            for slot in _slots(root, rule.target.path):
                value = slot.get()
                new = self.captured.get(rule.source, {}).get(value)
                if new is not None:
                    if new != value:
                        slot.put(new)
                        changed = True
                        self.substitutions[rule.describe()] += 1
                        notes.append(f"carried {rule.target.path}")
                elif self._producer(rule, value, index) >= 0:
                    self.not_captured[rule.describe()] += 1
                    notes.append(f"not captured {rule.target.path}")
        if not changed:
            return request
        encoding = root.getroottree().docinfo.encoding or "utf-8"
        body = etree.tostring(root.getroottree(), xml_declaration=True, encoding=encoding)
        return replace(request, body=body)

    # -- after an answer -----------------------------------------------------------------------
    def capture(self, index: int, original: Exchange, answer_body: bytes | None) -> None:
        """Pair the recorded answer's values with the target's (`answer_body`, None when it
        did not answer well), then let the requests that wait for this one go."""
        try:
            key = self._keys[index]
            if answer_body is not None and key in self._sources and original.response:
                for place in self._sources[key]:
                    old = values_at(original.response.body, place.path)
                    new = values_at(answer_body, place.path)
                    taken = self.captured.setdefault(place, {})
                    for before, after in zip(old, new, strict=False):
                        taken.setdefault(before, after)
        finally:
            self._events()[index].set()

    def _events(self) -> list[asyncio.Event]:
        """One event per request, made in the running loop the first time it is needed."""
        if self._done is None:
            self._done = [asyncio.Event() for _ in self._send]
        return self._done


@dataclass(frozen=True)
class _Slot:
    """One leaf value in a tree: an element's text, or one of its attributes (`name`)."""

    element: etree._Element
    name: str | None = None

    def get(self) -> str:
        found = self.element.text if self.name is None else self.element.get(self.name)
        return (found or "").strip()

    def put(self, value: str) -> None:
        if self.name is None:
            self.element.text = value
        else:
            self.element.set(self.name, value)


def _slots(root: etree._Element, path: str) -> list[_Slot]:
    """Each leaf value at `path`: an element's text (a leaf only), or an attribute."""
    element_path, _, attribute = path.partition("/@")
    slots: list[_Slot] = []
    for element in elements_at(root, element_path):
        if attribute:
            slots.extend(_Slot(element, name) for name in element.keys()
                         if etree.QName(name).localname == attribute)
        elif not any(isinstance(c.tag, str) for c in element):
            slots.append(_Slot(element))
    return slots
