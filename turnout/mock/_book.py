"""The virtual bus's memory: recorded SOAP exchanges indexed by operation, and how one is chosen.

Each usable recording (the bus answered it: outcome `forwarded` on the legacy, shadow or replay
route, both bodies stored) becomes a `Recorded`: the request's payload (the Body's first
element), its canonical text, and the answer with the places where a fresh value goes.

Choosing (`LegacyBook.choose`), per operation key (`/pnc PersonEnquiry`, the service path
normalised as the proxy normalises it):

1. exact: the payload equals a recorded one, element for element and value for value
   (namespace prefixes, attribute order and whitespace between elements never count). When
   several recordings are equal, the one signed by the same WS-Security Username wins (a
   recorded refusal of one officer is not another's answer), else the earliest recorded;
2. equal under the operation's compare rules: what the rules ignore or normalise does not
   count (`turnout.compare.diff` of the two payloads);
3. a write (declared by the route table, or named with a verb that writes) is answered from the
   nearest recording of its operation: fewest differences, earliest on a tie;
4. else no match: the nearest recording and the fields that differ, for the Fault.

Only the Body's payload is matched. SOAP headers (WS-Security tokens with their nonces and
clocks, addressing ids) are not, beyond the Username tie-break above: the mock does not
authenticate, so a recorded wrong-password refusal and an accepted call by the same officer
with the same payload cannot be told apart (the password is never recorded), and the earlier
of the two answers both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree

from turnout.compare import Difference, Rules, diff, rules_for
from turnout.recording import Exchange, normalised_key
from turnout.soap import (
    SOAP11,
    SOAP12,
    BadTarget,
    SoapError,
    SoapVersion,
    read_envelope,
    read_message,
)

#: routes on which the recorded response is the bus's own answer
BUS_ROUTES = frozenset({"legacy", "shadow", "replay"})

IsWrite = Callable[[str], bool]


def canonical(element: etree._Element) -> str:
    """`element` as text that is equal exactly when two payloads are equal value for value:
    Clark names, sorted attributes, stripped text; comments and processing instructions left
    out. Control characters (which XML 1.0 cannot carry) delimit, so no text forges a split."""
    parts: list[str] = []
    _canonical(element, parts)
    return "".join(parts)


def _canonical(element: etree._Element, out: list[str]) -> None:
    out += ("\x01", str(element.tag))
    for name in sorted(element.keys()):
        out += ("\x02", str(name), "\x03", str(element.get(name)))
    out += ("\x04", (element.text or "").strip())
    for child in element:
        if isinstance(child.tag, str):
            _canonical(child, out)
    out.append("\x05")


@dataclass
class Recorded:
    """One recorded exchange, ready to be matched and answered from."""

    id: str
    key: str
    version: SoapVersion
    payload: etree._Element
    canonical: str
    status: int
    content_type: str
    #: the answer; None when it is not XML (sent as recorded, `body`)
    answer: etree._Element | None
    body: bytes
    #: the bus's own time for it, in milliseconds (timings.upstream, else total)
    bus_ms: float | None
    is_fault: bool = False
    #: the WS-Security Username the request was signed with (as recorded), if any
    username: str | None = None
    #: child-index paths from the answer's root to elements whose text is made fresh
    volatile: list[tuple[int, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Choice:
    """What `choose` found: the recording to answer from (None: no match) and how."""

    recorded: Recorded | None
    #: exact | rules | nearest-write | none
    how: str
    nearest: Recorded | None = None
    differences: tuple[Difference, ...] = ()


def _position(element: etree._Element, root: etree._Element) -> tuple[int, ...]:
    steps: list[int] = []
    node = element
    while node is not root:
        parent = node.getparent()
        assert parent is not None
        steps.append(parent.index(node))
        node = parent
    return tuple(reversed(steps))


def at(root: etree._Element, position: tuple[int, ...]) -> etree._Element:
    node = root
    for index in position:
        node = node[index]
    return node


def _leaves(element: etree._Element) -> Iterable[etree._Element]:
    for node in element.iter():
        if isinstance(node.tag, str) and len(node) == 0 and (node.text or "").strip():
            yield node


def _volatile_places(answer: etree._Element, rules: Rules) -> list[tuple[int, ...]]:
    """Leaves the rules ignore (their element, or an ancestor, is ignored): noise."""
    found: list[tuple[int, ...]] = []
    if rules.empty:
        return found
    stack = [answer]
    while stack:
        node = stack.pop()
        if rules.place(node).rules.ignored:
            found.extend(_position(leaf, answer) for leaf in _leaves(node))
            continue
        stack.extend(child for child in node if isinstance(child.tag, str))
    return sorted(found)


def _chain(element: etree._Element) -> tuple[str, ...]:
    return tuple(str(node.tag) for node in reversed([element, *element.iterancestors()]))


def _allocated(entries: list[Recorded]) -> None:
    """For a write: leaves whose value differs in every recorded answer (two or more) and is
    not in the request are what the bus allocated (a reference, an id): made fresh too."""
    answers = [e for e in entries if e.answer is not None and not e.is_fault]
    if len(answers) < 2:
        return
    values: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for entry in answers:
        assert entry.answer is not None
        for leaf in _leaves(entry.answer):
            values[_chain(leaf)].append((leaf.text or "").strip())
    allocated = {
        chain for chain, seen in values.items()
        if len(seen) == len(answers) and len(set(seen)) == len(seen)
    }
    for entry in answers:
        assert entry.answer is not None
        sent = {(leaf.text or "").strip() for leaf in _leaves(entry.payload)}
        extra = [
            _position(leaf, entry.answer) for leaf in _leaves(entry.answer)
            if _chain(leaf) in allocated and (leaf.text or "").strip() not in sent
        ]
        entry.volatile = sorted(set(entry.volatile) | set(extra))


def username(header: etree._Element | None) -> str | None:
    """The text of the first `Username` element in a SOAP Header, any namespace."""
    if header is None:
        return None
    for node in header.iter():
        if isinstance(node.tag, str) and etree.QName(node).localname == "Username":
            return (node.text or "").strip()
    return None


def _version(exchange: Exchange) -> SoapVersion:
    return SOAP12 if exchange.soap_version == "1.2" else SOAP11


def recorded_from(exchange: Exchange, rules: Mapping[str, Rules]) -> Recorded | None:
    """The exchange as a `Recorded`, or None when the bus's answer to it is not in it."""
    response = exchange.response
    if (exchange.operation is None or response is None or exchange.outcome != "forwarded"
            or exchange.route not in BUS_ROUTES or exchange.omitted_bodies):
        return None
    try:
        key = normalised_key(exchange.operation.key)
        # a recorded MTOM / SwA request (kept as it came: recorded without body rules) is read
        # as the proxy reads it, its root part the envelope
        envelope = read_message(exchange.request.body, exchange.request.path,
                                dict(exchange.request.headers))
    except (BadTarget, SoapError):
        return None
    answer: etree._Element | None
    try:
        answer = read_envelope(response.body, exchange.request.path).root
    except SoapError:
        answer = None
    is_fault = answer is not None and etree.QName(_first(answer)).localname == "Fault"
    timings = exchange.timings
    return Recorded(
        id=exchange.id,
        key=key,
        version=_version(exchange),
        payload=envelope.payload,
        canonical=canonical(envelope.payload),
        status=response.status,
        content_type=response.header("content-type") or _version(exchange).content_type,
        answer=answer,
        body=response.body,
        bus_ms=timings.get("upstream", timings.get("total")),
        is_fault=is_fault,
        username=username(envelope.header),
        volatile=_volatile_places(answer, rules_for(rules, key)) if answer is not None else [],
    )


