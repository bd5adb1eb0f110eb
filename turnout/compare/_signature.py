"""Canonical signatures of subtrees: equal strings exactly when the subtrees compare equal.

Used where a walk cannot pair elements by name alone: a list of same-named siblings (to find
what was moved, dropped or added) and a set with no key. A signature applies the same rules the
walk does (ignored parts left out, normalised text, sets sorted), so "signatures differ" and
"the walk reports a difference" agree. Delimiters are control characters XML 1.0 cannot carry,
so no text can forge one.
"""

from __future__ import annotations

from lxml import etree

from ._content import FAULT_TAGS, attribute_value, content, fault_code, fault_view
from ._rules import NodeRules, Place, Rules

_OPEN, _CLOSE, _ATTR, _VALUE, _LEAF, _RUN, _SET, _END_SET = (chr(c) for c in range(1, 9))


def group_children(
    children: list[etree._Element], place: Place
) -> tuple[dict[str, list[etree._Element]], list[str]]:
    """Children by name (in order of first appearance), and the names in document order,
    ignored children left out."""
    groups: dict[str, list[etree._Element]] = {}
    tags: list[str] = []
    check = not place.plain
    for child in children:
        tag = child.tag
        if check and place.child(tag).rules.ignored:
            continue
        tags.append(tag)
        group = groups.get(tag)
        if group is None:
            groups[tag] = [child]
        else:
            group.append(child)
    return groups, tags


def normalised(text: str, node: NodeRules) -> str:
    for function in node.text:
        text = function(text)
    return text


def attributes(
    element: etree._Element, items: list[tuple[str, str]], node: NodeRules
) -> dict[str, str]:
    """Attribute name to value as compared (rules applied), for attributes the rules keep."""
    result = {}
    for name, value in items:
        if node.ignored_attributes and node.attribute_ignored(name):
            continue
        value = attribute_value(name, value, element)
        if node.attribute_normalisers:
            for function in node.attribute_functions(name):
                value = function(value)
        result[name] = value
    return result


def signature(element: etree._Element, place: Place, rules: Rules) -> str:
    """The canonical signature of `element`, found at `place`."""
    parts: list[str] = []
    _write(element, place, rules, parts)
    return "".join(parts)


def _write(element: etree._Element, place: Place, rules: Rules, out: list[str]) -> None:
    node = place.rules
    tag = element.tag
    out += (_OPEN, tag)
    if tag in FAULT_TAGS:
        _write_fault(element, place, rules, out)
        out.append(_CLOSE)
        return
    items = element.items()
    if items:
        values = attributes(element, items, node)
        for name in sorted(values):
            out += (_ATTR, name, _VALUE, values[name])
    children, text = content(element)
    if isinstance(text, str):
        out += (_LEAF, normalised(text, node))
    else:
        for run in text:
            out += (_RUN, normalised(run, node))
    if children:
        groups, tags = group_children(children, place)
        seen: dict[str, int] = {}
        for tag in tags:
            index = seen.get(tag, 0)
            seen[tag] = index + 1
            child_place = place.child(tag)
            if child_place.rules.unordered is None:
                _write(groups[tag][index], child_place, rules, out)
            elif index == 0:  # a set: its members sorted, where the first one stood
                out.append(_SET)
                out += sorted(signature(member, child_place, rules) for member in groups[tag])
                out.append(_END_SET)
    out.append(_CLOSE)


def _write_fault(fault: etree._Element, place: Place, rules: Rules, out: list[str]) -> None:
    view = fault_view(fault)
    for code in view.codes:
        if not place.below(code, fault).rules.ignored:
            out += (_ATTR, "code", _VALUE, fault_code(code))
    for language, reason in sorted(view.reasons, key=lambda item: item[0]):
        node = place.below(reason, fault).rules
        if not node.ignored:
            _, text = content(reason)
            flat = text if isinstance(text, str) else "".join(text)
            out += (_ATTR, "reason", language, _VALUE, normalised(flat, node))
    if rules.compares_fault_detail and view.detail is not None:
        detail_place = place.child(view.detail.tag)
        if not detail_place.rules.ignored:
            _write(view.detail, detail_place, rules, out)
