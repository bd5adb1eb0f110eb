"""What a scaffold was made from, so a re-run can say what changed in the WSDL.

`DIR/.turnout-scaffold.json` keeps, per WSDL scaffolded into DIR (by its file name, or its URL
when fetched), where it was read from and, per operation key, the mapping file and every field
the mapping was scaffolded from (`request pnc:VehicleEnquiry/pnc:registrationMark` ->
`xs:string 1..1`). A re-run never rewrites a mapping a person may have edited: it compares the
WSDL as it is now with this record and reports fields added, removed and retyped. `--accept`
records the WSDL as it is now, once the mapping has been brought up to date.

The record is per WSDL, not per directory, so several WSDLs share one DIR: re-scaffolding one
of them compares it with its own record only and never reports another's operations as gone.
A file written before records were per WSDL (`{"wsdl": name, "operations": {...}}`) is read as
the record of that one WSDL.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import write_atomically
from ._plan import Plan, Slot

STATE_FILE = ".turnout-scaffold.json"


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "retyped"
    field: str
    before: str | None = None
    after: str | None = None

    def __str__(self) -> str:
        if self.kind == "retyped":
            return f"retyped {self.field}: {self.before} -> {self.after}"
        return f"{self.kind} {self.field} ({self.after or self.before})"


def fields_of(plan: Plan) -> dict[str, str]:
    """Every field of the operation, by direction and element path, with type and occurs."""
    found: dict[str, str] = {}
    request_root = plan.request_element
    base = f"{plan.prefix(request_root.namespace)}:{request_root.name}"
    _walk(plan, plan.request, f"request {base}", found)
    _walk(plan, plan.request_headers, "request header ", found)
    _walk(plan, plan.response, "response ", found)
    _walk(plan, plan.response_headers, "response header ", found)
    return found


def _walk(plan: Plan, slots: list[Slot], prefix: str, found: dict[str, str]) -> None:
    for slot in slots:
        if slot.xpath == ".":
            continue
        name = slot.tag or slot.kind
        path = f"{prefix}/{name}" if not prefix.endswith(" ") else f"{prefix}{name}"
        field = slot.field
        kind = plan.wsdl.short(field.type_name) or (field.simple.builtin if field.simple else
                                                     field.kind)
        found[path] = f"{kind} {field.occurs()}"
        _walk(plan, slot.children, path, found)


def changes(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    found = [Change("added", path, None, after[path]) for path in after if path not in before]
    found += [Change("removed", path, before[path]) for path in before if path not in after]
    found += [Change("retyped", path, before[path], after[path]) for path in after
              if path in before and before[path] != after[path]]
    return found


@dataclass
class WsdlRecord:
    """What one WSDL scaffolded into a directory was, as the directory's record says."""

    label: str  # `pnc.wsdl`, or the URL it was fetched from
    location: str  # where it was read from (a path or URL), as it was when last scaffolded
    #: per operation key, every field the mapping was made from (see `fields_of`)
    operations: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    #: per operation key, its mapping file, relative to the directory
    mappings: dict[str, str] = dataclasses.field(default_factory=dict)

    def as_data(self) -> dict[str, object]:
        return {"location": self.location, "operations": self.operations,
                "mappings": self.mappings}


def load_state(directory: Path) -> dict[str, WsdlRecord]:
    """The record of every WSDL scaffolded into `directory`, by label (empty when none, or
    when the file cannot be read: a scaffold then reports what it finds as new)."""
    path = directory / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    if "wsdls" not in data:  # written before records were per WSDL: one WSDL's record
        label = str(data.get("wsdl") or "")
        return {label: _record(label, {"location": label, "operations": data.get("operations")})}
    wsdls = data["wsdls"] if isinstance(data["wsdls"], dict) else {}
    return {str(label): _record(str(label), entry) for label, entry in wsdls.items()
            if isinstance(entry, dict)}


def _record(label: str, entry: dict[str, object]) -> WsdlRecord:
    operations = entry.get("operations")
    mappings = entry.get("mappings")
    return WsdlRecord(
        label=label,
        location=str(entry.get("location") or label),
        operations={str(key): {str(k): str(v) for k, v in value.items()}
                    for key, value in (operations.items() if isinstance(operations, dict) else ())
                    if isinstance(value, dict)},
        mappings={str(key): str(value) for key, value in (
            mappings.items() if isinstance(mappings, dict) else ())},
    )


def save_state(directory: Path, records: dict[str, WsdlRecord]) -> None:
    data = {"wsdls": {label: record.as_data() for label, record in sorted(records.items())}}
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    write_atomically(directory / STATE_FILE, text, make_dirs=0o755)