def _first(root: etree._Element) -> etree._Element:
    """The first element of the envelope's Body (the root itself when there is none)."""
    for child in root:
        if isinstance(child.tag, str) and etree.QName(child).localname == "Body":
            for payload in child:
                if isinstance(payload.tag, str):
                    return payload
    return root


class LegacyBook:
    """Recorded SOAP exchanges by operation key, and the choice of one for a request."""

    def __init__(self, exchanges: Iterable[Exchange], rules: Mapping[str, Rules],
                 is_write: IsWrite) -> None:
        self.rules = dict(rules)
        self.is_write = is_write
        self.by_key: dict[str, list[Recorded]] = defaultdict(list)
        self._exact: dict[tuple[str, str], list[Recorded]] = {}
        self.skipped = 0
        for exchange in sorted(exchanges, key=lambda e: e.id):
            entry = recorded_from(exchange, self.rules)
            if entry is None:
                self.skipped += 1
                continue
            self.by_key[entry.key].append(entry)
            self._exact.setdefault((entry.key, entry.canonical), []).append(entry)
        for key, entries in self.by_key.items():
            if is_write(key):
                _allocated(entries)

    @property
    def operations(self) -> list[str]:
        return sorted(self.by_key)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.by_key.values())

    def choose(self, key: str, payload: etree._Element, signed_by: str | None = None) -> Choice:
        """The recording that answers `payload` sent to operation `key` (see the module);
        `signed_by`: the request's WS-Security Username, for the tie-break."""
        exact = self._exact.get((key, canonical(payload)))
        if exact is not None:
            same = next((e for e in exact if signed_by is not None and e.username == signed_by),
                        exact[0])
            return Choice(same, "exact")
        entries = self.by_key.get(key, [])
        if not entries:
            return Choice(None, "none")
        rules = rules_for(self.rules, key)
        best: tuple[int, Recorded, tuple[Difference, ...]] | None = None
        for entry in entries:
            found = diff(entry.payload, payload, rules)
            if found.equal:
                return Choice(entry, "rules")
            count = len(found.differences)
            if best is None or count < best[0]:
                best = (count, entry, tuple(found.differences))
        assert best is not None
        _, nearest, differences = best
        if self.is_write(key):
            return Choice(nearest, "nearest-write", nearest, differences)
        return Choice(None, "none", nearest, differences)
