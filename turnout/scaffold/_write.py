"""`scaffold(wsdl, out)`: a starting point for moving each operation of a WSDL.

For every SOAP operation (or those named), under `out`:

    translators/<service>/<operation>.yaml         the mapping file, every field, TODOs
    examples/<service>/<operation>.request.xml     an example request envelope, with a comment
                                                   naming its operation key and soapAction
    examples/<service>/<operation>.response.xml    an example response envelope
    examples/<service>/<operation>.reply.json      an example JSON reply of the modern service,
                                                   as the mapping's reply half reads it
    golden/<service path>/<Operation>/README.md    where its golden recordings go (the folder
                                                   the recording store files them under)
    pytest.ini                                     the golden-test plugin pointed at the above
    compare.yaml                                   compare rules for the generated header values
    .turnout-scaffold.json                         per WSDL: the fields each mapping was made from

A file that exists is never written again: a person may have edited it. For an operation whose
mapping exists, the report says what changed in the WSDL since it was scaffolded (fields added,
removed, retyped) instead. The examples are checked against the WSDL's schemas (lxml) and the
report says whether they are valid.

Several WSDLs may be scaffolded into one directory: each keeps its own record of what its
mappings were made from, and compare.yaml gains a section for each new operation that needs
one (appended after what is there; nothing a person wrote is touched).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ConfigError, parse_yaml, write_atomically
from ..soap import operation_folder
from ..wsdl import (
    DocumentSet,
    Wsdl,
    check_envelope,
    compile_schemas,
    example_envelope,
    fetch_documents,
    read_documents,
)
from ._example_note import with_example_note
from ._example_reply import example_reply
from ._mapping_text import GENERATED_ID, GENERATED_TIME, UUID_HINT, mapping_text, scalar
from ._plan import Plan, Slot, plans_for
from ._state import Change, WsdlRecord, changes, fields_of, load_state, save_state

#: directories a scaffold creates; files get config.write_atomically's 0o644
_DIRECTORY_MODE = 0o755


@dataclass
class OperationReport:
    key: str
    name: str
    mapping: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    #: problems with the example envelopes against the schema; None: not checked (why in notes)
    invalid: list[str] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ScaffoldReport:
    wsdl: Wsdl
    out: Path
    operations: list[OperationReport] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # operations scaffolded before, now gone
    extended: list[Path] = field(default_factory=list)  # files that existed, with sections added


def scaffold(
    location: str, out: Path, *, operations: tuple[str, ...] = (), allow_network: bool = False,
    timeout: float = 10.0, accept: bool = False,
) -> ScaffoldReport:
    """Scaffold the operations of the WSDL at `location` into `out`. Raises `WsdlError` when
    the WSDL cannot be read at all."""
    documents = fetch_documents(location, allow_network=allow_network, timeout=timeout)
    wsdl = read_documents(documents)
    return scaffold_wsdl(wsdl, documents, out, operations=operations, accept=accept)


def scaffold_wsdl(
    wsdl: Wsdl, documents: DocumentSet, out: Path, *, operations: tuple[str, ...] = (),
    accept: bool = False,
) -> ScaffoldReport:
    label = wsdl_label(wsdl.location)
    records = load_state(out)
    known = {key: mapping.removeprefix("translators/").removesuffix(".yaml")
             for record in records.values() for key, mapping in record.mappings.items()}
    plans, notes = plans_for(wsdl, operations, known=known)
    report = ScaffoldReport(wsdl, out, notes=list(notes))
    try:
        schema = compile_schemas(documents)
        schema_problem = None
    except ValueError as exc:
        schema, schema_problem = None, f"examples not checked: the schemas do not compile ({exc})"
    record = records.setdefault(label, WsdlRecord(label, wsdl.location))
    record.location = wsdl.location
    others = {key: other.label for other in records.values() if other is not record
              for key in other.operations}
    for plan in plans:
        op = _operation(plan, out, label, record, schema, schema_problem, accept)
        if plan.key in others and plan.key not in record.operations:
            op.notes.append(f"also scaffolded here from {others[plan.key]}")
        report.operations.append(op)
    if not operations:
        scaffolded = {key for plan in plans for key in plan.keys}
        report.removed = sorted(key for key in record.operations if key not in scaffolded)
        if accept:
            for key in report.removed:
                record.operations.pop(key, None)
                record.mappings.pop(key, None)
    _once(out / "pytest.ini", _pytest_ini(), report.written)
    _compare_file(out / "compare.yaml", plans, label, report)
    save_state(out, records)
    return report


def wsdl_label(location: str) -> str:
    """What a WSDL is known by in a scaffold's record: its file name, or its URL."""
    return Path(location).name if "://" not in location else location


