"""An OpenAPI 3.1 document for the JSON facade the scaffolded mappings call.

One path per operation, with the method, path and JSON names the mapping scaffold proposes (the
same `Plan`s), so the modern team builds the service the translators will call. JSON Schemas
come from the XSD types: enumerations (the value maps' words), required fields (minOccurs),
dates (`format: date` / `date-time`, also for legacy text dates the mapping converts to ISO),
numbers and their bounds, lengths, and repeated elements as arrays; an array wrapper (spyne's
`stringArray`) is a plain array of its items, as the mapping unwraps it.
"""

from __future__ import annotations

import re
from typing import Any

from ..wsdl import Wsdl
from ._plan import Plan, Slot, describe

PROBLEM = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details; the mapping's fault rules read it.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "invalidParams": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
                "required": ["name", "reason"],
            },
        },
    },
}
_FORMATS = {"date": "date", "dateTime": "date-time", "time": "time", "duration": "duration",
            "anyURI": "uri"}


def openapi_document(wsdl: Wsdl, plans: list[Plan], *, title: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document (plain data, ready for `json.dump` or YAML)."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM}
    operation_ids: set[str] = set()
    for plan in plans:
        path = plan.path
        if plan.method.lower() in paths.get(path, {}):
            path = f"/{plan.service}{plan.path}"
        base = _schema_name(plan.operation_name)
        operation_id = base[:1].lower() + base[1:]
        if operation_id in operation_ids:
            operation_id = f"{plan.service}{base}"
            base = _schema_name(plan.service) + base
        operation_ids.add(operation_id)
        entry: dict[str, Any] = {
            "operationId": operation_id,
            "summary": f"{plan.key} ({plan.operation.name})",
            "tags": [plan.service],
            "responses": {
                "200": {
                    "description": f"What {plan.key} answers with",
                    "content": {"application/json": {
                        "schema": {"$ref": f"#/components/schemas/{base}Response"}}},
                },
                "default": {
                    "description": "An error",
                    "content": {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"}}},
                },
            },
        }
        if plan.operation.documentation:
            entry["description"] = plan.operation.documentation
        if plan.method == "GET":
            entry["parameters"] = [_parameter(slot, wsdl) for slot in plan.request
                                   if slot.kind in ("leaf", "attribute")]
        else:
            schemas[f"{base}Request"] = _object(plan.request, wsdl)
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{base}Request"}}},
            }
        schemas[f"{base}Response"] = _response_schema(plan, wsdl)
        paths.setdefault(path, {})[plan.method.lower()] = entry
    name = title or f"{wsdl.name or 'SOAP service'}: proposed JSON facade"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": name,
            "version": "0.1.0",
            "description": (
                f"Scaffolded by `turnout scaffold --openapi` from {wsdl.location}. One path per "
                "SOAP operation, with the JSON names and calls the scaffolded mapping files "
                "propose; change both together."
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _schema_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "", name) or "Operation"
    return cleaned[:1].upper() + cleaned[1:]


def _response_schema(plan: Plan, wsdl: Wsdl) -> dict[str, Any]:
    if plan.operation.output is None:
        return {"type": "object", "description": "one-way operation: no content is read"}
    if len(plan.response) == 1 and plan.response[0].kind == "complex" and (
        plan.response[0].field.simple is None
    ):
        return _object(plan.response[0].children, wsdl, describe(plan.response[0], wsdl))
    return _object(plan.response, wsdl)


def _object(slots: list[Slot], wsdl: Wsdl, description: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required = []
    for slot in slots:
        properties[slot.json] = _property(slot, wsdl)
        if not slot.optional and slot.kind not in ("any", "unresolved", "recursive"):
            required.append(slot.json)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


def _property(slot: Slot, wsdl: Wsdl) -> dict[str, Any]:
    note = f"XML {slot.tag or slot.kind}: {describe(slot, wsdl)}"
    if slot.field.documentation:
        note = f"{slot.field.documentation} ({note})"
    item = slot.wrapped
    if item is not None:  # an array wrapper is a plain array of its items, as the mapping says
        inner = _object(item.children, wsdl) if item.kind == "complex" else _leaf(item)
        return {"type": "array", "items": inner, "description": note}
    if slot.kind in ("any", "unresolved", "recursive"):
        one: dict[str, Any] = {}
    elif slot.kind == "complex":
        one = _object(slot.children, wsdl)
    else:
        one = _leaf(slot)
    if slot.repeated:
        array: dict[str, Any] = {"type": "array", "items": one}
        if slot.field.min_occurs > 1:
            array["minItems"] = slot.field.min_occurs
        if slot.field.max_occurs is not None and slot.field.max_occurs > 1:
            array["maxItems"] = slot.field.max_occurs
        array["description"] = note
        return array
    one["description"] = note
    return one


def _leaf(slot: Slot) -> dict[str, Any]:
    simple = slot.field.simple
    schema: dict[str, Any] = {"type": slot.json_type}
    if simple is None:
        return schema
    facets = simple.facets
    if slot.value_map:
        schema["enum"] = list(facets.enumeration)
        return schema
    if slot.date:
        schema["format"] = "date-time" if "%d" in slot.date and "%H" in slot.date else (
            "time" if "%H" in slot.date else "date")
        return schema
    if simple.builtin in _FORMATS:
        schema["format"] = _FORMATS[simple.builtin]
    if slot.json_type == "string":
        low = facets.length if facets.length is not None else facets.min_length
        high = facets.length if facets.length is not None else facets.max_length
        if low:
            schema["minLength"] = low
        if high is not None:
            schema["maxLength"] = high
        for pattern in facets.patterns[:1]:
            if _ecma_safe(pattern):
                schema["pattern"] = f"^(?:{pattern})$"
    elif slot.json_type in ("integer", "number"):
        for key, value in (("minimum", facets.min_inclusive), ("maximum", facets.max_inclusive),
                           ("exclusiveMinimum", facets.min_exclusive),
                           ("exclusiveMaximum", facets.max_exclusive)):
            number = _number(value)
            if number is not None:
                schema[key] = number
        floor = {"nonNegativeInteger": 0, "unsignedLong": 0, "unsignedInt": 0,
                 "unsignedShort": 0, "unsignedByte": 0, "positiveInteger": 1}.get(simple.builtin)
        if floor is not None and "minimum" not in schema:
            schema["minimum"] = floor
    return schema


def _ecma_safe(pattern: str) -> bool:
    """Whether an XSD pattern means the same as an ECMA-262 one (no XSD-only escapes)."""
    if re.search(r"\\[iIcCpP]|-\[", pattern):
        return False
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _parameter(slot: Slot, wsdl: Wsdl) -> dict[str, Any]:
    schema = _property(slot, wsdl)
    description = schema.pop("description", None)
    parameter: dict[str, Any] = {"name": slot.json, "in": "query",
                                 "required": not slot.optional, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter
