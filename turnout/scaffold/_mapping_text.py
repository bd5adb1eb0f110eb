"""A mapping file (docs/translators.md) proposed from a `Plan`, as YAML text with comments.

The text is written by hand rather than dumped, so every field carries its comment (type,
cardinality, facets) on its own line and every decision a person must make says TODO. The file
loads as it is — the proposals are complete — so it can run in shadow mode at once and the
diffs show what to change.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._plan import NO_NAMESPACE, Plan, Slot, describe

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
#: field names whose values a translator generates (ids, timestamps): volatile in diffs
GENERATED_ID = re.compile(r"message.?id|correlation.?id|request.?id|transaction.?id|uuid", re.I)
GENERATED_TIME = re.compile(r"time.?stamp|date.?time|sent.?at|created.?at", re.I)
UUID_HINT = "[0-9a-f]{8}-"


def scalar(value: Any) -> str:
    """A YAML scalar that reads back as `value` (quoted whenever a plain one could mislead)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(spec: dict[str, Any]) -> str:
    """`{json: make, optional: true}`; nested mappings inline too."""
    parts = []
    for key, value in spec.items():
        rendered = flow(value) if isinstance(value, dict) else scalar(value)
        parts.append(f"{scalar(key)}: {rendered}")
    return "{" + ", ".join(parts) + "}"


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, indent: int, text: str, comment: str | None = None) -> None:
        line = "  " * indent + text
        if comment:
            line = f"{line}  # {comment}" if len(line) < 60 else f"{line}  # {comment}"
        self.lines.append(line)

    def note(self, indent: int, text: str) -> None:
        self.lines.append("  " * indent + "# " + text)

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def mapping_text(plan: Plan, wsdl_name: str) -> str:
    op, out = plan.operation, _Text()
    binding = plan.wsdl.short(plan.binding.name)
    out.note(0, f"Scaffolded by `turnout scaffold` from {wsdl_name}: operation {op.name}, "
                f"binding {binding}")
    out.note(0, f"({plan.binding.describe()}, {op.describe()}), port {plan.port.name} at "
                f"{plan.port.address}.")
    out.note(0, "Every request and response field is listed with its XPath, type and "
                "cardinality. Each TODO")
    out.note(0, "is a proposal for a person to confirm or change; as it stands the file loads, "
                "so run it")
    out.note(0, "in shadow mode and let the diffs show what to change (docs/wsdl.md).")
    if op.use == "encoded":
        out.note(0, "TODO: rpc/encoded: a mapping writes no xsi:type attributes in the reply; if "
                    "clients need them, write a Python translator (docs/translators.md).")
    out.add(0, f"name: {scalar(plan.name)}")
    if plan.also:
        others = ", ".join(f"SOAP {o.binding.soap_version} at {o.key.split(' ', 1)[0]}"
                           for o in plan.also)
        out.note(0, f"One translator for this operation's ports (SOAP {plan.binding.soap_version} "
                    f"here; {others}):")
        out.note(0, "it answers in the request's SOAP version. A route for another key finds "
                    "it by this list")
        out.note(0, f"(no `translator: {plan.name}` needed).")
        out.add(0, "operation:")
        for key in plan.keys:
            out.add(1, f"- {scalar(key)}")
    else:
        out.add(0, f"operation: {scalar(plan.key)}")
    out.add(0, f"service: {scalar(plan.service)}", "TODO: the modern service "
            "(a key of services: in turnout.yaml)")
    out.add(0, f"writes: {scalar(plan.writes)}", "TODO: true when the operation changes state "
            "(then it needs request.dry_run)")
    out.blank()
    out.add(0, "namespaces:")
    for prefix, uri in plan.namespaces.items():
        out.add(1, f"{prefix}: {scalar(uri)}",
                "no namespace (rpc parts)" if prefix == NO_NAMESPACE else None)
    if plan.value_maps:
        out.blank()
        out.add(0, "value_maps:")
        out.note(1, "TODO: the modern service's word for each legacy code (proposed: the code "
                    "itself)")
        for name, codes in plan.value_maps.items():
            out.add(1, f"{name}:")
            for code in codes:
                out.add(2, f"{scalar(code)}: {scalar(code)}")
    out.blank()
    _request(out, plan)
    out.blank()
    _response(out, plan)
    return out.text()


# --- the request half ---------------------------------------------------------------------


