"""One route: what a single SOAP operation gets, and the names that go with it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["legacy", "translator", "shadow", "canary"]
OnError = Literal["legacy", "fault"]

MODES: tuple[str, ...] = ("legacy", "translator", "shadow", "canary")
ON_ERROR: tuple[str, ...] = ("legacy", "fault")
DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 60.0

# `/pnc VehicleEnquiry`: a service path as `turnout.soap.service_path` returns it (leading `/`,
# no trailing `/`, no query), one space, and the local name of the Body's first child.
_SEGMENT = r"[A-Za-z0-9._~!$&'()*+,;=:@%-]+"
_KEY = re.compile(rf"^(/|(?:/{_SEGMENT})+) ([A-Za-z_][A-Za-z0-9_.-]*)$")


def operation_key_problem(key: object) -> str | None:
    """Why `key` is not an operation key, or None when it is one."""
    if not isinstance(key, str):
        return f"an operation key must be text like '/pnc VehicleEnquiry', not {key!r}"
    if _KEY.match(key):
        return None
    hint = ""
    path, _, name = key.partition(" ")
    if not key.startswith("/"):
        hint = "; the service path starts with '/'"
    elif " " not in key:
        hint = "; put one space between the service path and the operation name"
    elif path != "/" and path.endswith("/"):
        hint = f"; drop the trailing '/': '{path.rstrip('/')} {name}'"
    elif "?" in path:
        hint = "; the service path has no query string"
    return f"operation key {key!r} must look like '/service/path OperationName'{hint}"


def default_translator(key: str) -> str:
    """The translator an operation uses unless its route names one: `/pnc X` -> `pnc/X`,
    `/merlin/MerlinService X` -> `merlin/MerlinService/X`: the name `turnout scaffold` gives it
    (one naming function, `turnout.soap._envelope.translator_name`, serves both)."""
    from ..soap import translator_name

    path, _, name = key.partition(" ")
    return translator_name(path, name)


@dataclass(frozen=True)
class Route:
    """What one operation gets. Unlisted operations get `Route(key)`: legacy, pass-through.

    `line` and `source` say where the route was written; they never count in comparisons, so
    moving a route in the file is not a change.
    """

    key: str
    mode: Mode = "legacy"
    #: share of callers sent to the translator, 0..100; only for `canary`
    percent: float | None = None
    #: the translator's name when the route gives one; see `translator_name`
    translator: str | None = None
    #: seconds the translator may take before `on_error` applies
    timeout: float = DEFAULT_TIMEOUT
    #: what a client gets when the translator fails: the bus's answer, or a SOAP Fault
    on_error: OnError = "legacy"
    #: the operation changes state; it is never run twice (see docs/routes.md)
    writes: bool = False
    #: for shadowing a write: where the translator sends it instead (e.g. `dry-run`)
    shadow_target: str | None = None
    line: int | None = field(default=None, compare=False, repr=False)
    source: str | None = field(default=None, compare=False, repr=False)
    #: the translator found for this key when the route was checked against the translators
    #: loaded (`check_translators`): the one whose `operation:` lists the key, when none is
    #: named after it (a mapping serving a SOAP 1.1 and a 1.2 port is named after the first)
    found: str | None = field(default=None, compare=False, repr=False)

    @property
    def translator_name(self) -> str:
        """The translator this route sends requests to: the one it names, else the one found
        for its key at load, else the one named after its key."""
        return self.translator or self.found or default_translator(self.key)

    @property
    def service(self) -> str:
        return self.key.partition(" ")[0]

    @property
    def operation(self) -> str:
        return self.key.partition(" ")[2]

    @property
    def uses_translator(self) -> bool:
        """True when some requests may reach the translator (every mode but legacy)."""
        return self.mode != "legacy"

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON (the admin endpoint) and tables (`turnout routes list`)."""
        return {
            "operation": self.key, "mode": self.mode, "percent": self.percent,
            "translator": self.translator_name if self.uses_translator else None,
            "timeout": self.timeout, "on_error": self.on_error, "writes": self.writes,
            "shadow_target": self.shadow_target,
        }

    def describe(self) -> str:
        """A short summary for logs: `canary 10%`, `translator (on_error fault, writes)`."""
        text = f"canary {_pct(self.percent)}" if self.mode == "canary" else self.mode
        extras = []
        if self.translator:
            extras.append(f"via {self.translator}")
        if self.mode in ("translator", "canary"):
            extras.append(f"on_error {self.on_error}")
        if self.timeout != DEFAULT_TIMEOUT:
            extras.append(f"timeout {self.timeout:g}s")
        if self.writes:
            extras.append("writes")
        if self.shadow_target:
            extras.append(f"shadow_target {self.shadow_target}")
        return f"{text} ({', '.join(extras)})" if extras else text


def _pct(percent: float | None) -> str:
    return "?%" if percent is None else f"{percent:g}%"