def _operation(
    plan: Plan, out: Path, label: str, record: WsdlRecord, schema: object,
    schema_problem: str | None, accept: bool,
) -> OperationReport:
    mapping = out / "translators" / f"{plan.stem}.yaml"
    report = OperationReport(plan.key, plan.name, mapping)
    now = fields_of(plan)
    if mapping.exists():
        report.kept.append(mapping)
        before = record.operations.get(plan.key)
        if before is None:
            report.notes.append("mapping exists but was not scaffolded here (no record of its "
                                "fields); left as it is")
        else:
            report.changes = changes(before, now)
        if accept or before is None:
            record.operations[plan.key] = now
    else:
        write_atomically(mapping, mapping_text(plan, label), make_dirs=_DIRECTORY_MODE)
        report.written.append(mapping)
        record.operations[plan.key] = now
    for key in plan.keys:
        record.mappings[key] = mapping.relative_to(out).as_posix()
    examples = out / "examples" / plan.stem
    invalid: list[str] = []
    offers = [(plan.key, plan.operation, "")] + [
        (o.key, o.operation, f".soap{(o.binding.soap_version or '').replace('.', '')}")
        for o in plan.also]
    for key, op, variant in offers:
        envelopes = {"input": example_envelope(op, "input", plan.wsdl.prefixes)}
        if op.output is not None:
            envelopes["output"] = example_envelope(op, "output", plan.wsdl.prefixes)
        envelopes["input"] = with_example_note(envelopes["input"], key, op.soap_action)
        for direction, data in envelopes.items():
            suffix = "request" if direction == "input" else "response"
            path = examples.parent / f"{examples.name}{variant}.{suffix}.xml"
            _once(path, data.decode("utf-8"), report.written, report.kept)
        if schema is not None:
            from ..wsdl import PayloadSchema

            assert isinstance(schema, PayloadSchema)
            invalid += [
                f"{'request' if direction == 'input' else 'response'}{variant}: {problem}"
                for direction, data in envelopes.items()
                for problem in check_envelope(schema, op, direction, data)
            ]
    reply = example_reply(plan)
    if reply is not None:
        text = json.dumps(reply, indent=2, ensure_ascii=False) + "\n"
        _once(examples.parent / f"{examples.name}.reply.json", text, report.written, report.kept)
    if schema is not None:
        report.invalid = invalid
    elif schema_problem:
        report.notes.append(schema_problem)
    for key in plan.keys:
        golden = out.joinpath("golden", *_folder(key), "README.md")
        _once(golden, _golden_readme(plan, key), report.written, report.kept)
    return report


def _once(path: Path, text: str, written: list[Path], kept: list[Path] | None = None) -> None:
    if path.exists():
        if kept is not None:
            kept.append(path)
        return
    write_atomically(path, text, make_dirs=_DIRECTORY_MODE)
    written.append(path)


def _pytest_ini() -> str:
    return """\
# Golden tests for the scaffolded translators (docs/golden.md): every shadow recording copied
# under golden/ is replayed through its translator, offline. Run from this directory:
#   pytest golden/
[pytest]
turnout_translators = translators
turnout_golden = golden
turnout_compare_rules = compare.yaml
"""