def _request(out: _Text, plan: Plan) -> None:
    out.add(0, "request:")
    out.add(1, f"method: {plan.method}", "TODO: the modern call's method")
    out.add(1, f"path: {scalar(plan.path)}", "TODO: the modern call's path")
    if plan.request_headers:
        out.note(1, "The request also carries SOAP headers; mapping XPaths read the Body, so "
                    "copy what you need:")
        for slot in plan.request_headers:
            _header_notes(out, plan, slot, f"//{slot.xpath}")
    section = "query" if plan.method == "GET" else "body"
    out.add(1, f"{section}:")
    if not plan.request:
        out.note(2, "(the request has no fields)")
        out.add(2, "{}" if section == "body" else "{}")
    for slot in plan.request:
        _request_slot(out, plan, slot, 2, "", section == "query")
    if plan.writes:
        out.add(1, "dry_run:", "TODO: the validate-only twin of the call, for shadowing a write")
        out.add(2, f"path: {scalar(plan.path + '/validate')}")
    fault = _invalid_detail(plan)
    if fault:
        out.add(1, "invalid:", "the Fault for a request that fails a check above")
        out.add(2, "fault: client")
        out.add(2, "reason: {json: message}")
        out.add(2, "detail:")
        for slot in fault:
            _fault_slot(out, plan, slot, 3, "invalid")


def _join(base: str, step: str) -> str:
    return f"{base}/{step}" if base else step


def _request_slot(
    out: _Text, plan: Plan, slot: Slot, indent: int, base: str, flat: bool,
    under_optional: bool = False,
) -> None:
    """One request field; `under_optional`: an ancestor may be absent, so nothing below it is
    required (a choice's other option, an optional group)."""
    note = describe(slot, plan.wsdl)
    xpath = _join(base, slot.xpath)
    if slot.kind == "any":
        out.note(indent, f"TODO: xs:any ({slot.field.wildcard}, {note}): not mapped")
        return
    if slot.kind in ("unresolved", "recursive"):
        why = "its type is unknown (see turnout wsdl inspect)" if slot.kind == "unresolved" else (
            "its type repeats above it")
        out.note(indent, f"TODO: {xpath} ({note}): {why}; map it by hand")
        return
    if slot.kind in ("leaf", "attribute"):
        spec = _request_spec(slot, xpath, flat, under_optional)
        out.add(indent, f"{scalar(slot.json)}: {flow(spec)}", note)
        return
    item = slot.wrapped
    if item is not None:
        _request_wrapper(out, plan, slot, item, indent, xpath, flat, under_optional)
        return
    if slot.repeated:
        out.add(indent, f"{scalar(slot.json)}:", note)
        out.add(indent + 1, f"each: {scalar(xpath)}")
        if slot.optional:
            out.add(indent + 1, "omit_if_empty: true")
        out.add(indent + 1, "item:")
        children = slot.children or []
        if not children:
            out.add(indent + 2, "{}")
        for child in children:
            _request_slot(out, plan, child, indent + 2, "", flat)
        return
    out.add(indent, f"{scalar(slot.json)}:", note + (", TODO: null fields when absent"
                                                     if slot.optional else ""))
    if not slot.children:
        out.add(indent + 1, "{value: {}}")
    below_optional = under_optional or slot.optional
    for child in slot.children:
        if child.xpath == ".":
            spec = _request_spec(child, xpath, flat, below_optional)
            out.add(indent + 1, f"{scalar(child.json)}: {flow(spec)}", "the element's text")
            continue
        _request_slot(out, plan, child, indent + 1, xpath, flat, below_optional)


def _request_wrapper(
    out: _Text, plan: Plan, slot: Slot, item: Slot, indent: int, xpath: str, flat: bool,
    under_optional: bool,
) -> None:
    """An array wrapper read as a plain JSON array of its items (`items:`): no wrapper object
    in the JSON (`linkedRefs: ["a", "b"]`, not `linkedRefs: {string: [...]}`)."""
    note = f"{describe(slot, plan.wsdl)}, an array of {item.tag} ({describe(item, plan.wsdl)})"
    absent = "required" if not (slot.optional or under_optional) else "omit"
    if item.kind == "leaf":
        spec: dict[str, Any] = {"xpath": xpath, "items": item.xpath, "absent": absent}
        spec.update((k, v) for k, v in _request_spec(item, xpath, flat, True).items()
                    if k not in ("xpath", "list", "required", "omit_if_empty"))
        out.add(indent, f"{scalar(slot.json)}: {flow(spec)}", note)
        return
    out.add(indent, f"{scalar(slot.json)}:", note)
    out.add(indent + 1, f"xpath: {scalar(xpath)}")
    out.add(indent + 1, f"items: {scalar(item.xpath)}")
    out.add(indent + 1, f"absent: {absent}")
    out.add(indent + 1, "item:", "relative to one item")
    if not item.children:
        out.add(indent + 2, "{}")
    for child in item.children:
        _request_slot(out, plan, child, indent + 2, "", flat)


