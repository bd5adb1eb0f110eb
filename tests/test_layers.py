"""The layer table of docs/architecture.md, checked: an import that crosses it fails here.

Every module under turnout/ is read with `ast` (never imported), and every import in it counts,
at any depth: inside functions, under `if TYPE_CHECKING:`, relative ones resolved against the
module's own package. Each is mapped to the package it lands in (`turnout/soap/_parser.py` is in
`soap`; `turnout/setup.py` is its own row, `setup`), and four rules are checked:

- a package imports only the packages its row in `ALLOWED` names (and itself, and the bare
  `turnout` package, which holds only the version);
- nobody imports another package's private module (`turnout.recording._store`): a package's
  API is what its `__init__` exports; the demo and the CLI are held to it like everyone else;
- only turnout/proxy imports mitmproxy (and only turnout/wsdl and the demo's client import zeep);
- only turnout/cli calls print(): layers return values and raise errors, the CLI renders them.

`ALLOWED` is the table; docs/architecture.md shows it and points here. Where today's code still
departs from it in a package being rewritten, the departure is listed in `KNOWN_DEPARTURES`
with why, and the test fails when a listed departure is gone, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TURNOUT = ROOT / "turnout"

_RUNTIME_BELOW_GATEWAY = frozenset({
    "soap", "config", "recording", "routing", "translators", "audit", "transport", "compare",
    "evidence", "setup",
})

#: package -> the packages it may import. Lower rows never import higher ones. A module at the
#: top of turnout/ (`evidence.py`, `setup.py`, `pytest_plugin.py`) is a row of its own.
ALLOWED: dict[str, frozenset[str]] = {
    "soap": frozenset(),  # envelopes, the hardened parser, naming, faults, WS-Security: lxml only
    "wsdl": frozenset({"soap"}),  # WSDL/XSD reading; zeep loads the same files as a check
    "config": frozenset({"soap"}),  # every file people edit; the one atomic writer
    "transport": frozenset({"soap", "config"}),  # the one HTTP client seam
    "recording": frozenset({"soap", "config", "transport"}),  # replay sends through transport
    "routing": frozenset({"soap", "config"}),
    "translators": frozenset({"soap", "config"}),
    "audit": frozenset({"soap", "config"}),
    "compare": frozenset({"soap", "config", "recording", "translators", "transport"}),
    "evidence": frozenset({"soap", "config", "recording", "translators", "compare"}),
    "setup": frozenset({"soap", "config", "routing", "translators", "compare", "evidence"}),
    "scaffold": frozenset({"soap", "wsdl", "config", "translators"}),  # tooling, never runtime
    "pytest_plugin": frozenset({"soap", "config", "recording", "translators", "compare"}),
    "observe": frozenset(),  # `turnout top`'s arithmetic over scraped /metrics: plain numbers
    "gateway": _RUNTIME_BELOW_GATEWAY,  # no wsdl, no scaffold: tooling stays out of the runtime
    "proxy": _RUNTIME_BELOW_GATEWAY | {"gateway"},
    # tooling: recordings served as a virtual bus and services; names requests as the gateway does
    "mock": frozenset({"soap", "config", "recording", "compare", "gateway"}),
    "cli": frozenset({
        "soap", "wsdl", "config", "recording", "routing", "translators", "audit", "transport",
        "compare", "evidence", "setup", "scaffold", "pytest_plugin", "gateway", "proxy", "demo",
        "observe", "mock",
    }),
    # the demo uses the others only as a user's code would: public APIs (checked below), no CLI
    "demo": frozenset({
        "soap", "wsdl", "config", "recording", "routing", "translators", "audit", "transport",
        "compare", "evidence", "setup", "scaffold", "gateway", "proxy",
    }),
}

#: third-party packages only some rows may import
THIRD_PARTY: dict[str, frozenset[str]] = {
    "mitmproxy": frozenset({"proxy"}),
    "zeep": frozenset({"wsdl", "demo"}),  # wsdl's check, and the demo's scenario, a zeep client
}

#: the one package that prints
PRINTS = "cli"

#: (file or folder/, imported module) where today's code departs from the table, each with why.
#: Only for code being rewritten now; fix the imports, then delete the entry here.
KNOWN_DEPARTURES: frozenset[tuple[str, str]] = frozenset({
    # turnout/proxy is being rewritten onto turnout/gateway; both hosts' TLS set-up
    # (_tls.py, _fast_tls.py) take CIPHERS_TLS12 from config's private module. Fix: import it
    # from turnout.config, which exports it now.
    ("turnout/proxy/", "turnout.config._tls"),
    # config validates the redaction section at load by building a Redactor (load_key=False),
    # so a bad XPath fails with file, line and field; that reaches up into recording, which
    # may itself import config. Fix (in recording, being rewritten now): the rules' parsing
    # and checking as plain data in config, the Redactor built from them in recording.
    ("turnout/config/_proxy.py", "turnout.recording"),
})


def package_of(relative: Path) -> str:
    """`turnout/soap/_parser.py` -> `soap`; `turnout/setup.py` -> `setup`; `turnout/__init__.py`
    -> `turnout`."""
    parts = relative.with_suffix("").parts
    if len(parts) == 2:
        return "turnout" if parts[1] == "__init__" else parts[1]
    return parts[1]


def _module_package(relative: Path) -> list[str]:
    """The dotted package a module's relative imports start from."""
    parts = list(relative.with_suffix("").parts)
    return parts[:-1]


