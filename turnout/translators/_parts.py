"""The parts of a mapping file that operations of one service share, and `include:`.

    # pnc/_pnc.yaml: not a translator (its name starts with _), included by the pnc mappings
    namespaces: {pnc: "urn:police:pnc:v1"}
    value_maps: {yes_no: {Y: true, N: false}}
    templates: {person: {pnc:pncId: pncId, ...}}
    request: {invalid: {...}}                 # the Fault for a request that fails its checks
    response: {header: {...}, faults: [...]}  # the header of every envelope, status -> Fault

A mapping file says `include: _pnc.yaml` and adds its own; a Python translator names the same
file in its `shared` attribute. The included file's nodes keep their own file and lines, so an
error in it is reported there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Node, load_yaml
from ._templates import compile_elements, named_template
from ._values import Declarations, parse_value_map
from ._writer import ReplyWriter, compile_fault

SHARED_TOP_LEVEL = {"namespaces", "value_maps", "templates", "request", "response"}
SHARED_REQUEST = {"invalid"}
SHARED_RESPONSE = {"header", "faults", "fault_header"}
_PREFIX = re.compile(r"[A-Za-z_][\w.-]*")


@dataclass(frozen=True)
class MappingParts:
    """Declarations (namespaces, value maps, named templates) and the reply writer (header,
    fault rules, the invalid-request fault), compiled."""

    decl: Declarations
    writer: ReplyWriter


@dataclass
class SharedNodes:
    """What one or two files declare, as nodes, merged: an included file first, then the
    including file (whose header and invalid rule win, and whose fault rules come first)."""

    namespaces: dict[str, tuple[str, Node]] = field(default_factory=dict)
    value_maps: dict[str, Node] = field(default_factory=dict)
    templates: dict[str, Node] = field(default_factory=dict)
    header: Node | None = None
    fault_header: Node | None = None
    faults: list[Node] = field(default_factory=list)
    invalid: Node | None = None

    def collect(
        self, root: Node, request_keys: set[str], response_keys: set[str]
    ) -> tuple[Node | None, Node | None]:
        """Merge `root`'s shareable parts in; returns its request and response nodes."""
        if (namespaces := root.get("namespaces")) is not None:
            self._namespaces(namespaces)
        for key, target in (("value_maps", self.value_maps), ("templates", self.templates)):
            if (section := root.get(key)) is None:
                continue
            if not isinstance(section.value, dict):
                raise section.error(f"{key} must map names to definitions")
            for name in section.value:
                item = section.get(name)
                assert item is not None
                if str(name) in target:
                    other = target[str(name)]
                    raise item.error(
                        f"{key[:-1].replace('_', ' ')} {name!r} is declared twice "
                        f"(also {other.file}:{other.line})"
                    )
                target[str(name)] = item
        request = root.get("request")
        if request is not None:
            request.mapping(request_keys)
            if (invalid := request.get("invalid")) is not None:
                self.invalid = invalid
        response = root.get("response")
        if response is not None:
            response.mapping(response_keys)
            if (header := response.get("header")) is not None:
                self.header = header
            if (fault_header := response.get("fault_header")) is not None:
                fault_header.boolean()
                self.fault_header = fault_header
            if (faults := response.get("faults")) is not None:
                self.faults = list(faults.items()) + self.faults
        return request, response

    def _namespaces(self, node: Node) -> None:
        if not isinstance(node.value, dict):
            raise node.error("namespaces must map prefixes to namespace URIs")
        for prefix in node.value:
            item = node.get(prefix)
            assert item is not None
            if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
                raise item.error(f"{prefix!r} is not a valid namespace prefix")
            uri = item.value if item.value is not None else ""
            if not isinstance(uri, str):
                raise item.error('must be a namespace URI (or "" for no namespace)')
            if prefix in self.namespaces and self.namespaces[prefix][0] != uri:
                other = self.namespaces[prefix][1]
                raise item.error(
                    f"prefix {prefix!r} is {other.value!r} in {other.file}:{other.line}"
                )
            self.namespaces[prefix] = (uri, item)

    def include(self, node: Node, including: Path) -> None:
        """Read the file `node` names (relative to `including`) into these nodes."""
        target = including.parent / node.string()
        if target.resolve() == including.resolve():
            raise node.error("a mapping file cannot include itself")
        if not target.is_file():
            raise node.error(f"included file {target} not found")
        root = load_yaml(target).mapping(SHARED_TOP_LEVEL)
        self.collect(root, SHARED_REQUEST, SHARED_RESPONSE)

    def compile(self) -> MappingParts:
        decl = Declarations({prefix: uri for prefix, (uri, _) in self.namespaces.items()})
        for name, node in self.value_maps.items():
            decl.value_maps[name] = parse_value_map(node)
        decl.templates.update(self.templates)
        for name, node in self.templates.items():  # every template, used or not: errors now
            named_template(Node(name, node.file, node.field, node.line), decl)
        writer = ReplyWriter(
            namespaces=dict(decl.namespaces),
            header=compile_elements(self.header, decl, "header") if self.header else (),
            faults=tuple(compile_fault(rule, decl, with_status=True) for rule in self.faults),
            invalid=compile_fault(self.invalid, decl, with_status=False) if self.invalid else None,
            fault_header=self.fault_header.boolean() if self.fault_header is not None else True,
        )
        return MappingParts(decl, writer)


def load_parts(path: Path) -> MappingParts:
    """Compile a shared file on its own: what a Python translator's `shared` names."""
    nodes = SharedNodes()
    root = load_yaml(path).mapping(SHARED_TOP_LEVEL)
    nodes.collect(root, SHARED_REQUEST, SHARED_RESPONSE)
    return nodes.compile()
