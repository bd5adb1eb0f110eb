"""What a scaffold was made from, so a re-run can say what changed in the WSDL.

`DIR/.turnout-scaffold.json` keeps, per operation key, every field the mapping was scaffolded
from (`request pnc:VehicleEnquiry/pnc:registrationMark` -> `xs:string 1..1`). A re-run never
rewrites a mapping a person may have edited: it compares the WSDL as it is now with this record
and reports fields added, removed and retyped. `--accept` records the WSDL as it is now, once
the mapping has been brought up to date.
"""

from __future__ import annotations

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


def load_state(directory: Path) -> dict[str, dict[str, str]]:
    path = directory / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    operations = data.get("operations", {}) if isinstance(data, dict) else {}
    return {key: dict(value) for key, value in operations.items() if isinstance(value, dict)}


def save_state(directory: Path, state: dict[str, dict[str, str]], wsdl: str) -> None:
    text = json.dumps({"wsdl": wsdl, "operations": state}, indent=1, sort_keys=True) + "\n"
    write_atomically(directory / STATE_FILE, text, make_dirs=0o755)
