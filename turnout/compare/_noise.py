"""Learning noise: what differs when the legacy bus answers the same request twice.

Each recorded read is sent to the bus twice, `gap` seconds apart (so a clock with one-second
resolution has moved), and the two answers are diffed with nothing disregarded (no rules, a
Fault's detail included). Whatever differs is noise: a message id, a timestamp, a set whose
order the bus does not keep. Each difference becomes a path pattern from the element's names
alone (`person[2]/x` and `person[3]/x` are one pattern: rule paths have no positions), with the
SOAP envelope's own steps written `*` so one pattern serves SOAP 1.1 and 1.2.

Proposals go into the rules file for a person to review, keeping what is there: an `ignore`
per pattern (an `unordered` for same-named siblings that only moved), in the operation's
section, or in `default` when it differed in every operation whose answers have it (two or
more), each with a `# learned: differed in 24/24 replays` comment. What the file's rules
already cover is never proposed again, so learning twice adds nothing.

Only reads are sent: what may be sent is decided by `turnout.recording.plan_replay` with the
caller's `ReplayPolicy`, as for `turnout replay` and `compare --target`: declared reads (or
operations a person named and confirmed reads), never a declared write, never a name that
looks like a write unless allowed, judged on the normalised service path; a path with no one
meaning is never sent. Sending a write twice would make it twice, and the second answer's new
reference would then be "learned" as noise.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from turnout.config import YamlEditor, write_atomically
from turnout.recording import (
    Exchange,
    ReplayPolicy,
    SendOptions,
    Sent,
    Skipped,
    never_a_write,
    plan_replay,
    resend_check,
    send_all,
)
from turnout.soap import (
    DEFAULT_LIMITS,
    SOAP11_NS,
    SOAP12_NS,
    HttpRequest,
    HttpResponse,
    SoapError,
    XmlLimits,
    XmlThreat,
    decode_content,
    parse_xml,
)

from ._diff import diff
from ._load import parse_rules
from ._model import EXTRA, REORDERED, Difference
from ._rules import Rules, rules_for

IGNORE = "ignore"
UNORDERED = "unordered"
DEFAULT = "default"
#: seconds between the two sends of one request: a clock with one-second resolution moves
NOISE_GAP = 1.1
_SOAP = (SOAP11_NS, SOAP12_NS)
#: nothing disregarded: not even a Fault's detail
_NO_RULES = Rules(fault_detail=True)
#: how a request is sent when the caller does not say (a frozen value, shared)
_SEND_DEFAULTS = SendOptions()
#: the largest body a compressed answer may decode to
_MAX_DECODED = 64 * 1024 * 1024


@dataclass(frozen=True)
class Pattern:
    """A place in a message by names only: Clark names, `*` for the SOAP envelope's steps,
    and the Clark name of an attribute when it is about one."""

    steps: tuple[str, ...]
    attribute: str | None = None

    @property
    def element(self) -> Pattern:
        return Pattern(self.steps) if self.attribute else self

    def render(self, prefix_of: Callable[[str], str]) -> str:
        """`/*/*/pnc:MessageHeader/pnc:messageId`, with the prefix `prefix_of(uri)` gives."""
        def name(clark: str) -> str:
            if not clark.startswith("{"):
                return clark
            uri, local = clark[1:].split("}", 1)
            return f"{prefix_of(uri)}:{local}"

        text = "/" + "/".join(name(s) for s in self.steps)
        return f"{text}/@{name(self.attribute)}" if self.attribute else text


def pattern_of(element: etree._Element, attribute: str | None = None) -> Pattern:
    """The pattern of `element` (or of its `attribute`) in its own document."""
    chain = [element, *element.iterancestors()]
    return Pattern(tuple(_step(node) for node in reversed(chain)), attribute)


def _step(node: etree._Element) -> str:
    tag = node.tag
    return "*" if tag.startswith("{") and tag[1:].split("}", 1)[0] in _SOAP else tag


# -- comparing pairs ------------------------------------------------------------------------


@dataclass
class OperationNoise:
    """What the pairs of one operation showed."""

    samples: int = 0  # pairs compared
    unreadable: int = 0  # pairs with an answer that is not XML
    status_mismatch: int = 0  # pairs whose answers had different HTTP statuses
    #: (kind, pattern) -> pairs in which it differed and the existing rules did not cover it
    differed: Counter[tuple[str, Pattern]] = field(default_factory=Counter)
    covered: Counter[Pattern] = field(default_factory=Counter)  # differed, already covered
    unexplained: Counter[str] = field(default_factory=Counter)  # no rule can express it (paths)
    seen: set[Pattern] = field(default_factory=set)  # elements its answers have


class NoiseLearner:
    """Collects the differences between pairs of answers, operation by operation.

    `existing` is the rules file as `load_rules` reads it: what it already covers counts as
    covered, not as a proposal.
    """

    def __init__(
        self, existing: Mapping[str, Rules] | None = None, limits: XmlLimits = DEFAULT_LIMITS
    ) -> None:
        self.existing = existing or {}
        self.limits = limits
        self.operations: dict[str, OperationNoise] = defaultdict(OperationNoise)
        #: namespace URI -> the prefix the bus writes for it, for new declarations
        self.prefixes: dict[str, str] = {}

    def add_pair(
        self, operation: str, first: bytes, second: bytes, statuses: tuple[int, int] = (0, 0)
    ) -> bool:
        """Diff two answers to one request; False when they could not be compared."""
        noise = self.operations[operation]
        if statuses[0] != statuses[1]:
            noise.status_mismatch += 1
            return False
        try:
            one, two = parse_xml(first, self.limits), parse_xml(second, self.limits)
        except SoapError:
            noise.unreadable += 1
            return False
        noise.samples += 1
        self._see(one, noise.seen)
        rules = rules_for(self.existing, operation)
        found: set[tuple[str, Pattern]] = set()
        for difference in diff(one, two, _NO_RULES).differences:
            proposal = self._proposal(difference)
            if proposal is None:
                noise.unexplained[difference.path] += 1
            elif _covered(rules, difference, proposal[0]):
                noise.covered[proposal[1]] += 1
            else:
                found.add(proposal)
        noise.differed.update(found)  # once per pair, however many positions differed
        return True

    def _proposal(self, difference: Difference) -> tuple[str, Pattern] | None:
        element = difference.new_element if difference.kind == EXTRA else difference.legacy_element
        if element is None or difference.path == "/":
            return None
        self._remember_prefixes(element)
        if difference.kind == REORDERED:
            # a same-named sibling moved (its positions are given); else differently named
            # children came in another order, and no rule says "any order" for those
            if not (difference.legacy or "").isdigit():
                return None
            return UNORDERED, pattern_of(element)
        return IGNORE, pattern_of(element, difference.attribute)

    def _remember_prefixes(self, element: etree._Element) -> None:
        for prefix, uri in element.nsmap.items():
            if prefix and uri not in self.prefixes:
                self.prefixes[uri] = prefix

    @staticmethod
    def _see(root: etree._Element, seen: set[Pattern]) -> None:
        def walk(node: etree._Element, steps: tuple[str, ...]) -> None:
            for child in node:
                if isinstance(child.tag, str):
                    here = steps + (_step(child),)
                    seen.add(Pattern(here))
                    walk(child, here)

        seen.add(Pattern((_step(root),)))
        walk(root, (_step(root),))

    def proposals(self) -> list[Proposal]:
        return propose(self.operations)


def _covered(rules: Rules, difference: Difference, kind: str) -> bool:
    """Do `rules` already account for this difference?"""
    element = difference.new_element if difference.kind == EXTRA else difference.legacy_element
    assert element is not None
    if any(rules.place(node).rules.ignored for node in (element, *element.iterancestors())):
        return True
    place = rules.place(element).rules
    if kind == UNORDERED:
        return place.unordered is not None
    return difference.attribute is not None and place.attribute_ignored(difference.attribute)


# -- proposing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    section: str  # "default" or an operation key
    kind: str  # "ignore" or "unordered"
    pattern: Pattern
    differed: int  # pairs in which it differed
    samples: int  # pairs compared (of the section's operations that have it, for default)

    @property
    def comment(self) -> str:
        verb = "differed" if self.kind == IGNORE else "reordered"
        return f"learned: {verb} in {self.differed}/{self.samples} replays"


def propose(operations: Mapping[str, OperationNoise]) -> list[Proposal]:
    """One proposal per pattern and section; `default` when a pattern differed in every
    operation whose answers have it, and two or more do."""
    per_pattern: dict[tuple[str, Pattern], dict[str, int]] = defaultdict(dict)
    for key, noise in operations.items():
        for found, count in noise.differed.items():
            per_pattern[found][key] = count
    result = []
    for (kind, pattern), counts in per_pattern.items():
        having = {
            key for key, noise in operations.items()
            if noise.samples and pattern.element in noise.seen
        }
        if kind == IGNORE and len(having) >= 2 and having == set(counts):
            samples = sum(operations[key].samples for key in having)
            result.append(Proposal(DEFAULT, kind, pattern, sum(counts.values()), samples))
            continue
        for key, count in counts.items():
            result.append(Proposal(key, kind, pattern, count, operations[key].samples))
    result.sort(key=lambda p: (p.section != DEFAULT, p.section, p.kind, p.pattern.steps,
                               p.pattern.attribute or ""))
    return result


# -- replaying twice ------------------------------------------------------------------------


@dataclass
class NoiseReport:
    operations: dict[str, OperationNoise]
    proposals: list[Proposal]
    prefixes: dict[str, str]  # namespace URI -> the bus's prefix
    skipped: list[Skipped] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)  # error kind -> requests
    error_messages: list[str] = field(default_factory=list)
    sent: int = 0


def learn_noise(
    exchanges: Iterable[Exchange],
    target: str,
    *,
    is_write: Callable[[str], bool] = never_a_write,
    existing: Mapping[str, Rules] | None = None,
    options: SendOptions = _SEND_DEFAULTS,
    gap: float = NOISE_GAP,
    per_operation: int | None = None,
    on_planned: Callable[[int], object] | None = None,
    on_sent: Callable[[Sent], object] | None = None,
    case_insensitive: bool = False,
    policy: ReplayPolicy | None = None,
) -> NoiseReport:
    """Send each readable recorded read to `target` twice and learn what differs. Blocking
    (runs its own event loop). `on_planned` is told how many sends there will be, `on_sent`
    sees each one. `policy` decides what is a read (see `turnout.recording.plan_replay`);
    without one, `is_write` is asked about normalised keys (build it with
    `turnout.recording.write_keys`) and every other operation whose name does not look like a
    write is sent. Declared writes are never sent, whatever the policy allows."""
    if policy is not None:
        policy = dataclasses.replace(policy, send_writes=False)
        case_insensitive = policy.case_insensitive
    plan = plan_replay(exchanges, is_write, case_insensitive=case_insensitive, policy=policy)
    chosen: list[tuple[str, Exchange]] = []
    taken: Counter[str] = Counter()
    for exchange in plan.send:
        # the normalised key: `/%63ris X` and `/cris X` are one operation, one rules section
        key, _ = resend_check(exchange, case_insensitive=case_insensitive)
        assert key is not None  # unreadable ones were skipped
        if per_operation is None or taken[key] < per_operation:
            taken[key] += 1
            chosen.append((key, exchange))
    # no Accept-Encoding: the answers are compared, so they had better come uncompressed
    requests = [_without(e.request, "accept-encoding") for _, e in chosen]
    if on_planned is not None:
        on_planned(2 * len(requests))
    first, second = asyncio.run(_twice(requests, target, options, gap, on_sent))
    learner = NoiseLearner(existing)
    report = NoiseReport(learner.operations, [], learner.prefixes, plan.skipped)
    report.sent = len(first) + len(second)
    for (key, exchange), one, two in zip(chosen, first, second, strict=True):
        if one.response is None or two.response is None:
            for sent in (one, two):
                if sent.error is not None:
                    report.errors[sent.error] += 1
                    if len(report.error_messages) < 5:
                        report.error_messages.append(f"{exchange.id}: {sent.error}: {sent.message}")
            continue
        learner.add_pair(
            key, _plain(one.response), _plain(two.response),
            (one.response.status, two.response.status),
        )
    report.proposals = learner.proposals()
    return report


async def _twice(
    requests: Sequence[HttpRequest], target: str, options: SendOptions, gap: float,
    on_sent: Callable[[Sent], object] | None,
) -> tuple[list[Sent], list[Sent]]:
    def seen(_: int, sent: Sent) -> None:
        if on_sent is not None:
            on_sent(sent)

    first = await send_all(requests, target, options, on_sent=seen)
    later = [sent.monotonic + gap for sent in first]
    second = await send_all(requests, target, options, not_before=later, on_sent=seen)
    return first, second


def _plain(response: HttpResponse) -> bytes:
    """The body of an answer compressed although not asked to be, decoded within bounds; as it
    came when it cannot be (it then counts as unreadable)."""
    try:
        return decode_content(response.body, response.header("Content-Encoding"), _MAX_DECODED)
    except XmlThreat:
        return response.body


def _without(request: HttpRequest, name: str) -> HttpRequest:
    headers = [(k, v) for k, v in request.headers if k.lower() != name]
    return HttpRequest(request.method, request.path, headers, request.body)


# -- writing the rules file -----------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    """One entry written to the rules file."""

    section: str
    kind: str
    path: str
    comment: str


_HEADER = (
    "Compare rules (see docs/compare.md). Entries marked `learned:` were proposed by\n"
    "`turnout compare --learn-noise`, from the legacy bus answering the same request twice:\n"
    "review them before you rely on them."
)


def write_proposals(
    path: Path, proposals: Sequence[Proposal], prefixes: Mapping[str, str] | None = None
) -> list[Added]:
    """Add `proposals` to the rules file at `path` (created if absent), keeping its content,
    comments and order; an entry the section already lists is not added twice. The file is
    replaced atomically, and only when something was added. `prefixes` (URI -> prefix) are the
    preferred names for namespaces the file does not declare yet.

    Raises `turnout.config.ConfigError` when the existing file is not valid.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text.strip():
        parse_rules(text, path)  # refuse to edit a file that does not validate
    editor = _RulesEditor(text, prefixes or {})
    added = [found for p in proposals if (found := editor.add(p)) is not None]
    if added:
        new_text = editor.finish()
        parse_rules(new_text, path)  # what we write must load; raises if not
        write_atomically(path, new_text, make_dirs=0o755)
    return added


