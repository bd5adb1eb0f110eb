"""The virtual modern services: a recorded JSON reply for each JSON call.

Built from the JSON calls and replies translator and shadow exchanges record
(`Exchange.translation`: `call {service, method, path, query, body}`, `reply {status, body}`;
a fan-out translator's `calls` and `replies` by name, each call on its own).
A call is matched on its method and path, then on its query and body:

1. exact: the same query and the same JSON body (key order never counts);
2. a write (any method but GET and HEAD) with no exact match is answered from the nearest
   recording of the same method and path (fewest differing fields, earliest on a tie);
3. else HTTP 500 with a problem document (`application/problem+json`, type
   `urn:turnout:mock:no-match`) naming the call, the nearest recording and the fields that
   differ: a translator under development sees at once what it sent that nobody recorded.

Fresh values: for a write, a reply field whose value differs in every recorded reply of that
method and path (two or more) and is not in the call is what the service allocated (a
reference, an id), and is drawn fresh in the recorded shape (`turnout.mock._fresh`). As on the
virtual bus, state follows: a fresh value the mock handed out stands for the recorded one when
a later call carries it, in its path, query or body; the memory (`Handed`) may be shared with
the virtual bus, so a reference the bus handed out is known here (and the other way round).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from turnout.recording import Exchange

from ._fresh import Freshener
from ._handed import Handed

READS = frozenset({"GET", "HEAD"})
_SHOWN_DIFFERENCES = 5

Path = tuple[str | int, ...]


def _leaves(value: Any, at: Path = ()) -> Iterable[tuple[Path, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*at, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*at, index))
    else:
        yield at, value


def _flat(value: Any) -> dict[Path, Any]:
    return dict(_leaves(value))


def _dotted(path: Path) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out or "(the whole body)"


def _query(query: Any) -> dict[str, list[str]]:
    if not isinstance(query, dict):
        return {}
    result = {}
    for key, value in query.items():
        values = value if isinstance(value, list) else [value]
        result[str(key)] = [str(item) for item in values]
    return result


def _canonical(query: dict[str, list[str]], body: Any) -> str:
    return json.dumps([sorted(query.items()), body], sort_keys=True, separators=(",", ":"))


@dataclass
class RecordedCall:
    id: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    reply: Any
    service_ms: float | None
    #: leaf paths of the reply drawn fresh on each answer
    allocated: list[Path] = field(default_factory=list)

    @property
    def canonical(self) -> str:
        return _canonical(self.query, self.body)


@dataclass(frozen=True)
class ServiceAnswer:
    status: int
    content_type: str
    body: bytes
    service_ms: float | None
    #: exact | nearest-write | none
    how: str


def recorded_calls(exchange: Exchange) -> list[RecordedCall]:
    """The JSON calls an exchange recorded with their replies: its one `call` and `reply`, or a
    fan-out translator's `calls` and `replies` by name (a call its service never answered, a
    `NoAnswer`, is left out: there is nothing to replay)."""
    translation = exchange.translation or {}
    single = _recorded(exchange, translation.get("call"), translation.get("reply"),
                       translation.get("service_ms", translation.get("ms")))
    if single is not None:
        return [single]
    calls, replies = translation.get("calls"), translation.get("replies")
    if not isinstance(calls, dict) or not isinstance(replies, dict):
        return []
    found = []
    for name, call in calls.items():
        reply = replies.get(name)
        ms = reply.get("service_ms", reply.get("ms")) if isinstance(reply, dict) else None
        recorded = _recorded(exchange, call, reply, ms)
        if recorded is not None:
            found.append(recorded)
    return found


def _recorded(exchange: Exchange, call: Any, reply: Any, ms: Any) -> RecordedCall | None:
    if not isinstance(call, dict) or not isinstance(reply, dict):
        return None
    method, path, status = call.get("method"), call.get("path"), reply.get("status")
    if not isinstance(method, str) or not isinstance(path, str) or not isinstance(status, int):
        return None
    return RecordedCall(
        id=exchange.id, method=method.upper(), path=path, query=_query(call.get("query")),
        body=call.get("body"), status=status, reply=reply.get("body"),
        service_ms=float(ms) if isinstance(ms, (int, float)) else None,
    )


def _mark_allocated(calls: list[RecordedCall]) -> None:
    answered = [c for c in calls if 200 <= c.status < 300]
    if len(answered) < 2:
        return
    seen: dict[Path, list[Any]] = defaultdict(list)
    for call in answered:
        for path, value in _leaves(call.reply):
            if isinstance(value, str) and value:
                seen[path].append(value)
    allocated = [p for p, values in seen.items()
                 if len(values) == len(answered) and len(set(values)) == len(values)]
    for call in answered:
        sent = {v for _, v in _leaves(call.body) if isinstance(v, str)}
        reply = _flat(call.reply)
        call.allocated = [p for p in allocated if reply.get(p) not in sent]


def _set(document: Any, path: Path, value: Any) -> None:
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


class ServiceBook:
    """Recorded JSON calls by (method, path), and the answer to a live call."""

    def __init__(self, exchanges: Iterable[Exchange], handed: Handed | None = None) -> None:
        self.by_route: dict[tuple[str, str], list[RecordedCall]] = defaultdict(list)
        self._exact: dict[tuple[str, str, str], RecordedCall] = {}
        self.freshener = Freshener()
        self.handed = handed if handed is not None else Handed()
        for exchange in sorted(exchanges, key=lambda e: e.id):
            for call in recorded_calls(exchange):
                self.by_route[(call.method, call.path)].append(call)
                self._exact.setdefault((call.method, call.path, call.canonical), call)
        for (method, _), calls in self.by_route.items():
            if method not in READS:
                _mark_allocated(calls)

    def __len__(self) -> int:
        return sum(len(calls) for calls in self.by_route.values())

    def _put_back_json(self, value: Any, stood_for: dict[str, str]) -> Any:
        if isinstance(value, str):
            return self.handed.put_back(value, stood_for)
        if isinstance(value, dict):
            return {k: self._put_back_json(v, stood_for) for k, v in value.items()}
        if isinstance(value, list):
            return [self._put_back_json(v, stood_for) for v in value]
        return value

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> ServiceAnswer:
        method = method.upper()
        stood_for: dict[str, str] = {}
        if self.handed:
            path = self.handed.put_back_in_path(path, stood_for)
            query = {k: [self.handed.put_back(v, stood_for) for v in vs] for k, vs in query.items()}
            body = self._put_back_json(body, stood_for)
        found = self._exact.get((method, path, _canonical(query, body)))
        how = "exact"
        if found is None:
            candidates = self.by_route.get((method, path), [])
            nearest, differences = self._nearest(candidates, query, body)
            if nearest is not None and method not in READS:
                found, how = nearest, "nearest-write"
            else:
                return self._no_match(method, path, nearest, differences)
        return ServiceAnswer(found.status, "application/json", self._reply(found, stood_for),
                             found.service_ms, how)

    def _nearest(self, candidates: list[RecordedCall], query: dict[str, list[str]],
                 body: Any) -> tuple[RecordedCall | None, list[str]]:
        sent = _flat({"query": query, "body": body})
        best: tuple[int, RecordedCall, list[str]] | None = None
        for call in candidates:
            recorded = _flat({"query": call.query, "body": call.body})
            differing = sorted(
                (_dotted(p) for p in set(sent) | set(recorded) if sent.get(p) != recorded.get(p)),
            )
            if best is None or len(differing) < best[0]:
                best = (len(differing), call, differing)
        return (None, []) if best is None else (best[1], best[2])

    def _reply(self, call: RecordedCall, stood_for: dict[str, str]) -> bytes:
        reply = json.loads(json.dumps(call.reply))  # a copy: the recording is never changed
        flat = _flat(reply)
        for path in call.allocated:
            was = flat.get(path)
            if not isinstance(was, str):
                continue
            fresh = stood_for.get(was) or self.freshener.draw(was)
            _set(reply, path, fresh)
            if fresh != was and was not in stood_for:
                self.handed.remember(fresh, was)
        if stood_for:
            for path, value in _flat(reply).items():
                if isinstance(value, str) and value in stood_for and path:
                    _set(reply, path, stood_for[value])
        return json.dumps(reply).encode("utf-8")

    def _no_match(self, method: str, path: str, nearest: RecordedCall | None,
                  differences: list[str]) -> ServiceAnswer:
        problem: dict[str, Any] = {
            "type": "urn:turnout:mock:no-match",
            "title": f"turnout mock: no recorded call matches {method} {path}",
            "status": 500,
            "call": f"{method} {path}",
        }
        if nearest is not None:
            problem["nearest"] = nearest.id
            problem["differences"] = differences[:_SHOWN_DIFFERENCES]
        else:
            problem["recorded"] = sorted(f"{m} {p}" for m, p in self.by_route)[:50]
        return ServiceAnswer(500, "application/problem+json", json.dumps(problem).encode("utf-8"),
                             None, "none")