def _folder(key: str) -> tuple[str, ...]:
    """An operation's folder under golden/: the one the recording store files it under, so a
    recording is copied from `recordings/<folder>/` to `golden/<folder>/`."""
    path, operation = key.split(" ", 1)
    return operation_folder(path, operation)


def _golden_readme(plan: Plan, key: str) -> str:
    folder = "/".join(_folder(key))
    return f"""\
# Golden recordings of `{key}`

Put shadow-mode recordings of this operation here; each becomes a test of
`translators/{plan.stem}.yaml` (docs/golden.md):

    # record with the translator beside the bus
    turnout routes set "{key}" shadow
    # copy good recordings from the folder the recording store files them under
    cp recordings/{folder}/*.yaml golden/{folder}/
    # run them, from the scaffold's directory
    pytest golden/

A recording made while the translator still had TODOs fails; fix the mapping, or accept a
deliberate change with `pytest golden/ --turnout-update`.
"""


_COMPARE_HEAD = """\
# Compare rules for the scaffolded operations (docs/compare.md): what does not
# count when the legacy answer and the translated one are compared. One section per
# operation key; a WSDL scaffolded here later appends its own sections below.
namespaces: {}

"""


def _compare_file(path: Path, plans: list[Plan], label: str, report: ScaffoldReport) -> None:
    """Write compare.yaml, or append the sections of operations it does not name yet."""
    if not path.exists():
        write_atomically(path, _COMPARE_HEAD + _compare_sections(plans, label, set()),
                         make_dirs=_DIRECTORY_MODE)
        report.written.append(path)
        return
    text = path.read_text(encoding="utf-8")
    try:
        root = parse_yaml(text, path)
    except ConfigError as exc:
        report.notes.append(f"compare.yaml not extended: {exc}")
        return
    if root.value is None:
        named: set[str] = set()
    elif isinstance(root.value, dict):
        named = {str(key) for key in root.value}
    else:
        report.notes.append("compare.yaml not extended: it is not a mapping of sections")
        return
    sections = _compare_sections(plans, label, named)
    if not sections:
        return
    write_atomically(path, text.rstrip("\n") + "\n\n" + sections, make_dirs=_DIRECTORY_MODE)
    report.extended.append(path)


def _compare_sections(plans: list[Plan], label: str, named: set[str]) -> str:
    """Ignore what the scaffolded mappings generate (message ids, timestamps) in diffs: one
    section per operation key not in `named`, each declaring the prefixes its paths use."""
    sections: list[str] = []
    for plan in plans:
        for key in plan.keys:
            if key not in named:
                sections.extend(_compare_section(plan, key))
    if not sections:
        return ""
    return f"# from {label}\n" + "\n".join(sections)


def _compare_section(plan: Plan, key: str) -> list[str]:
    paths = []
    for slot in plan.response_headers:
        paths.extend(_generated(slot, f"//{slot.tag}"))
    if not paths:
        return []
    used = {step.split(":", 1)[0] for path in paths for step in path.strip("/").split("/")
            if ":" in step}
    namespaces = {prefix: uri for prefix, uri in plan.namespaces.items() if prefix in used}
    return [
        f"{scalar(key)}:\n"
        + "  namespaces: {" + ", ".join(f"{prefix}: {scalar(uri)}"
                                        for prefix, uri in namespaces.items()) + "}\n"
        + "  ignore:\n"
        + "".join(f"    - {scalar(path)}   # TODO: generated by the translator; volatile\n"
                  for path in paths)]


def _generated(slot: Slot, path: str) -> list[str]:
    if slot.kind == "complex":
        found = []
        for child in slot.children:
            found.extend(_generated(child, f"{path}/{child.tag}"))
        return found
    patterns = slot.field.simple.facets.patterns if slot.field.simple else ()
    name = slot.field.name
    if slot.kind == "leaf" and (GENERATED_ID.search(name) or GENERATED_TIME.search(name)
                                or slot.builtin == "dateTime"
                                or any(UUID_HINT in p for p in patterns)):
        return [path]
    return []