class _RulesEditor:
    """Adds proposals to one rules file through the comment-keeping editor (comments, order
    and untouched lines kept), each with its `# learned:` comment aligned after the entry."""

    def __init__(self, text: str, prefixes: Mapping[str, str]) -> None:
        self.editor = YamlEditor(text)
        self.doc: CommentedMap = self.editor.doc
        if not text.strip():
            self.doc.yaml_set_start_comment(_HEADER)
        self.prefixes = prefixes
        self._touch(self.doc)
        found = self.doc.get("namespaces")
        self._created_namespaces = not isinstance(found, CommentedMap)
        if self._created_namespaces:
            self.doc.insert(0, "namespaces", CommentedMap())
        self.namespaces: CommentedMap = self.doc["namespaces"]
        #: (list, index, comment) of each entry added
        self._comments: list[tuple[CommentedSeq, int, str]] = []

    def add(self, proposal: Proposal) -> Added | None:
        section = self._section(proposal.section)
        rendered = proposal.pattern.render(lambda uri: self._prefix(uri, section))
        entries = section.get(proposal.kind)
        if any(_entry_path(e) == rendered for e in entries or ()):
            return None
        if not isinstance(entries, CommentedSeq):
            self._touch(section)
            entries = section[proposal.kind] = CommentedSeq()
        self._touch(entries)
        if entries.fa.flow_style():
            entries.fa.set_block_style()
        entries.append(rendered)
        self._comments.append((entries, len(entries) - 1, proposal.comment))
        return Added(proposal.section, proposal.kind, rendered, proposal.comment)

    def finish(self) -> str:
        # items of a list under a key of a top-level section start at this column
        column = self.editor.map_indent + self.editor.sequence_indent
        for entries, index, comment in self._comments:
            longest = max(len(p) for e in entries if (p := _entry_path(e)) is not None)
            entries.yaml_add_eol_comment(comment, index, column=column + longest + 2)
        if not self.namespaces:
            del self.doc["namespaces"]
        return self.editor.text()

    def _touch(self, container: CommentedMap | CommentedSeq) -> None:
        self.editor.keep_tail(container)

    def _section(self, name: str) -> CommentedMap:
        found = self.doc.get(name)
        if isinstance(found, CommentedMap):
            if found.fa.flow_style():
                found.fa.set_block_style()
            return found
        section = CommentedMap()
        if name in self.doc:  # an empty section (`"/pnc X":` with nothing under it)
            self.doc[name] = section
        elif name == DEFAULT:
            self.doc.insert(list(self.doc).index("namespaces") + 1, name, section)
        else:
            self.doc[DoubleQuotedScalarString(name)] = section
        return section

    def _prefix(self, uri: str, section: CommentedMap) -> str:
        """The prefix for `uri` in scope in `section`; else one declared now, at the top."""
        local = section.get("namespaces")
        scope = {**self.namespaces, **(local if isinstance(local, dict) else {})}
        for prefix, bound in scope.items():
            if bound == uri:
                return str(prefix)
        taken = set(self.namespaces)
        for value in self.doc.values():
            inner = value.get("namespaces") if isinstance(value, dict) else None
            if isinstance(inner, dict):
                taken.update(inner)
        prefix, index = self.prefixes.get(uri) or "ns0", 0
        while prefix in taken:
            prefix, index = f"ns{index}", index + 1
        self._touch(self.namespaces)
        self.namespaces[prefix] = uri
        return prefix


def _entry_path(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("path"), str):
        return str(entry["path"])
    return None
