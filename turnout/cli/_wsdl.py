"""`turnout wsdl inspect WSDL` and `turnout scaffold WSDL`: read a WSDL, propose translators."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.tree import Tree

from ..config import dump_yaml, write_atomically
from ..wsdl import Field, Operation, Wsdl, WsdlError, read_wsdl
from ._render import console, errors, fail, shown, warn

_NETWORK = click.option(
    "--allow-network", is_flag=True,
    help="Fetch remote imports (and a WSDL on another host). Without it a local WSDL never "
         "touches the network: remote imports are reported, not fetched.",
)
_TIMEOUT = click.option("--timeout", type=click.FloatRange(0.1, 300), default=10.0,
                        show_default=True, help="Seconds to wait for each remote file.")


@click.group()
def wsdl() -> None:
    """Read WSDLs: services, bindings, operations and their element trees."""


@wsdl.command("inspect")
@click.argument("location", metavar="WSDL")
@click.option("--json", "as_json", is_flag=True, help="The same, as JSON data.")
@_NETWORK
@_TIMEOUT
def inspect(location: str, as_json: bool, allow_network: bool, timeout: float) -> None:
    """Services, ports, bindings and operations of WSDL (a file or URL), with the element trees
    of every message: types, cardinality, enumerations. Problems are listed as warnings."""
    try:
        document = read_wsdl(location, allow_network=allow_network, timeout=timeout)
    except WsdlError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(document.as_data(), indent=1))
        return
    console.print(_tree(document))
    _problems(document)


def _problems(document: Wsdl) -> None:
    if not document.problems:
        return
    errors.print(f"[yellow]{len(document.problems)} warning(s)[/]", highlight=False)
    for problem in document.problems:
        warn(str(problem))


def _tree(document: Wsdl) -> Tree:
    title = f"[bold]{escape(document.name or Path(document.location).name)}[/]"
    if document.target_namespace:
        title += f"  {escape(document.target_namespace)}"
    root = Tree(title)
    files = root.add("files")
    for doc in document.documents:
        note = f" ({escape(doc.note)})" if doc.note else ""
        files.add(f"{escape(doc.location)}  [dim]{doc.kind}[/]{note}")
    keys: dict[str, list[str]] = {}
    for service in document.services:
        node = root.add(f"service [bold]{escape(service.name)}[/]")
        for port in service.ports:
            binding = document.binding(port.binding)
            kind = binding.describe() if binding else "unknown binding"
            node.add(f"port {escape(port.name)}  {kind}  {escape(port.address or '(no address)')}"
                     f"  binding {escape(document.short(port.binding))}")
            if binding is not None and binding.soap_version:
                keys.setdefault(binding.name, []).append(port.service_path or "/")
    for binding in document.bindings:
        label = f"binding [bold]{escape(document.short(binding.name))}[/]  {binding.describe()}"
        if binding.style:
            label += f"  {binding.style}"
        node = root.add(label)
        for operation in binding.operations:
            _operation(node, document, operation, keys.get(binding.name, []))
    return root


def _operation(parent: Tree, document: Wsdl, operation: Operation, paths: list[str]) -> None:
    label = f"operation [bold cyan]{escape(operation.name)}[/]  {operation.describe()}"
    if operation.soap_action:
        label += f"  soapAction {escape(repr(operation.soap_action))}"
    request = operation.request_element
    for path in dict.fromkeys(paths):
        if request is not None:
            label += f"  key [green]{escape(path)} {escape(request.name)}[/]"
    if operation.one_way:
        label += "  [dim](one-way)[/]"
    node = parent.add(label)
    if operation.documentation:
        node.add(f"[dim]{escape(operation.documentation)}[/]")
    for direction in ("input", "output"):
        message = getattr(operation, direction)
        if message is None:
            continue
        branch = node.add(direction)
        for section, fields in (("header", message.headers), ("body", message.body)):
            if not fields and section == "header":
                continue
            holder = branch.add(section)
            for field in fields:
                _field(holder, document, field)
    for fault in operation.faults:
        holder = node.add(f"fault {escape(fault.name)}")
        for field in fault.detail:
            _field(holder, document, field)


def _field(parent: Tree, document: Wsdl, field: Field) -> None:
    occurs = f"[dim]{field.occurs()}[/]"
    if field.kind == "choice":
        node = parent.add(f"[magenta]choice[/] {occurs}"
                          + (f"  [dim]{escape(field.documentation)}[/]" if field.documentation
                             else ""))
    elif field.kind == "sequence":
        node = parent.add(f"[magenta]sequence[/] {occurs}")
    elif field.kind == "any":
        node = parent.add(f"[magenta]any[/] {escape(field.wildcard or '')} "
                          f"({field.process_contents}) {occurs}")
    else:
        name = document.short(field.qname)
        if field.kind == "attribute":
            name = "@" + name
        bits = [f"[bold]{escape(name)}[/]"]
        if field.type_name:
            bits.append(escape(document.short(field.type_name)))
        if field.simple is not None:
            detail = field.simple.builtin + (" list" if field.simple.is_list else "")
            facets = field.simple.facets.describe()
            if facets:
                detail += f"; {facets}"
            if facets or field.simple.is_list or not (field.type_name or "").endswith(
                "}" + field.simple.builtin
            ):
                bits.append(f"[dim]({escape(detail)})[/]")
        bits.append(occurs if field.kind != "attribute" else (
            "[dim]required[/]" if field.min_occurs else "[dim]optional[/]"))
        for flag, text in ((field.nillable, "nillable"), (field.abstract, "abstract"),
                           (field.recursive, "recursive: not expanded"),
                           (field.unresolved, "[yellow]unresolved[/]"),
                           (field.encoded_array, "SOAP-ENC array")):
            if flag:
                bits.append(text)
        node = parent.add("  ".join(bits))
        if field.documentation and field.kind == "element" and not field.children:
            node.add(f"[dim]{escape(field.documentation)}[/]")
    for child in field.children:
        _field(node, document, child)


@click.command()
@click.argument("location", metavar="WSDL")
@click.option("--operation", "operations", multiple=True, metavar="NAME",
              help="Only this operation (its name or key, e.g. '/pnc VehicleEnquiry'); repeat.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for mapping files, examples and golden-test stubs.")
@click.option("--openapi", "openapi", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an OpenAPI 3.1 document of the proposed JSON facade here "
                   "(.yaml/.yml for YAML, else JSON).")
@click.option("--accept", is_flag=True,
              help="Record the WSDL as it is now as what kept mappings were made from "
                   "(after you have brought them up to date).")
@_NETWORK
@_TIMEOUT
def scaffold(
    location: str, operations: tuple[str, ...], out: Path | None, openapi: Path | None,
    accept: bool, allow_network: bool, timeout: float,
) -> None:
    """Propose translators for the operations of WSDL: mapping files with every field and TODOs,
    example envelopes, golden-test stubs (--out), and an OpenAPI contract (--openapi).

    Files that exist are never overwritten; for those, what changed in the WSDL is reported.
    """
    from ..scaffold import openapi_document, plans_for, scaffold_wsdl
    from ..wsdl import fetch_documents, read_documents

    if out is None and openapi is None:
        fail("say where to write: --out DIR (mapping files and examples), --openapi FILE, or both")
    try:
        documents = fetch_documents(location, allow_network=allow_network, timeout=timeout)
    except WsdlError as exc:
        fail(str(exc))
    document = read_documents(documents)
    if out is not None:
        report = scaffold_wsdl(document, documents, out, operations=operations, accept=accept)
        _report(report)
    if openapi is not None:
        plans, notes = plans_for(document, operations)
        if out is None:
            for note in notes:
                console.print(f"[dim]{escape(note)}[/]")
        data = openapi_document(document, plans)
        _write_openapi(openapi, data)
    _problems(document)


def _report(report: object) -> None:
    from ..scaffold import ScaffoldReport

    assert isinstance(report, ScaffoldReport)
    out = report.out
    console.print(f"[bold]{len(report.operations)}[/] operation(s) of "
                  f"{escape(report.wsdl.location)} scaffolded into {escape(shown(out))}")
    for op in report.operations:
        mapping = _rel(op.mapping, out)
        state = "[green]written[/]" if op.mapping in op.written else "[yellow]kept[/]"
        console.print(f"  {escape(op.key)}  {state} {escape(mapping)}")
        if op.invalid is not None:
            if op.invalid:
                console.print("    [red]examples not valid against the schema:[/]")
                for problem in op.invalid:
                    console.print(f"      {escape(problem)}")
            else:
                console.print("    [dim]examples valid against the schema[/]")
        for note in op.notes:
            console.print(f"    [dim]{escape(note)}[/]")
        if op.changes:
            console.print(f"    [yellow]the WSDL changed since {escape(mapping)} was "
                          f"scaffolded; it is not rewritten:[/]")
            for change in op.changes:
                console.print(f"      {escape(str(change))}")
    for key in report.removed:
        console.print(f"  {escape(key)}  [yellow]no longer in the WSDL[/]")
    for path in report.written:
        console.print(f"  [green]written[/] {escape(_rel(path, out))}")
    for path in report.extended:
        console.print(f"  [green]extended[/] {escape(_rel(path, out))} (sections for new "
                      "operations appended)")
    for note in report.notes:
        console.print(f"  [dim]{escape(note)}[/]")


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _write_openapi(path: Path, data: dict[str, object]) -> None:
    if path.suffix in (".yaml", ".yml"):
        text = dump_yaml(data)
    else:
        text = json.dumps(data, indent=2) + "\n"
    try:
        from openapi_spec_validator import validate
    except ImportError:  # a test dependency; the document is written either way
        verdict = "not validated (openapi-spec-validator is not installed)"
    else:
        try:
            validate(data)
            verdict = "valid OpenAPI 3.1"
        except Exception as exc:  # noqa: BLE001 - reported, the file is still written
            verdict = f"[red]not valid OpenAPI: {escape(str(exc).splitlines()[0])}[/]"
    write_atomically(path, text, make_dirs=0o755)
    console.print(f"OpenAPI written to {escape(shown(path))}: {verdict}")


COMMANDS = (wsdl, scaffold)