def imported(relative: Path, tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module (or module attribute) the source imports, absolute, with its line."""
    base = _module_package(relative)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "__future__":
                continue
            for alias in node.names:
                yield node.lineno, module if alias.name == "*" else f"{module}.{alias.name}"


def _target_package(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "turnout":
        return None
    if len(parts) == 1 or parts[1] == "__version__":
        return "turnout"
    return parts[1]


def _private_part(name: str) -> str | None:
    """The first private module or attribute of `turnout.pkg._x...`, or None."""
    parts = name.split(".")
    for index, part in enumerate(parts[2:], start=2):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[: index + 1])
    return None


def violations(relative: Path, source: str) -> list[tuple[str, str, str]]:
    """(file, imported module or call, message) for each rule the source breaks, once per line
    (`from ..x import a, b` is one violation, not two)."""
    where = relative.as_posix()
    package = package_of(relative)
    tree = ast.parse(source, filename=where)
    found: list[tuple[str, str, str]] = []
    for line, name in imported(relative, tree):
        target = _target_package(name)
        top = name.split(".")[0]
        if target is None:
            allowed_here = THIRD_PARTY.get(top)
            if allowed_here is not None and package not in allowed_here:
                who = ", ".join(f"turnout/{p}" for p in sorted(allowed_here))
                found.append((where, top, f"{where}:{line} imports {top} (only {who} may)"))
            continue
        if target in (package, "turnout"):
            continue
        private = _private_part(name)
        if private is not None:
            found.append((where, private, f"{where}:{line} imports {private}, private to "
                          f"turnout/{target} (import from turnout.{target})"))
        allowed = ALLOWED.get(package, frozenset())
        if target not in allowed:
            may = ", ".join(sorted(allowed)) or "nothing else in turnout"
            found.append((where, f"turnout.{target}", f"{where}:{line} imports turnout.{target} "
                          f"({package} may import only {may})"))
    found = list(dict.fromkeys(found))
    if package != PRINTS:
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print"):
                found.append((where, "print()", f"{where}:{node.lineno} calls print() (only "
                              f"turnout/{PRINTS} prints; return a value or raise)"))
    return found


def _modules() -> list[Path]:
    return sorted(p.relative_to(ROOT) for p in TURNOUT.rglob("*.py"))


def _all_violations() -> list[tuple[str, str, str]]:
    found = []
    for relative in _modules():
        found.extend(violations(relative, (ROOT / relative).read_text(encoding="utf-8")))
    return found


def test_every_package_is_a_row_of_the_table() -> None:
    packages = {package_of(p) for p in _modules()} - {"turnout"}
    assert packages <= set(ALLOWED), f"add a row to ALLOWED for: {sorted(packages - set(ALLOWED))}"


def _known(file: str, what: str) -> tuple[str, str] | None:
    """The KNOWN_DEPARTURES entry that covers this violation, if any."""
    for where, imported_module in KNOWN_DEPARTURES:
        if what == imported_module and (file == where or (where.endswith("/") and file.startswith(where))):
            return where, imported_module
    return None


def test_no_import_crosses_the_layer_table() -> None:
    found = _all_violations()
    new = [message for file, what, message in found if _known(file, what) is None]
    assert not new, "imports that cross docs/architecture.md's table:\n" + "\n".join(new)


def test_every_known_departure_still_departs() -> None:
    seen = {_known(file, what) for file, what, _ in _all_violations()}
    gone = sorted(KNOWN_DEPARTURES - seen)
    assert not gone, f"fixed, so delete from KNOWN_DEPARTURES: {gone}"


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        pytest.param(
            "turnout/soap/_x.py", "from ..routing import RouteTable\n",
            ["turnout/soap/_x.py:1 imports turnout.routing (soap may import only nothing else "
             "in turnout)"],
            id="upward-relative",
        ),
        pytest.param(
            "turnout/translators/_x.py",
            "def f():\n    from turnout.compare import diff\n",
            ["turnout/translators/_x.py:2 imports turnout.compare (translators may import only "
             "config, soap)"],
            id="upward-inside-a-function",
        ),
        pytest.param(
            "turnout/config/_x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import recording\n",
            ["turnout/config/_x.py:3 imports turnout.recording (config may import only soap)"],
            id="upward-under-type-checking",
        ),
        pytest.param(
            "turnout/demo/bus/_x.py", "from ...recording._store import RecordingStore\n",
            ["turnout/demo/bus/_x.py:1 imports turnout.recording._store, private to "
             "turnout/recording (import from turnout.recording)"],
            id="private-module-from-the-demo",
        ),
        pytest.param(
            "turnout/cli/_x.py", "import turnout.scaffold._write as w\n",
            ["turnout/cli/_x.py:1 imports turnout.scaffold._write, private to turnout/scaffold "
             "(import from turnout.scaffold)"],
            id="private-module-from-the-cli",
        ),
        pytest.param(
            "turnout/gateway/_x.py", "from mitmproxy import http\n",
            ["turnout/gateway/_x.py:1 imports mitmproxy (only turnout/proxy may)"],
            id="mitmproxy-below-the-hosts",
        ),
        pytest.param(
            "turnout/recording/_x.py", "def f(x):\n    print(x)\n",
            ["turnout/recording/_x.py:2 calls print() (only turnout/cli prints; return a value "
             "or raise)"],
            id="print-outside-the-cli",
        ),
        pytest.param(
            "turnout/gateway/_x.py", "from ..scaffold import scaffold\n",
            ["turnout/gateway/_x.py:1 imports turnout.scaffold (gateway may import only audit, "
             "compare, config, evidence, recording, routing, setup, soap, translators, "
             "transport)"],
            id="tooling-in-the-runtime",
        ),
        pytest.param(
            "turnout/soap/_x.py", "from ..wsdl import Wsdl, read_wsdl\n",
            ["turnout/soap/_x.py:1 imports turnout.wsdl (soap may import only nothing else in "
             "turnout)"],
            id="one-statement-one-violation",
        ),
        pytest.param(
            "turnout/proxy/_x.py",
            "from mitmproxy import http\nfrom ..gateway import Gateway\nfrom . import _state\n",
            [],
            id="allowed-imports-pass",
        ),
        pytest.param(
            "turnout/cli/_x.py", "import turnout\nprint(turnout.__version__)\n", [],
            id="the-cli-prints",
        ),
    ],
)
def test_each_rule_fails_a_module_that_breaks_it(path: str, source: str, expected: list[str]) -> None:
    assert [message for _, _, message in violations(Path(path), source)] == expected
