"""A translator's JSON call held against the modern service's OpenAPI contract.

The contract is the OpenAPI document `turnout scaffold --openapi` wrote (or the modern team's
own): the call's method and path must be one it declares, its query parameters declared ones
with the required ones present, and its JSON body must fit the request schema. The schema check
is the subset of JSON Schema the scaffold writes (type, properties, required, items, enum,
additionalProperties, $ref into components), enough to catch a misspelt or missing field and a
value of the wrong type; a `null` is accepted for a property that is not required, because a
mapping sends `null` for a field the caller left out.

A document covers the services its operations are tagged with (the scaffold tags each
operation with its translator's service); a call to a service no document covers is not
checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import ConfigError, load_yaml
from ..translators import JsonCall

_METHODS = ("get", "put", "post", "delete", "patch")
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "number": (int, float), "null": (type(None),),
}
_MAX_PROBLEMS = 10


@dataclass(frozen=True)
class Contract:
    """One OpenAPI document: where it is, the services it covers, its paths."""

    source: Path
    services: frozenset[str]
    document: dict[str, Any]

    def covers(self, service: str) -> bool:
        return service in self.services

    def problems(self, call: JsonCall) -> list[str]:
        """What in `call` the contract does not allow; empty when it fits."""
        found = self._operation(call)
        if found is None:
            return [f"{call.method} {call.path} is not an operation of {self.source.name}"]
        template, operation = found
        problems = self._query(call, operation)
        schema = _request_schema(operation)
        if call.body is not None and schema is None:
            problems.append(f"{call.method} {template} takes no JSON body in {self.source.name}")
        elif schema is not None:
            problems += [f"body{p}" for p in self._fits(call.body, schema, "", True)]
        return problems[:_MAX_PROBLEMS]

    def _operation(self, call: JsonCall) -> tuple[str, dict[str, Any]] | None:
        path = call.path.split("?", 1)[0]
        for template, item in (self.document.get("paths") or {}).items():
            if not isinstance(item, dict) or not _path_matches(str(template), path):
                continue
            operation = item.get(call.method.lower())
            if isinstance(operation, dict):
                return str(template), operation
        return None

    def _query(self, call: JsonCall, operation: dict[str, Any]) -> list[str]:
        declared = {str(p.get("name")): p for p in _parameters(self.document, operation)
                    if p.get("in") == "query"}
        sent = [name for name, _ in call.query]
        problems = [f"query parameter {name!r} is not declared in {self.source.name} (declared: "
                    f"{', '.join(sorted(declared)) or 'none'})" for name in dict.fromkeys(sent)
                    if name not in declared]
        problems += [f"required query parameter {name!r} is not sent" for name, p in
                     declared.items() if p.get("required") and name not in sent]
        return problems

    def _fits(self, value: Any, schema: Any, where: str, required: bool) -> list[str]:
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return []
        if value is None and not required:
            return []
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind else []
        if kinds and not any(_is(value, k) for k in kinds):
            return [f"{where or ''}: {_kind(value)} where the contract wants {' or '.join(kinds)}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {schema['enum']}"]
        problems: list[str] = []
        if isinstance(value, dict):
            properties = schema.get("properties")
            must = set(schema.get("required") or ())
            for name in must - set(value):
                problems.append(f"{where}.{name}: required by the contract, not sent")
            if isinstance(properties, dict):
                for name, item in value.items():
                    if name in properties:
                        problems += self._fits(item, properties[name], f"{where}.{name}",
                                               name in must)
                    elif schema.get("additionalProperties") is not True:
                        problems.append(f"{where}.{name}: not a property the contract declares "
                                        f"(it has: {', '.join(sorted(properties))})")
        elif isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                problems += self._fits(item, schema["items"], f"{where}[{index}]", True)
        return problems

    def _resolve(self, schema: Any) -> Any:
        for _ in range(20):  # a $ref chain, not a loop
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            schema = _pointer(self.document, schema["$ref"])
        return schema


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES.get(kind, (object,)))


def _kind(value: Any) -> str:
    for name in _JSON_TYPES:
        if _is(value, name):
            return name
    return type(value).__name__


def _path_matches(template: str, path: str) -> bool:
    pattern = "".join(
        "[^/]+" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{[^{}]*\})", template)
    )
    return re.fullmatch(pattern, path) is not None


def _pointer(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        return None
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _parameters(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for parameter in operation.get("parameters") or []:
        if isinstance(parameter, dict) and "$ref" in parameter:
            parameter = _pointer(document, str(parameter["$ref"]))
        if isinstance(parameter, dict):
            found.append(parameter)
    return found


def _request_schema(operation: dict[str, Any]) -> Any:
    body = operation.get("requestBody")
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return None
    for media, entry in content.items():
        if "json" in str(media) and isinstance(entry, dict):
            return entry.get("schema")
    return None


def load_contract(path: Path) -> Contract:
    """Read an OpenAPI document (JSON or YAML). Raises ConfigError naming the file."""
    try:
        if path.suffix == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
        else:
            document = _plain(load_yaml(path).value)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the OpenAPI document: {exc}", file=path) from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ConfigError("not an OpenAPI document (no paths:)", file=path)
    services: set[str] = set()
    for item in document["paths"].values():
        for method in _METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict):
                services.update(str(tag) for tag in operation.get("tags") or ())
    return Contract(path, frozenset(services), document)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