def _request_spec(slot: Slot, xpath: str, flat: bool, under_optional: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"xpath": xpath}
    if slot.repeated:
        spec["list"] = True
    spec["trim"] = True
    if not slot.optional and not under_optional:
        spec["required"] = True
    elif not flat and not slot.repeated:
        spec["omit_if_empty"] = True
    facets = slot.field.simple.facets if slot.field.simple else None
    if facets is not None and slot.json_type == "string":
        high = facets.length if facets.length is not None else facets.max_length
        if high is not None:
            spec["max_length"] = high
    if slot.date:
        spec["date"] = {"from": slot.date, "to": "iso"}
    if slot.value_map:
        spec["map"] = slot.value_map
    if slot.json_type != "string" and not slot.value_map:
        spec["type"] = {"integer": "int", "number": "number", "boolean": "bool"}[slot.json_type]
    return spec


# --- the response half --------------------------------------------------------------------


def _response(out: _Text, plan: Plan) -> None:
    out.add(0, "response:")
    if plan.response_headers:
        out.add(1, "header:", "written on answers and faults alike")
        for slot in plan.response_headers:
            _header_slot(out, plan, slot, 2)
    out.add(1, "body:")
    if plan.operation.output is None:
        out.note(2, "TODO: a one-way operation: the bus answers with an empty Body; a mapping "
                    "needs a body, so this one is a placeholder element")
        out.add(2, f"{plan.request_element and _tag(plan, plan.request_element)}Accepted:")
    elif not plan.response:
        out.note(2, "TODO: the response Body is empty in the WSDL")
        out.add(2, f"{_tag(plan, plan.request_element)}Response:")
    for slot in plan.response:
        _response_slot(out, plan, slot, 2, top=len(plan.response) == 1)
    out.add(1, "faults:")
    names = ", ".join(f.name for f, _ in plan.faults) or "none"
    out.note(2, f"TODO: which of the modern service's error answers become which Fault. The "
                f"WSDL declares: {names}.")
    detail = plan.faults[0][1] if plan.faults else []
    for status, sender, reason in (("4xx", "client", {"json": "detail"}),
                                   ("5xx", "server",
                                    {"value": "the service failed to process the request"})):
        out.add(2, f"- status: {status}")
        out.add(3, f"fault: {sender}")
        out.add(3, f"reason: {flow(reason)}", "TODO: the legacy bus's words")
        if detail:
            out.add(3, "detail:")
            for slot in detail:
                _fault_slot(out, plan, slot, 4, "problem" if sender == "client" else "server")


def _tag(plan: Plan, field: Any) -> str:
    return f"{plan.prefix(field.namespace)}:{field.name}"


def _response_slot(out: _Text, plan: Plan, slot: Slot, indent: int, top: bool = False) -> None:
    note = describe(slot, plan.wsdl)
    if slot.kind == "any":
        out.note(indent, f"TODO: xs:any ({slot.field.wildcard}, {note}): not mapped")
        return
    if slot.kind == "attribute":  # `"@name": spec`, an attribute of the element above
        out.add(indent, f"{scalar(slot.xpath)}: {_rendered(_response_spec(slot))}", note)
        return
    if slot.kind in ("unresolved", "recursive"):
        out.note(indent, f"TODO: {slot.tag} ({note}): its type is "
                         f"{'unknown' if slot.kind == 'unresolved' else 'recursive'}; map it by "
                         "hand")
        return
    if slot.kind == "complex" and slot.field.simple is not None:
        out.add(indent, f"{slot.tag}: {flow(_simple_content_spec(slot))}", note)
        return
    if slot.kind == "leaf":
        out.add(indent, f"{slot.tag}: {_rendered(_response_spec(slot))}", note)
        return
    item = None if top else slot.wrapped
    if item is not None:
        _response_wrapper(out, plan, slot, item, indent)
        return
    out.add(indent, f"{slot.tag}:", note)
    if not top:
        if slot.repeated:
            out.add(indent + 1, f"each: {scalar(slot.json)}")
        else:
            out.add(indent + 1, f"from: {scalar(slot.json)}")
        if slot.optional:
            out.add(indent + 1, "optional: true")
    for child in slot.children:
        _response_slot(out, plan, child, indent + 1)


def _response_wrapper(out: _Text, plan: Plan, slot: Slot, item: Slot, indent: int) -> None:
    """An array wrapper written from a plain JSON array (`items:`), one item element per
    array item; an absent array writes no wrapper when the wrapper is optional."""
    note = f"{describe(slot, plan.wsdl)}, an array of {item.tag} ({describe(item, plan.wsdl)})"
    if item.kind == "leaf":
        spec: dict[str, Any] = {"json": slot.json, "items": item.tag}
        if slot.optional:
            spec["absent"] = "omit"
        spec.update((k, v) for k, v in _response_spec(item).items()
                    if k not in ("json", "each", "optional"))
        out.add(indent, f"{slot.tag}: {flow(spec)}", note)
        return
    out.add(indent, f"{slot.tag}:", note)
    out.add(indent + 1, f"json: {scalar(slot.json)}")
    if slot.optional:
        out.add(indent + 1, "absent: omit")
    out.add(indent + 1, "items:")
    out.add(indent + 2, f"{item.tag}:", "JSON paths relative to one item")
    for child in item.children:
        _response_slot(out, plan, child, indent + 3)


def _rendered(spec: dict[str, Any]) -> str:
    return scalar(spec["json"]) if list(spec) == ["json"] else flow(spec)


def _simple_content_spec(slot: Slot) -> dict[str, Any]:
    """An element with text and attributes (`<distance unit="km">2.5</distance>`), written from
    one JSON object as the request half reads it: `distance: {value: 2.5, unit: km}`. The text
    is a leaf's value, each attribute a `"@name"` spec beside it."""
    text = next(child for child in slot.children if child.xpath == ".")
    prefix = "" if slot.repeated else f"{slot.json}."
    spec = _response_spec(text)
    spec.pop("optional", None)
    if slot.repeated:
        spec = {"each": slot.json, **spec}
    else:
        spec["json"] = prefix + text.json
        if slot.optional:
            spec["optional"] = True
    for child in slot.children:
        if child.kind == "attribute":
            attribute = _response_spec(child)
            attribute["json"] = prefix + child.json
            spec[child.xpath] = attribute
    return spec


def _response_spec(slot: Slot) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if slot.repeated:
        spec["each"] = slot.json
        spec["json"] = "."
    else:
        spec["json"] = slot.json
    if slot.optional:
        spec["optional"] = True
    if slot.value_map:
        spec["unmap"] = slot.value_map
    if slot.date:
        date: dict[str, Any] = {"from": "iso", "to": slot.date}
        if slot.utc:
            date["utc"] = True
        spec["date"] = date
    return spec


def _header_slot(out: _Text, plan: Plan, slot: Slot, indent: int) -> None:
    note = describe(slot, plan.wsdl)
    if slot.kind == "complex":
        out.add(indent, f"{slot.tag}:", note)
        for child in slot.children:
            _header_slot(out, plan, child, indent + 1)
        return
    if slot.kind != "leaf":
        _response_slot(out, plan, slot, indent)
        return
    patterns = slot.field.simple.facets.patterns if slot.field.simple else ()
    if GENERATED_ID.search(slot.field.name) or any(UUID_HINT in p for p in patterns):
        out.add(indent, f"{slot.tag}: {{generate: message_id}}", f"{note}, TODO: check")
    elif GENERATED_TIME.search(slot.field.name) or slot.builtin == "dateTime":
        date: dict[str, Any] = {"from": "iso", "to": slot.date or "iso"}
        if slot.utc:
            date["utc"] = True
        out.add(indent, f"{slot.tag}: {flow({'generate': 'now', 'date': date})}",
                f"{note}, TODO: check")
    else:
        _response_slot(out, plan, slot, indent)


def _header_notes(out: _Text, plan: Plan, slot: Slot, xpath: str) -> None:
    if slot.kind == "complex":
        for child in slot.children:
            _header_notes(out, plan, child, f"{xpath}/{child.xpath}")
        return
    out.note(1, f"  {xpath}  {describe(slot, plan.wsdl)}")


def _invalid_detail(plan: Plan) -> list[Slot]:
    return plan.faults[0][1] if plan.faults else []


def _fault_slot(out: _Text, plan: Plan, slot: Slot, indent: int, context: str) -> None:
    note = describe(slot, plan.wsdl)
    if slot.kind == "complex":
        out.add(indent, f"{slot.tag}:", note)
        for child in slot.children:
            _fault_slot(out, plan, child, indent + 1, context)
        return
    if slot.kind == "attribute":  # an error answer's JSON is not the reply's: a person says
        out.note(indent, f"TODO: attribute {slot.tag} ({note}): its value, e.g. "
                         f"{scalar(slot.xpath)}: {{value: ...}} (docs/translators.md)")
        return
    if slot.kind != "leaf":
        _response_slot(out, plan, slot, indent)
        return
    enumeration = slot.field.simple.facets.enumeration if slot.field.simple else ()
    name = slot.field.name.lower()
    spec: dict[str, Any]
    if enumeration:
        value = {"invalid": "INVAL", "server": "SYSERR"}.get(context, "NOREC")
        spec = {"value": value if value in enumeration else enumeration[0]}
        note = f"{note}, TODO: which code"
    elif "field" in name:
        spec = {"json": "field"} if context == "invalid" else (
            {"json": "invalidParams[0].name", "optional": True})
    elif context == "server":
        spec = {"value": "the service failed to process the request"}
    else:
        spec = {"json": "message" if context == "invalid" else "detail"}
    if slot.optional and "json" in spec:
        spec["optional"] = True
    out.add(indent, f"{slot.tag}: {flow(spec)}", note)
