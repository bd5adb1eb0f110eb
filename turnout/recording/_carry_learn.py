"""Learning replay rules from recordings: which answer's value a later request sends again.

The exchanges are walked in time order, as events: each request when it started, each
answer when it ended (`started_at` plus its `total` timing). A reference-like leaf value
(`reference_like`) is remembered with the first place it was seen:

- first seen in a request: the client knew it (a seeded reference, an officer's id), so no
  answer handed it over and it never makes a rule;
- first seen in a successful answer (2xx, not a Fault): that answer is its source. A later
  request (one that started after the answer ended) holding the same value, whole, at some
  leaf is one sighting of the pair (source operation and path -> request operation and path).

A pair seen at least `min_seen` times (default 2: once may be a coincidence, an officer's
id that a search answer happened to show before a create sent it) becomes a rule. Answers that echo a value later (a
GetCrimeReport answer holding the reference CreateCrimeReport made) are not sources: the
first answer is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ._carry_rules import CarryPlace, CarryRule, answered_ok, leaves, reference_like
from ._exchange import Exchange
from ._replay import operation_key

#: sightings a pair needs to become a rule, unless asked otherwise
MIN_SEEN = 2


@dataclass
class Learned:
    """What learning found: the rules, and how much it read."""

    rules: list[CarryRule] = field(default_factory=list)
    exchanges: int = 0  # exchanges with an operation, read
    answers: int = 0  # successful answers whose values could be sources
    below_min_seen: int = 0  # pairs seen, but fewer times than asked


def learn_carry(exchanges: Iterable[Exchange], min_seen: int = MIN_SEEN) -> Learned:
    """Rules from `exchanges` (any order: they are put in time order), most seen first."""
    events: list[tuple[datetime, int, int, Exchange, str]] = []
    learned = Learned()
    for n, exchange in enumerate(exchanges):
        key = operation_key(exchange)
        if key is None:
            continue
        learned.exchanges += 1
        start = exchange.started_at
        end = start + timedelta(milliseconds=max(exchange.timings.get("total", 0.0), 0.0),
                                microseconds=1)
        events.append((start, 1, n, exchange, key))  # at one instant, answers come first
        events.append((end, 0, n, exchange, key))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    first_seen: dict[str, CarryPlace | None] = {}  # value -> its source, None: a request had it first
    pairs: Counter[tuple[CarryPlace, CarryPlace]] = Counter()
    for _, is_request, _, exchange, key in events:
        if is_request:
            for path, value in leaves(exchange.request.body):
                if not reference_like(value):
                    continue
                source = first_seen.setdefault(value, None)
                if source is not None:
                    pairs[(source, CarryPlace(key, path))] += 1
        elif answered_ok(exchange.response):
            learned.answers += 1
            assert exchange.response is not None
            for path, value in leaves(exchange.response.body):
                if reference_like(value):
                    first_seen.setdefault(value, CarryPlace(key, path))
    for (source, target), seen in sorted(
        pairs.items(), key=lambda item: (-item[1], item[0][0].operation, item[0][0].path,
                                         item[0][1].operation, item[0][1].path)
    ):
        if seen >= min_seen:
            learned.rules.append(CarryRule(source, target, seen))
        else:
            learned.below_min_seen += 1
    return learned
