"""One walk over both trees, pairing elements by name and descending only where they differ.

Single children pair by name and recurse. Same-named siblings are first compared pair by pair,
stopping at the first difference (equal lists, the common case, cost one walk); if they differ,
by signature: a permutation is `reordered`, otherwise a sequence alignment of the signatures says
what was dropped, added or changed. A set (`Unordered`) pairs members by key. Faults compare by
code and reason. In `first_only` mode the walk stops at the first difference without naming it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict, deque
from difflib import SequenceMatcher
from itertools import repeat
from typing import TypeAlias

from lxml import etree

from ._content import FAULT_TAGS, Text, content, fault_code, fault_view
from ._model import CHANGED, EXTRA, MISSING, REORDERED, Difference
from ._paths import PathNamer
from ._render import render
from ._rules import NodeRules, Place, Rules, Unordered
from ._signature import attributes, group_children, normalised, signature

Element: TypeAlias = etree._Element
_NONE: list[Element] = []


class Stop(Exception):
    """Raised in `first_only` mode at the first difference."""


class Walk:
    def __init__(self, rules: Rules, namer: PathNamer, first_only: bool = False) -> None:
        self.rules = rules
        self.namer = namer
        self.first_only = first_only
        self.found: list[Difference] = []

    # -- entry --------------------------------------------------------------------------------
    def roots(self, legacy: Element, new: Element) -> None:
        if legacy.tag != new.tag:
            self._add("/", CHANGED, legacy.tag, new.tag, legacy, new)
            return
        place = self.rules.place(legacy)
        if not place.rules.ignored:
            self.element(legacy, new, place)

    # -- one pair of same-named elements ------------------------------------------------------
    def element(self, legacy: Element, new: Element, place: Place) -> None:
        if legacy.tag in FAULT_TAGS:
            self.fault(legacy, new, place)
            return
        node = place.rules
        legacy_items, new_items = legacy.items(), new.items()
        if legacy_items or new_items:
            self.attributes(legacy, new, legacy_items, new_items, node)
        legacy_children, legacy_text = content(legacy)
        new_children, new_text = content(new)
        if legacy_text != new_text:
            self.text(legacy, new, legacy_text, new_text, node)
        if legacy_children or new_children:
            self.children(legacy, new, legacy_children, new_children, place)

    def attributes(
        self,
        legacy: Element,
        new: Element,
        legacy_items: list[tuple[str, str]],
        new_items: list[tuple[str, str]],
        node: NodeRules,
    ) -> None:
        legacy_values = attributes(legacy, legacy_items, node)
        new_values = attributes(new, new_items, node)
        if legacy_values == new_values:
            return
        for name, value in legacy_values.items():
            if name not in new_values:
                self._attribute(MISSING, legacy, new, name)
            elif new_values[name] != value:
                self._attribute(CHANGED, legacy, new, name)
        for name in new_values:
            if name not in legacy_values:
                self._attribute(EXTRA, legacy, new, name)

    def text(
        self, legacy: Element, new: Element, legacy_text: Text, new_text: Text, node: NodeRules
    ) -> None:
        both_leaves = isinstance(legacy_text, str) and isinstance(new_text, str)
        if not both_leaves:
            legacy_text, new_text = _runs(legacy_text), _runs(new_text)
            if legacy_text == new_text:
                return
        if node.text and _normalised(legacy_text, node) == _normalised(new_text, node):
            return
        if self.first_only:
            raise Stop
        path = self.namer.element(legacy) + ("" if both_leaves else "/text()")
        self.found.append(
            Difference(path, CHANGED, _shown(legacy_text), _shown(new_text), legacy, new)
        )

    # -- children -----------------------------------------------------------------------------
    def children(
        self,
        legacy: Element,
        new: Element,
        legacy_children: list[Element],
        new_children: list[Element],
        place: Place,
    ) -> None:
        legacy_groups, legacy_tags = group_children(legacy_children, place)
        new_groups, new_tags = group_children(new_children, place)
        for tag, legacy_group in legacy_groups.items():
            new_group = new_groups.get(tag, _NONE)
            child = place.child(tag)
            rule = child.rules.unordered
            if rule is not None:
                self.as_set(legacy_group, new_group, child, rule)
            elif not new_group:
                for element in legacy_group:
                    self._missing(element)
            elif len(legacy_group) == 1 and len(new_group) == 1:
                self.element(legacy_group[0], new_group[0], child)
            else:
                self.as_list(legacy_group, new_group, child)
        for tag, new_group in new_groups.items():
            if tag not in legacy_groups:
                child = place.child(tag)
                rule = child.rules.unordered
                if rule is not None:
                    self.as_set(_NONE, new_group, child, rule)
                else:
                    for element in new_group:
                        self._extra(element)
        if legacy_tags != new_tags:
            self.interleaving(legacy, new, legacy_tags, new_tags, legacy_groups, new_groups)

    def as_list(self, legacy: list[Element], new: list[Element], place: Place) -> None:
        if len(legacy) == len(new) and all(map(self._same, legacy, new, repeat(place))):
            return  # the common case, settled without building signatures
        legacy_sigs = [signature(e, place, self.rules) for e in legacy]
        new_sigs = [signature(e, place, self.rules) for e in new]
        if legacy_sigs == new_sigs:
            return
        if self.first_only:
            raise Stop
        if sorted(legacy_sigs) == sorted(new_sigs):
            self.moves(legacy, new, legacy_sigs, new_sigs)
            return
        matcher = SequenceMatcher(None, legacy_sigs, new_sigs, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            paired = min(i2 - i1, j2 - j1) if op == "replace" else 0
            for k in range(paired):
                self.element(legacy[i1 + k], new[j1 + k], place)
            for element in legacy[i1 + paired : i2]:
                self._missing(element)
            for element in new[j1 + paired : j2]:
                self._extra(element)

    def _same(self, legacy: Element, new: Element, place: Place) -> bool:
        """Do the two mean the same under the rules? Stops at the first difference."""
        try:
            Walk(self.rules, self.namer, first_only=True).element(legacy, new, place)
        except Stop:
            return False
        return True

    def moves(
        self, legacy: list[Element], new: list[Element], legacy_sigs: list[str], new_sigs: list[str]
    ) -> None:
        """Report the fewest elements whose moving explains the new order."""
        places: dict[str, deque[int]] = defaultdict(deque)
        for j, sig in enumerate(new_sigs):
            places[sig].append(j)
        target = [places[sig].popleft() for sig in legacy_sigs]
        stay = _longest_increasing(target)
        for i, j in enumerate(target):
            if i not in stay:
                path = self.namer.element(legacy[i])
                self.found.append(
                    Difference(path, REORDERED, str(i + 1), str(j + 1), legacy[i], new[j])
                )

    def as_set(
        self, legacy: list[Element], new: list[Element], place: Place, rule: Unordered
    ) -> None:
        keyed = rule.key_path is not None
        if keyed:
            legacy_keys = [self.key(e, place, rule) for e in legacy]
            new_keys = [self.key(e, place, rule) for e in new]
        else:
            legacy_keys = [signature(e, place, self.rules) for e in legacy]
            new_keys = [signature(e, place, self.rules) for e in new]
        waiting: dict[str | None, deque[int]] = defaultdict(deque)
        for j, key in enumerate(new_keys):
            waiting[key].append(j)
        matched = set()
        for i, key in enumerate(legacy_keys):
            if waiting[key]:
                j = waiting[key].popleft()
                matched.add(j)
                if keyed:
                    self.element(legacy[i], new[j], place)
            elif keyed:
                self._keyed(MISSING, legacy[i], key)
            else:
                self._missing(legacy[i])
        for j, element in enumerate(new):
            if j not in matched:
                if keyed:
                    self._keyed(EXTRA, element, new_keys[j])
                else:
                    self._extra(element)

    def key(self, element: Element, place: Place, rule: Unordered) -> str | None:
        """The text (normalised as the rules say) at the rule's key path below `element`."""
        assert rule.key_path is not None
        node = element
        for test in rule.key_path.steps:
            found = next((c for c in node if isinstance(c.tag, str) and test(c.tag)), None)
            if found is None:
                return None
            node, place = found, place.child(found.tag)
        attribute = rule.key_path.attribute
        if attribute is not None:
            return next((v for k, v in node.items() if attribute(k)), None)
        _, text = content(node)
        return normalised(text if isinstance(text, str) else "".join(text), place.rules)

    def interleaving(
        self,
        legacy: Element,
        new: Element,
        legacy_tags: list[str],
        new_tags: list[str],
        legacy_groups: dict[str, list[Element]],
        new_groups: dict[str, list[Element]],
    ) -> None:
        """Differently named siblings in another order: one `reordered` on the parent."""
        legacy_order = _runs_of(legacy_tags, new_groups)
        new_order = _runs_of(new_tags, legacy_groups)
        if legacy_order == new_order:
            return
        if self.first_only:
            raise Stop
        shown = [
            " ".join(self.namer.name(groups[tag][0]) for tag in order)
            for order, groups in ((legacy_order, legacy_groups), (new_order, new_groups))
        ]
        self.found.append(
            Difference(self.namer.element(legacy), REORDERED, shown[0], shown[1], legacy, new)
        )

    # -- faults -------------------------------------------------------------------------------
    def fault(self, legacy: Element, new: Element, place: Place) -> None:
        """Code(s) and reason(s) only; the detail too when the rules say `fault_detail`."""
        legacy_view, new_view = fault_view(legacy), fault_view(new)
        legacy_codes = [c for c in legacy_view.codes if not place.below(c, legacy).rules.ignored]
        new_codes = [c for c in new_view.codes if not place.below(c, new).rules.ignored]
        # the common prefix pairs up; the longer list's tail is missing or extra, below
        for legacy_code, new_code in zip(legacy_codes, new_codes, strict=False):
            if fault_code(legacy_code) != fault_code(new_code):
                self._code_changed(legacy_code, new_code)
        for element in legacy_codes[len(new_codes) :]:
            self._missing(element)
        for element in new_codes[len(legacy_codes) :]:
            self._extra(element)
        new_reasons = dict(new_view.reasons)
        legacy_reasons = dict(legacy_view.reasons)
        for language, reason in legacy_view.reasons:
            node = place.below(reason, legacy).rules
            if node.ignored:
                continue
            counterpart = new_reasons.get(language)
            if counterpart is None:
                self._missing(reason)
                continue
            legacy_text, new_text = content(reason)[1], content(counterpart)[1]
            if legacy_text != new_text:
                self.text(reason, counterpart, legacy_text, new_text, node)
        for language, reason in new_view.reasons:
            if language not in legacy_reasons and not place.below(reason, new).rules.ignored:
                self._extra(reason)
        if self.rules.compares_fault_detail:
            self.detail(legacy_view.detail, new_view.detail, place)

    def detail(self, legacy: Element | None, new: Element | None, place: Place) -> None:
        if legacy is not None and new is not None and legacy.tag == new.tag:
            child = place.child(legacy.tag)
            if not child.rules.ignored:
                self.element(legacy, new, child)
            return
        if legacy is not None and not place.child(legacy.tag).rules.ignored:
            self._missing(legacy)
        if new is not None and not place.child(new.tag).rules.ignored:
            self._extra(new)

    # -- reporting ----------------------------------------------------------------------------
    def _add(
        self, path: str, kind: str, legacy: str | None, new: str | None,
        legacy_element: Element | None, new_element: Element | None, attribute: str | None = None,
    ) -> None:
        if self.first_only:
            raise Stop
        self.found.append(
            Difference(path, kind, legacy, new, legacy_element, new_element, attribute)
        )

    def _code_changed(self, legacy: Element, new: Element) -> None:
        if self.first_only:
            raise Stop
        shown = [(e.text or "").strip() for e in (legacy, new)]
        self._add(self.namer.element(legacy), CHANGED, shown[0], shown[1], legacy, new)

    def _missing(self, element: Element) -> None:
        if self.first_only:
            raise Stop
        self._add(self.namer.element(element), MISSING, render(element, self.namer), None,
                  element, None)

    def _extra(self, element: Element) -> None:
        if self.first_only:
            raise Stop
        self._add(self.namer.element(element), EXTRA, None, render(element, self.namer),
                  None, element)

    def _keyed(self, kind: str, element: Element, key: str | None) -> None:
        """A set member only one side has, named by its key."""
        if self.first_only:
            raise Stop
        path = self.namer.element(element)
        if kind == MISSING:
            self._add(path, kind, key, None, element, None)
        else:
            self._add(path, kind, None, key, None, element)

    def _attribute(self, kind: str, legacy: Element, new: Element, name: str) -> None:
        if self.first_only:
            raise Stop
        owner = new if kind == EXTRA else legacy
        path = self.namer.attribute(owner, name)
        self._add(path, kind, legacy.get(name), new.get(name), legacy, new, name)


def _runs(text: Text) -> tuple[str, ...]:
    if isinstance(text, str):
        return (text,) if text.strip() else ()
    return text


def _normalised(text: Text, node: NodeRules) -> Text:
    if isinstance(text, str):
        return normalised(text, node)
    return tuple(normalised(run, node) for run in text)


def _shown(text: Text) -> str:
    return text if isinstance(text, str) else " ".join(text)


def _runs_of(tags: list[str], other_groups: dict[str, list[Element]]) -> list[str]:
    """Names in document order, runs of one name collapsed, names the other side lacks left out
    (those are `missing` or `extra` already)."""
    order: list[str] = []
    for tag in tags:
        if tag in other_groups and (not order or order[-1] != tag):
            order.append(tag)
    return order


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence of `values` (patience sorting)."""
    tails: list[int] = []  # tails[k]: value ending the best run of length k + 1
    tail_index: list[int] = []
    previous = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        previous[i] = tail_index[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        keep.add(i)
        i = previous[i]
    return keep
