"""An example JSON reply for a scaffolded mapping: what the modern service would answer.

The example request envelope shows what a client sends; this shows what the mapping's reply
half reads, in the JSON names and shapes the scaffold proposed (plain arrays for repeated
elements and array wrappers, objects for nested elements, the value maps' words, ISO dates for
legacy text dates, attributes as fields beside the element's children, an element with text and
attributes as an object whose `value` is the text), with values made from the XSD facets the way
the example envelopes' values are (`turnout.wsdl.example_value`). Fed to the reply half with the
example request, it gives a response envelope the WSDL's schemas accept, so a reply half can be
checked before any traffic.
"""

from __future__ import annotations

from typing import Any

from ..wsdl import example_value
from ._mapping_text import GENERATED_ID, GENERATED_TIME, UUID_HINT
from ._plan import Plan, Slot

#: ISO texts for a legacy text date the mapping converts (`date: {from: iso, to: ...}`)
_ISO = {"datetime": "2026-03-10T09:15:00", "date": "2026-03-10", "time": "09:15:00"}


def example_reply(plan: Plan) -> dict[str, Any] | None:
    """`{"status": 200, "body": {...}}` for the plan's mapping, or None for a one-way
    operation (nothing is read from its reply)."""
    if plan.operation.output is None:
        return None
    body: dict[str, Any] = {}
    for slot in plan.response_headers:
        _header(slot, body)
    response = plan.response
    if len(response) == 1 and response[0].kind == "complex" and response[0].field.simple is None:
        response = response[0].children  # the top element reads from the reply's root
    for slot in response:
        _put(slot, body)
    return {"status": 200, "body": body}


def _header(slot: Slot, body: dict[str, Any]) -> None:
    """Header fields the mapping reads from the reply (not the ids and times it generates);
    a header's nested elements read from the root, as the mapping writes them."""
    if slot.kind == "complex":
        for child in slot.children:
            _header(child, body)
        return
    patterns = slot.field.simple.facets.patterns if slot.field.simple else ()
    if slot.kind == "leaf" and (GENERATED_ID.search(slot.field.name)
                                or GENERATED_TIME.search(slot.field.name)
                                or slot.builtin == "dateTime"
                                or any(UUID_HINT in p for p in patterns)):
        return
    _put(slot, body)


def _put(slot: Slot, body: dict[str, Any]) -> None:
    value = _value(slot)
    if value is not None:
        body[slot.json] = value


def _value(slot: Slot) -> Any:
    if slot.kind in ("any", "unresolved", "recursive"):
        return None  # not mapped by the scaffold (a TODO in the mapping)
    if slot.kind == "attribute":
        return _leaf(slot)
    item = slot.wrapped
    if item is not None:
        return [_one(item)]
    value = _one(slot)
    return [value] if slot.repeated else value


def _one(slot: Slot) -> Any:
    """One occurrence of the slot's element, as JSON: an object, or a leaf's value."""
    if slot.kind == "complex":  # an object; for text with attributes, `value` is the text
        record: dict[str, Any] = {}
        for child in slot.children:
            _put(child, record)
        return record
    return _leaf(slot)


def _leaf(slot: Slot) -> Any:
    text = slot.field.fixed or example_value(slot.field.simple, slot.field.name)
    if slot.date:
        kind = "datetime" if "%d" in slot.date and "%H" in slot.date else (
            "time" if "%H" in slot.date else "date")
        return _ISO[kind]
    if slot.value_map:
        return text  # the proposed word for each code is the code itself
    if slot.json_type == "integer":
        return int(text)
    if slot.json_type == "number":
        return float(text)
    if slot.json_type == "boolean":
        return text in ("true", "1")
    return text
