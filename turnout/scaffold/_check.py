"""`check_translators(dir)`: run each translator's halves on example messages, before traffic.

A mapping with a valid but wrong XPath or namespace loads, passes `routes check`, and passes an
offline `compare` (which replays the recorded JSON reply and never runs the request half): the
translator just reads nothing and sends `null`. This check runs both halves on examples:

- the request half (`to_call`, or a fan-out translator's `to_calls`) on every example request
  of the operation: each XPath the mapping reads must find something in at least one example
  (`_check_xpaths`), a valid example must not be refused, and each JSON call must fit its
  modern service's OpenAPI contract when one is known (`_check_contract`);
- the reply half (`to_reply`, or `to_replies` on a fan-out example's replies by call name) on
  every example reply: it must not fail, and the envelope it writes must validate against the
  WSDL's schema (Body and Header; a Fault's detail against the operation's declared faults).

Examples come from the scaffold's files (`examples/<service>/<operation>.request.xml` beside
`translators/`, and example replies beside them), from recordings the caller passes
(`Example`s: each recorded request of the operation, and each recorded JSON reply), and, for an
operation with no example request, from the WSDL's schema (`turnout.wsdl.example_envelope`).
The WSDLs are those given, `*.wsdl` in the directory, in `wsdl/` beside it, and the WSDLs the
scaffold state beside it records. Nothing here prints: the CLI renders the `CheckReport`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ..config import ConfigError
from ..soap import SoapError, read_envelope
from ..translators import (
    Answered,
    FanOutTranslator,
    JsonCall,
    JsonReplies,
    JsonReply,
    MappingTranslator,
    RequestRejected,
    SoapReply,
    TranslationError,
    Translator,
    load_translators,
    reply_from_document,
)
from ..wsdl import (
    Operation,
    PayloadSchema,
    WsdlError,
    check_envelope,
    compile_schemas,
    example_envelope,
    fetch_documents,
    read_documents,
)
from ._check_contract import Contract, load_contract
from ._check_xpaths import mapping_xpaths
from ._example_note import read_example_note
from ._state import STATE_FILE

#: OpenAPI documents looked for in the translators directory and the one above it
_CONTRACT_NAMES = ("openapi.json", "openapi.yaml", "openapi.yml")


@dataclass(frozen=True)
class Example:
    """One example message of an operation: a request envelope, and maybe a JSON reply.

    `label` says where it came from (a file, `recording <id>`, `generated from pnc.wsdl`);
    `path` is the service path it was posted to (None: the operation key's). A request only is
    an example request; with `reply`, also an example reply to that request; with `replies`
    (a fan-out translator's replies by call name, `NoAnswer` for a call that did not answer),
    an example for `to_replies`.
    """

    operation: str
    label: str
    request: bytes | None
    reply: JsonReply | None = None
    path: str | None = None
    #: made up from the schema: a refusal is a note (the schema may allow what the bus does not)
    generated: bool = False
    #: False for a recorded request the bus answered with a Fault: it answers `reply` only,
    #: and is no example of a valid request
    valid_request: bool = True
    replies: JsonReplies | None = None


@dataclass(frozen=True)
class Finding:
    """One thing wrong: which translator, where in its mapping (file:line: field, when known),
    what, and the examples it showed on (the same problem on several examples is one finding)."""

    translator: str
    message: str
    where: str | None = None
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if not self.examples:
            return text
        shown = ", ".join(self.examples[:3])
        more = f" and {len(self.examples) - 3} more" if len(self.examples) > 3 else ""
        return f"{text} (example{'s' if len(self.examples) > 1 else ''}: {shown}{more})"


@dataclass
class CheckReport:
    translators: list[str] = field(default_factory=list)
    request_examples: int = 0
    reply_examples: int = 0
    #: what is wrong: any makes the check fail
    findings: list[Finding] = field(default_factory=list)
    #: what could not be checked, and why (never a failure)
    notes: list[str] = field(default_factory=list)
    #: translators with no example reply: their reply half was not run
    no_reply_examples: list[str] = field(default_factory=list)
    wsdls: list[str] = field(default_factory=list)
    contracts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass
class _Schemas:
    """Every WSDL operation by operation key, with its compiled schema (None: did not compile)."""

    operations: dict[str, tuple[Operation, PayloadSchema | None, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def add(self, location: Path) -> None:
        try:
            documents = fetch_documents(str(location), allow_network=False)
            wsdl = read_documents(documents)
        except WsdlError as exc:
            self.notes.append(f"{location}: not read ({exc})")
            return
        self.files.append(str(location))
        try:
            schema: PayloadSchema | None = compile_schemas(documents)
        except ValueError as exc:
            schema = None
            self.notes.append(f"{location}: its schemas do not compile ({exc}); nothing validated")
        for service in wsdl.services:
            for port in service.ports:
                binding = wsdl.binding(port.binding)
                if binding is None or binding.soap_version is None:
                    continue
                for operation in binding.operations:
                    request = operation.request_element
                    if request is None:
                        continue
                    key = f"{port.service_path or '/'} {request.name}"
                    self.operations.setdefault(key, (operation, schema, location.name))


def wsdl_files(directory: Path) -> list[Path]:
    """The WSDLs found for a translators directory: `*.wsdl` in it and in `wsdl/` beside it,
    and those the scaffold state beside it (or in it) names."""
    found: list[Path] = []
    for folder in (directory, directory.parent / "wsdl", directory / "wsdl"):
        if folder.is_dir():
            found.extend(sorted(folder.glob("*.wsdl")))
    for state in (directory.parent / STATE_FILE, directory / STATE_FILE):
        found.extend(_state_wsdls(state))
    return list(dict.fromkeys(p.resolve() for p in found))


def _state_wsdls(state: Path) -> list[Path]:
    """The WSDL files a scaffold state records (`{"wsdls": {label: {"location": ...}}}`, or an
    older state's `{"wsdl": name}`): a location that is a file as given, relative to the
    state's directory, or relative to where this runs; URLs are not fetched."""
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    names: list[Any] = [data.get("wsdl")]
    records = data.get("wsdls")
    if isinstance(records, dict):
        for label, record in records.items():
            names += [record.get("location") if isinstance(record, dict) else None, label]
    found = []
    for name in names:
        if not isinstance(name, str) or "://" in name:
            continue
        for path in (Path(name), state.parent / name):
            if path.is_file():
                found.append(path)
                break
    return found


def contract_files(directory: Path) -> list[Path]:
    """OpenAPI documents beside a translators directory: `openapi.json|yaml` in it or above."""
    found = []
    for folder in (directory, directory.parent):
        for name in _CONTRACT_NAMES:
            if (folder / name).is_file():
                found.append(folder / name)
        found.extend(sorted(folder.glob("*.openapi.json")))
        found.extend(sorted(folder.glob("*.openapi.yaml")))
    return list(dict.fromkeys(found))


def example_files(directory: Path, translator: Translator, source: Path) -> list[Example]:
    """The example requests and replies the scaffold left for `translator` (loaded from
    `source` under `directory`): `<stem>.request.xml` and `<stem>.reply.json` (also
    `<stem>.<anything>.request.xml`, ...) under `examples/` beside the directory, or beside the
    mapping file itself."""
    stem = source.relative_to(directory).with_suffix("")
    places = [directory.parent / "examples" / stem, source.with_suffix("")]
    found: list[Example] = []
    for place in places:
        folder, name = place.parent, place.name
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"{name}*.request.xml")):
            if _same_stem(path.name, name, ".request.xml"):
                data = path.read_bytes()
                key = read_example_note(data)[0] or translator.operation
                found.append(Example(key, str(path), data, path=key.split(" ", 1)[0]))
        for suffix in (".reply.json", ".response.json"):
            for path in sorted(folder.glob(f"{name}*{suffix}")):
                if _same_stem(path.name, name, suffix):
                    reply = _reply_file(path)
                    if isinstance(reply, JsonReply):
                        found.append(Example(translator.operation, str(path), None, reply))
                    else:
                        found.append(Example(translator.operation, str(path), None, replies=reply))
    return found


def _same_stem(filename: str, stem: str, suffix: str) -> bool:
    middle = filename[len(stem): len(filename) - len(suffix)]
    return middle == "" or middle.startswith(".")


def _reply_file(path: Path) -> JsonReply | JsonReplies:
    """An example reply file: `{"status": 404, "body": {...}}`, or the 200 body alone; for a
    fan-out translator `{"replies": {name: {"status": ..., "body": ...} or {"unanswered":
    "service.timeout"}}}`, as a recording's `translation.replies` holds them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"example reply is not JSON: {exc}", file=path) from None
    if isinstance(data, dict) and set(data) == {"replies"} and isinstance(data["replies"], dict):
        replies = {}
        for name, document in data["replies"].items():
            if not isinstance(document, dict):
                raise ConfigError("each reply must be {status, body} or {unanswered}",
                                  file=path, field=f"replies.{name}")
            replies[str(name)] = reply_from_document(document)
        return replies
    if isinstance(data, dict) and set(data) <= {"status", "body", "headers"} and "status" in data:
        status = data["status"]
        if not isinstance(status, int) or isinstance(status, bool):
            raise ConfigError("status must be an HTTP status code", file=path, field="status")
        return JsonReply(status=status, body=data.get("body"))
    return JsonReply(status=200, body=data)


def operation_keys(translator: Translator) -> tuple[str, ...]:
    """Every operation key a translator serves (a mapping may name the 1.1 and 1.2 keys of one
    operation): its `operations`, else its one `operation`."""
    keys = getattr(translator, "operations", None)
    if isinstance(keys, tuple) and keys and all(isinstance(k, str) for k in keys):
        return keys
    return (translator.operation,)


def check_translators(
    directory: Path,
    *,
    wsdls: Iterable[Path] = (),
    contracts: Iterable[Path] = (),
    examples: Sequence[Example] = (),
    names: Iterable[str] | None = None,
) -> CheckReport:
    """Check the translators under `directory` (only those in `names`, when given) on their
    examples. Raises ConfigError when the translators do not load."""
    translators = load_translators(directory)
    wanted = set(names) if names is not None else None
    report = CheckReport()
    schemas = _Schemas()
    for location in [*wsdls, *wsdl_files(directory)]:
        if str(location) not in schemas.files and str(Path(location).resolve()) not in schemas.files:
            schemas.add(Path(location).resolve())
    report.wsdls = list(schemas.files)
    report.notes.extend(schemas.notes)
    loaded = [load_contract(Path(p)) for p in dict.fromkeys([*contracts, *contract_files(directory)])]
    report.contracts = [str(c.source) for c in loaded]
    given: dict[str, list[Example]] = {}
    for example in examples:
        given.setdefault(example.operation, []).append(example)
    for name in sorted(translators):
        if wanted is not None and name not in wanted:
            continue
        translator = translators[name]
        source = translators.source(name)
        report.translators.append(name)
        found = example_files(directory, translator, source)
        for key in operation_keys(translator):
            found += given.get(key, [])
        _TranslatorCheck(translator, source, schemas, loaded, report).run(found)
    return report


class _TranslatorCheck:
    def __init__(self, translator: Translator, source: Path, schemas: _Schemas,
                 contracts: list[Contract], report: CheckReport) -> None:
        self.translator = translator
        self.source = source
        self.report = report
        self.name = translator.name
        self.keys = operation_keys(translator)
        #: per operation key the translator serves, its WSDL operation, schema and WSDL name
        self.wsdl = {key: schemas.operations[key] for key in self.keys if key in schemas.operations}
        #: held against each call whose service they cover (a fan-out's calls name their own)
        self.contracts = contracts
        #: file:line: field of each XPath that found nothing
        self.missing: set[str] = set()

    def fail(self, message: str, where: str | None = None, example: str | None = None,
             examples: tuple[str, ...] = ()) -> None:
        """Add a finding, or the example to the same finding already made."""
        examples = examples + ((example,) if example is not None else ())
        findings = self.report.findings
        for index, known in enumerate(findings):
            if (known.translator, known.message, known.where) == (self.name, message, where):
                more = tuple(e for e in examples if e not in known.examples)
                findings[index] = Finding(self.name, message, where, known.examples + more)
                return
        findings.append(Finding(self.name, message, where, examples))

    def note(self, message: str) -> None:
        self.report.notes.append(f"{self.name}: {message}")

    def run(self, examples: list[Example]) -> None:
        requests = [e for e in examples if e.request is not None and e.valid_request]
        for key in self.keys:
            if key in self.wsdl and not any(e.operation == key for e in requests):
                operation, _, wsdl_name = self.wsdl[key]
                requests.append(Example(key, f"generated from {wsdl_name}",
                                        example_envelope(operation, "input"),
                                        path=key.split(" ", 1)[0], generated=True))
            elif key not in self.wsdl:
                self.note(f"no WSDL found offering {key}: no schema checks, no generated example")
        if not requests:
            self.note("no example request: the request half was not run")
        envelopes = []
        for example in requests:
            envelope = self._envelope(example)
            if envelope is not None:
                envelopes.append((example, envelope))
        self.report.request_examples += len(envelopes)
        self._xpaths(envelopes)
        for example, envelope in envelopes:
            self._request(example, envelope)
        replies = [e for e in examples if e.reply is not None or e.replies is not None]
        if not replies:
            self.report.no_reply_examples.append(self.name)
        elif not envelopes:
            self.note("example replies but no example request to answer: the reply half was not run")
        first = envelopes[0] if envelopes else None
        for example in replies:
            own = self._envelope(example) if example.request is not None else None
            if own is not None:
                envelope, label = own, example.label
            elif first is not None and example.request is None:
                envelope, label = first[1], f"{example.label} to {first[0].label}"
            else:
                continue
            self._reply(example, envelope, label)

    def _envelope(self, example: Example) -> Any:
        assert example.request is not None
        path = example.path or example.operation.split(" ", 1)[0]
        try:
            envelope = read_envelope(example.request, path)
        except SoapError as exc:
            self.fail(f"the example request cannot be read: {exc}", example=example.label)
            return None
        if envelope.operation.key not in self.keys:
            self.fail(f"the example request is {envelope.operation.key}, not "
                      f"{' or '.join(self.keys)}", example=example.label)
            return None
        return envelope

    def _request(self, example: Example, envelope: Any) -> None:
        try:
            calls = self._calls(envelope)
        except Answered:
            return
        except RequestRejected as exc:
            message = f"the request half refused a valid example request: {exc.message}"
            where = self._field_line(exc.field)
            if where is not None and where in self.missing:
                return  # reported as the XPath that finds nothing
            if example.generated:
                self.note(f"{message} (on {example.label}: the schema may allow what the bus "
                          "refuses; give a real example to check this)")
            else:
                self.fail(message, where=where, example=example.label)
            return
        except TranslationError as exc:
            self.fail(f"the request half failed: {exc.message}", example=example.label)
            return
        except Exception as exc:  # noqa: BLE001 - a translator bug is a finding, not a crash
            self.fail(f"the request half crashed: {type(exc).__name__}: {exc}", example=example.label)
            return
        for name, call in calls:
            what = "the JSON call" if name is None else f"the JSON call {name!r}"
            for contract in self.contracts:
                if not contract.covers(call.service):
                    continue
                for problem in contract.problems(call):
                    self.fail(f"{what} does not fit {contract.source.name}: {problem}",
                              example=example.label)

    def _calls(self, envelope: Any) -> list[tuple[str | None, JsonCall]]:
        """The request half's calls: one unnamed, or a fan-out translator's by name."""
        if isinstance(self.translator, FanOutTranslator):
            return [(named.name, named.call) for named in self.translator.to_calls(envelope).calls]
        return [(None, self.translator.to_call(envelope))]

    def _field_line(self, field_name: str | None) -> str | None:
        """file:line of the XPath a refused field was read with, when it can be told."""
        if not field_name or not isinstance(self.translator, MappingTranslator):
            return None
        try:
            reads = mapping_xpaths(self.source).xpaths
        except ConfigError:
            return None
        for read in reads:
            local = read.text.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            if local == field_name or field_name in read.field.split("."):
                return read.where
        return None

    def _xpaths(self, envelopes: list[tuple[Example, Any]]) -> None:
        if not envelopes or not isinstance(self.translator, MappingTranslator):
            return
        try:
            reads = mapping_xpaths(self.source)
        except ConfigError as exc:
            self.fail(f"the mapping cannot be read: {exc}")
            return
        labels = tuple(e.label for e, _ in envelopes)
        for read in reads.missing([envelope.payload for _, envelope in envelopes]):
            self.missing.add(read.where)
            within = f" (within each {' / '.join(read.within)})" if read.within else ""
            self.fail(f"XPath {read.text!r}{within} finds nothing in any example request: a "
                      "wrong element name or namespace?", where=read.where, examples=labels)

    def _reply(self, example: Example, envelope: Any, label: str) -> None:
        soap = self._answer(example, envelope, label)
        if soap is None:
            return
        self._validate(soap, envelope, label)

    def _answer(self, example: Example, envelope: Any, label: str) -> SoapReply | None:
        """Run the reply half on the example's reply (`to_reply`) or on its replies by name
        (`to_replies`); None when it failed (a finding) or could not be run (a note)."""
        fan_out = isinstance(self.translator, FanOutTranslator)
        if example.replies is not None and not fan_out:
            self.note(f"{label} holds several replies by name (a fan-out run), but the translator "
                      "makes one call (no to_calls): its reply half was not run on it")
            return None
        self.report.reply_examples += 1
        try:
            if example.replies is not None:
                assert isinstance(self.translator, FanOutTranslator)
                on = f"the replies {_replies_text(example.replies)}"
                return self.translator.to_replies(example.replies, envelope)
            assert example.reply is not None
            on = f"HTTP {example.reply.status}"
            return self.translator.to_reply(example.reply, envelope)
        except TranslationError as exc:
            self.fail(f"the reply half failed on {on}: {exc.message}", example=label)
        except Exception as exc:  # noqa: BLE001 - a translator bug is a finding, not a crash
            self.fail(f"the reply half crashed: {type(exc).__name__}: {exc}", example=label)
        return None

    def _validate(self, soap: SoapReply, envelope: Any, label: str) -> None:
        """The envelope the reply half wrote against the WSDL's schema."""
        if envelope.operation.key not in self.wsdl:
            return
        operation, schema, wsdl_name = self.wsdl[envelope.operation.key]
        if schema is None:
            return
        try:
            written = read_envelope(soap.body, envelope.operation.service)
        except SoapError as exc:
            self.fail(f"the reply half wrote an envelope that cannot be read: {exc}", example=label)
            return
        if written.is_fault:
            problems = _fault_problems(schema, operation, written.payload)
        else:
            problems = check_envelope(schema, operation, "output", soap.body)
            problems += _unknown_parts(operation, written)
        for problem in problems:
            self.fail(f"the reply envelope does not validate against {wsdl_name}: {problem}",
                      example=label)


def _replies_text(replies: JsonReplies) -> str:
    """`pnc HTTP 200, cris service.timeout`: what each call answered, for a finding."""
    return ", ".join(f"{name} {'HTTP ' + str(r.status) if isinstance(r, JsonReply) else r.kind}"
                     for name, r in replies.items())


def _unknown_parts(operation: Operation, written: Any) -> list[str]:
    """Body elements the WSDL's output does not name at all (check_envelope skips them)."""
    if operation.output is None or operation.style == "rpc":
        return []
    names = {f.name for f in operation.output.body if f.kind == "element"}
    return [f"Body/{etree.QName(child).localname}: not an element of the operation's output "
            f"({', '.join(sorted(names)) or 'none'})" for child in written.body
            if isinstance(child.tag, str) and etree.QName(child).localname not in names]


def _fault_problems(schema: PayloadSchema, operation: Operation,
                    fault: etree._Element) -> list[str]:
    """A Fault's detail entries against the faults the operation declares. An entry that no
    declared fault names is not checked (many buses send undeclared faults)."""
    problems = []
    detail = next((c for c in fault.iter() if isinstance(c.tag, str)
                   and etree.QName(c).localname in ("detail", "Detail")), None)
    if detail is None:
        return []
    fields = [f for info in operation.faults for f in info.detail if f.kind == "element"]
    for entry in detail:
        if not isinstance(entry.tag, str):
            continue
        match = next((f for f in fields if f.name == etree.QName(entry).localname), None)
        if match is not None:
            problems += [f"Fault detail/{match.name}: {p}" for p in schema.check(entry, match)]
    return problems
