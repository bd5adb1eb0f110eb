"""Mapping files: a translator declared in YAML, compiled once when it loads.

See docs/translators.md for the format. Everything that can be checked is checked at load and
reported as `file:line: field: message`: unknown keys, XPaths, JSON paths, date formats, value-map
names, element prefixes, path placeholders. Per message, the translator only runs compiled
XPaths, dictionary lookups and lxml element construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lxml import etree

from ..config import Node, load_yaml
from ..soap import Envelope
from ._attachments import attachments_of
from ._jsonpath import MISSING, JsonPath, compile_json_path
from ._parts import SharedNodes
from ._protocol import (
    DEFAULT_VOLATILES,
    JsonCall,
    JsonReply,
    RequestRejected,
    SoapReply,
    TranslationError,
    Volatiles,
)
from ._templates import Element, JsonTemplate, compile_elements, compile_json
from ._transforms import TYPES, BadValue
from ._values import (
    OMIT,
    Declarations,
    Scope,
    ValueProblem,
    ValueSpec,
    compile_value,
)
from ._writer import ANY_SUCCESS, ReplyWriter, StatusMatch

TOP_LEVEL = {
    "name", "operation", "service", "writes", "include", "namespaces", "value_maps", "templates",
    "request", "response",
}
REQUEST_KEYS = {
    "method", "path", "path_params", "query", "headers", "body", "checks", "dry_run", "invalid",
}
RESPONSE_KEYS = {"success", "header", "body", "faults", "fault_header"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_OPERATION = re.compile(r"/\S* \S+")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_to_string = TYPES["string"]


# --- the request half -----------------------------------------------------------------------


@dataclass(frozen=True)
class CallTemplate:
    """How one JSON call is built: method, path with placeholders, query, headers, body."""

    method: str
    path: tuple[str | ValueSpec, ...]  # literal segments and percent-encoded values
    query: tuple[tuple[str, ValueSpec], ...] = ()
    headers: tuple[tuple[str, ValueSpec], ...] = ()
    body: JsonTemplate | None = None

    def build(self, service: str, scope: Scope) -> JsonCall:
        path = "".join(
            part if isinstance(part, str) else quote(_text(part.evaluate(scope), part), safe="")
            for part in self.path
        )
        return JsonCall(
            service=service,
            method=self.method,
            path=path,
            query=_pairs(self.query, scope),
            headers=_pairs(self.headers, scope),
            body=self.body.build(scope) if self.body is not None else None,
        )


def _text(value: Any, spec: ValueSpec) -> str:
    if isinstance(value, str):
        return value
    try:
        text: str = _to_string(value)
    except BadValue as bad:
        raise ValueProblem(spec.field, bad.kind, f"{spec.field} {bad.message}", spec.where) from None
    return text


def _pairs(specs: tuple[tuple[str, ValueSpec], ...], scope: Scope) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for name, spec in specs:
        value = spec.evaluate(scope)
        if value is OMIT or value is None:
            continue
        for item in value if isinstance(value, list) else (value,):
            pairs.append((name, _text(item, spec)))
    return tuple(pairs)


# --- the translator -------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingTranslator:
    """A translator compiled from a mapping file. Immutable; `with_volatiles` gives a copy."""

    name: str
    operation: str
    service: str
    writes: bool
    source: Path
    checks: tuple[ValueSpec, ...]
    call: CallTemplate
    dry_run_call: CallTemplate | None
    #: where a dry-run reply carries the record (`wouldCreate`); read from there when present
    dry_run_reply: JsonPath | None
    writer: ReplyWriter
    body: tuple[Element, ...]
    success: StatusMatch = ANY_SUCCESS
    volatiles: Volatiles = field(default=DEFAULT_VOLATILES, compare=False)
    #: every route-table key it serves (`operation:` may list several, e.g. the SOAP 1.1 and
    #: 1.2 ports of one service at different paths); `operation` is the first
    operations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.operations:
            object.__setattr__(self, "operations", (self.operation,))

    def __repr__(self) -> str:
        return f"MappingTranslator({self.name!r}, {self.operation!r}, source={str(self.source)!r})"

    def with_volatiles(self, volatiles: Volatiles) -> MappingTranslator:
        return replace(self, volatiles=volatiles)

    def _check(self, request: Envelope) -> None:
        if request.operation.key not in self.operations:
            raise TranslationError(
                f"translates {' and '.join(self.operations)}, not {request.operation.key}",
                translator=self.name,
            )

    def to_call(self, request: Envelope, *, dry_run: bool = False) -> JsonCall:
        self._check(request)
        template = self.dry_run_call if dry_run and self.dry_run_call is not None else self.call
        scope = Scope(request.payload, volatiles=self.volatiles,
                      attachments=attachments_of(request))
        try:
            for check in self.checks:
                check.evaluate(scope)
            return template.build(self.service, scope)
        except ValueProblem as problem:
            raise self._rejected(problem, request) from None

    def _rejected(self, problem: ValueProblem, request: Envelope) -> RequestRejected:
        reply = None
        if self.writer.invalid is not None:
            about = {"field": problem.field, "message": problem.message, "kind": problem.kind}
            scope = Scope(request.payload, about, about, self.volatiles)
            reply = self.writer.fault(request, scope, self.writer.invalid)
        return RequestRejected(
            problem.message, field=problem.field, reply=reply, translator=self.name
        )

    def to_reply(self, reply: JsonReply, request: Envelope) -> SoapReply:
        self._check(request)
        body = reply.body
        if self.dry_run_reply is not None and reply.status in self.success:
            record = self.dry_run_reply.read(body, body) if isinstance(body, dict) else MISSING
            if record is not MISSING:
                body = record
        scope = Scope(request.payload, body, body, self.volatiles)
        try:
            if reply.status in self.success:
                return self.writer.respond(request, scope, lambda body: self._body(body, scope))
            rule = self.writer.rule_for(reply)
            if rule is None:
                raise TranslationError(
                    f"service {self.service} answered HTTP {reply.status}, "
                    f"which no fault rule in {self.source.name} covers"
                )
            return self.writer.fault(request, scope, rule)
        except TranslationError as error:
            if error.translator is None:
                error.translator = self.name
            raise

    def _body(self, parent: etree._Element, scope: Scope) -> None:
        for element in self.body:
            element.build(parent, scope)


# --- compiling a file -----------------------------------------------------------------------


def load_mapping(path: Path) -> MappingTranslator:
    """Compile the mapping file at `path`. Raises ConfigError naming file, line and field."""
    root = load_yaml(path).mapping(TOP_LEVEL)
    shared = SharedNodes()
    if (include := root.get("include")) is not None:
        shared.include(include, path)
    request, response = shared.collect(root, REQUEST_KEYS, RESPONSE_KEYS)

    operation_node = _required(root, "operation", "the route-table key, e.g. '/pnc VehicleEnquiry'")
    operations = _operation_keys(operation_node)
    operation = operations[0]
    service = _required(root, "service", "which modern service it calls, e.g. pnc").string()
    name_node = root.get("name")
    name = name_node.string() if name_node is not None else operation.lstrip("/").replace(" ", "/")
    if name_node is not None and not _NAME.fullmatch(name):
        raise name_node.error(f"{name!r} is not a translator name like pnc/VehicleEnquiry")
    writes_node = root.get("writes")
    writes = writes_node.boolean() if writes_node is not None else False
    if request is None:
        raise root.error("missing field: request (how to call the modern service)")
    if response is None:
        raise root.error("missing field: response (how to answer in SOAP)")

    parts = shared.compile()
    decl = parts.decl
    checks = _checks(request.get("checks"), decl)
    call = _call(request, decl)
    dry_run = None
    dry_reply = None
    if (dry_node := request.get("dry_run")) is not None:
        dry_node.mapping({"method", "path", "reply"})
        dry_run = _call(request, decl, override=dry_node)
        if (reply_node := dry_node.get("reply")) is not None:
            try:
                dry_reply = compile_json_path(reply_node.string())
            except ValueError as exc:
                raise reply_node.error(str(exc)) from None
    elif writes:
        raise request.error(
            "a translator that writes needs request.dry_run: the validate-only endpoint that "
            "shadowing calls instead"
        )

    success = ANY_SUCCESS
    if (success_node := response.get("success")) is not None:
        success = StatusMatch.parse(success_node)
    body_node = _required(response, "body", "the response element template")
    return MappingTranslator(
        name=name,
        operation=operation,
        service=service,
        writes=writes,
        source=path,
        checks=checks,
        call=call,
        dry_run_call=dry_run,
        dry_run_reply=dry_reply,
        writer=parts.writer,
        body=compile_elements(body_node, decl, "body"),
        success=success,
        operations=operations,
    )


def _operation_keys(node: Node) -> tuple[str, ...]:
    """`operation:` is one route-table key, or a list of them (one translator serving the
    same operation at several paths, e.g. a service's SOAP 1.1 and 1.2 ports)."""
    items = list(node.items()) if isinstance(node.value, list) else [node]
    if not items:
        raise node.error("name at least one operation key, e.g. '/pnc VehicleEnquiry'")
    keys: list[str] = []
    for item in items:
        key = item.string()
        if not _OPERATION.fullmatch(key):
            raise item.error(
                f"{key!r} is not an operation key: the service path, a space, the operation, "
                "e.g. '/pnc VehicleEnquiry'"
            )
        if key in keys:
            raise item.error(f"{key!r} is listed twice")
        keys.append(key)
    return tuple(keys)


def _checks(node: Node | None, decl: Declarations) -> tuple[ValueSpec, ...]:
    """Values read only to be checked, before anything else, in order: a group that must be
    there, one of two fields that must be given."""
    if node is None:
        return ()
    if not isinstance(node.value, list):
        raise node.error("checks must be a list of values to check, e.g. [{xpath: ..., required: true}]")
    return tuple(compile_value(item, decl, "request") for item in node.items())


def _required(node: Node, key: str, what: str) -> Node:
    found = node.get(key)
    if found is None:
        raise node.error(f"missing field: {key} ({what})")
    return found


def _call(
    request: Node, decl: Declarations, *, override: Node | None = None
) -> CallTemplate:
    method_node = (override.get("method") if override is not None else None) or request.get(
        "method"
    )
    method = "GET" if method_node is None else method_node.choice(METHODS)
    path_node = (override.get("path") if override is not None else None) or _required(
        request, "path", "the path on the service, e.g. /vehicles/{registration}"
    )
    path_text = path_node.string()
    if not path_text.startswith("/"):
        raise path_node.error(f"{path_text!r} must start with /")

    params: dict[str, ValueSpec] = {}
    if (params_node := request.get("path_params")) is not None:
        if not isinstance(params_node.value, dict):
            raise params_node.error("must map each {placeholder} of the path to a value")
        for key in params_node.value:
            item = params_node.get(key)
            assert item is not None
            spec = compile_value(item, decl, "request", name=str(key))
            if spec.absent == "null":  # an empty path segment is never what anyone meant
                spec = replace(spec, absent="required")
            params[str(key)] = spec
    parts: list[str | ValueSpec] = []
    used: set[str] = set()
    position = 0
    for match in _PLACEHOLDER.finditer(path_text):
        placeholder = match.group(1)
        if placeholder not in params:
            raise path_node.error(
                f"path placeholder {{{placeholder}}} has no value under request.path_params"
            )
        parts.append(path_text[position : match.start()])
        parts.append(params[placeholder])
        used.add(placeholder)
        position = match.end()
    parts.append(path_text[position:])
    if override is None:
        unused = set(params) - used
        if unused and params_node is not None:
            raise params_node.error(f"path_params {sorted(unused)} do not appear in the path")

    query = _named_values(request.get("query"), decl)
    headers = _named_values(request.get("headers"), decl)
    body = None
    if (body_node := request.get("body")) is not None:
        if method in ("GET", "DELETE"):
            raise body_node.error(f"a {method} call carries no body; use query:")
        body = compile_json(body_node, decl)
    return CallTemplate(method, tuple(p for p in parts if p != ""), query, headers, body)


def _named_values(node: Node | None, decl: Declarations) -> tuple[tuple[str, ValueSpec], ...]:
    """Query parameters or headers: name -> value. A query has no null, so an absent value is
    left out unless the spec says `required: true`."""
    if node is None:
        return ()
    if not isinstance(node.value, dict):
        raise node.error("must map names to values")
    pairs = []
    for key in node.value:
        item = node.get(key)
        assert item is not None
        spec = compile_value(item, decl, "request", name=str(key))
        if spec.absent == "null":
            spec = replace(spec, absent="omit")
        pairs.append((str(key), spec))
    return tuple(pairs)

