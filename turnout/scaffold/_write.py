"""`scaffold(wsdl, out)`: a starting point for moving each operation of a WSDL.

For every SOAP operation (or those named), under `out`:

    translators/<service>/<operation>.yaml         the mapping file, every field, TODOs
    examples/<service>/<operation>.request.xml     an example request envelope, with a comment
                                                   naming its operation key and soapAction
    examples/<service>/<operation>.response.xml    an example response envelope
    golden/<service path>/<Operation>/README.md    where its golden recordings go (the folder
                                                   the recording store files them under)
    pytest.ini                                     the golden-test plugin pointed at the above
    compare.yaml                                   compare rules for the generated header values
    .turnout-scaffold.json                         the fields each mapping was made from

A file that exists is never written again: a person may have edited it. For an operation whose
mapping exists, the report says what changed in the WSDL since it was scaffolded (fields added,
removed, retyped) instead. The examples are checked against the WSDL's schemas (lxml) and the
report says whether they are valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import write_atomically
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
from ._mapping_text import GENERATED_ID, GENERATED_TIME, UUID_HINT, mapping_text, scalar
from ._plan import Plan, Slot, plans_for
from ._state import Change, changes, fields_of, load_state, save_state

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
    plans, notes = plans_for(wsdl, operations)
    report = ScaffoldReport(wsdl, out, notes=list(notes))
    label = Path(wsdl.location).name if "://" not in wsdl.location else wsdl.location
    try:
        schema = compile_schemas(documents)
        schema_problem = None
    except ValueError as exc:
        schema, schema_problem = None, f"examples not checked: the schemas do not compile ({exc})"
    state = load_state(out)
    for plan in plans:
        report.operations.append(_operation(plan, out, label, state, schema, schema_problem,
                                            accept))
    if not operations:
        scaffolded = {plan.key for plan in plans}
        report.removed = sorted(key for key in state if key not in scaffolded)
    _once(out / "pytest.ini", _pytest_ini(), report.written)
    _once(out / "compare.yaml", _compare_rules(plans), report.written)
    save_state(out, state, label)
    return report


def _operation(
    plan: Plan, out: Path, label: str, state: dict[str, dict[str, str]], schema: object,
    schema_problem: str | None, accept: bool,
) -> OperationReport:
    mapping = out / "translators" / f"{plan.stem}.yaml"
    report = OperationReport(plan.key, plan.name, mapping)
    now = fields_of(plan)
    if mapping.exists():
        report.kept.append(mapping)
        before = state.get(plan.key)
        if before is None:
            report.notes.append("mapping exists but was not scaffolded here (no record of its "
                                "fields); left as it is")
        else:
            report.changes = changes(before, now)
        if accept or before is None:
            state[plan.key] = now
    else:
        write_atomically(mapping, mapping_text(plan, label), make_dirs=_DIRECTORY_MODE)
        report.written.append(mapping)
        state[plan.key] = now
    op = plan.operation
    examples = out / "examples" / plan.stem
    envelopes = {"input": example_envelope(op, "input", plan.wsdl.prefixes)}
    if op.output is not None:
        envelopes["output"] = example_envelope(op, "output", plan.wsdl.prefixes)
    envelopes["input"] = with_example_note(envelopes["input"], plan.key, op.soap_action)
    for direction, data in envelopes.items():
        suffix = "request" if direction == "input" else "response"
        path = examples.parent / f"{examples.name}.{suffix}.xml"
        _once(path, data.decode("utf-8"), report.written, report.kept)
    if schema is not None:
        from ..wsdl import PayloadSchema

        assert isinstance(schema, PayloadSchema)
        report.invalid = [
            f"{'request' if direction == 'input' else 'response'}: {problem}"
            for direction, data in envelopes.items()
            for problem in check_envelope(schema, op, direction, data)
        ]
    elif schema_problem:
        report.notes.append(schema_problem)
    golden = out.joinpath("golden", *_folder(plan), "README.md")
    _once(golden, _golden_readme(plan), report.written, report.kept)
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


def _folder(plan: Plan) -> tuple[str, ...]:
    """The operation's folder under golden/: the one the recording store files it under, so a
    recording is copied from `recordings/<folder>/` to `golden/<folder>/`."""
    path, operation = plan.key.split(" ", 1)
    return operation_folder(path, operation)


def _golden_readme(plan: Plan) -> str:
    folder = "/".join(_folder(plan))
    return f"""\
# Golden recordings of `{plan.key}`

Put shadow-mode recordings of this operation here; each becomes a test of
`translators/{plan.stem}.yaml` (docs/golden.md):

    # record with the translator beside the bus
    turnout routes set "{plan.key}" shadow
    # copy good recordings from the folder the recording store files them under
    cp recordings/{folder}/*.yaml golden/{folder}/
    # run them, from the scaffold's directory
    pytest golden/

A recording made while the translator still had TODOs fails; fix the mapping, or accept a
deliberate change with `pytest golden/ --turnout-update`.
"""


def _compare_rules(plans: list[Plan]) -> str:
    """Ignore what the scaffolded mappings generate (message ids, timestamps) in diffs."""
    namespaces: dict[str, str] = {}
    sections: list[str] = []
    for plan in plans:
        paths = []
        for slot in plan.response_headers:
            paths.extend(_generated(slot, f"//{slot.tag}"))
        if not paths:
            continue
        for prefix, uri in plan.namespaces.items():
            if uri and namespaces.setdefault(prefix, uri) != uri:
                continue
        sections.append(f"{scalar(plan.key)}:\n  ignore:\n" + "".join(
            f"    - {scalar(path)}   # TODO: generated by the translator; volatile\n"
            for path in paths))
    lines = ["# Compare rules for the scaffolded operations (docs/compare.md): what does not",
             "# count when the legacy answer and the translated one are compared.",
             "namespaces:" if namespaces else "namespaces: {}"]
    lines += [f"  {prefix}: {scalar(uri)}" for prefix, uri in namespaces.items()]
    return "\n".join(lines) + "\n\n" + "\n".join(sections)


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
