"""`turnout routes list|set|check`: the route table, as a running proxy sees it or as filed.

`set` and `check` make the checks the running proxy makes, with the translators on disk, and
then (when `admin.port` says where the proxy's admin endpoint is) wait until the proxy reports
the change in force or its refusal: an exit status of 0 means the proxy serves it.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..config import ConfigError, ProxyConfig, load_proxy_config
from ..routing import Route, WriteRollbackRefused, set_route
from ..scaffold import check_translators
from ..setup import check_routes, load_setup, load_translators_of, readiness_of
from ._render import console, errors, fail
from ._translators import render_check

_CONFIG = click.option(
    "-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    default=Path("turnout.yaml"), show_default=True, help="The turnout.yaml holding the routes.",
)


@click.group()
def routes() -> None:
    """Show, change and check the route table (which path each operation takes)."""


@routes.command("list")
@_CONFIG
@click.option("--admin", help="Admin URL of the running proxy (default: from the config's admin: section).")
def list_(config_path: Path, admin: str | None) -> None:
    """The route table as the running proxy sees it (else as the file says)."""
    try:
        config = load_proxy_config(config_path)
    except ConfigError as exc:
        fail(str(exc))
    url = admin or _admin_url(config)
    doc = _fetch_routes(url) if url is not None else None
    if doc is not None and isinstance(doc.get("routes"), list):
        _render(list(doc["routes"]), f"routes in force at the running proxy ({url}, table "
                                     f"version {doc.get('version', '?')})")
        if doc.get("refused"):
            errors.print(f"[yellow]the proxy refused the last change to its files:[/] "
                         f"{_refusal_text(doc['refused'])}", highlight=False)
        return
    if url is not None:
        errors.print(f"[yellow]no running proxy answered at {url}; showing the file[/]")
    try:
        setup = load_setup(config)
    except ConfigError as exc:
        fail(str(exc))
    _render([r.as_dict() for r in setup.routes], f"routes in {config_path} (unlisted operations: legacy)")


_WAIT = click.option(
    "--wait", type=click.FloatRange(0, 600), default=5.0, show_default=True,
    help="Seconds to wait for the running proxy (its admin endpoint, admin.port) to put the "
         "change in force or refuse it; 0: do not ask it.",
)


@routes.command("set")
@click.argument("operation")
@click.argument("mode", type=click.Choice(["legacy", "translator", "shadow", "canary"]))
@click.option("--percent", type=click.FloatRange(0, 100), help="Share of callers for canary.")
@click.option("--force", is_flag=True,
              help="Switch to translator although the readiness gate says no, or move a write "
                   "on its translator back to legacy.")
@click.option("--reason", help="Why (required with --force; kept in the route's history in the file).")
@_CONFIG
@_WAIT
def set_(operation: str, mode: str, percent: float | None, force: bool, reason: str | None,
         config_path: Path, wait: float) -> None:
    """Switch OPERATION (e.g. '/pnc VehicleEnquiry') to MODE. A running proxy picks it up live.

    Moving to `translator` needs evidence: the operation's recorded shadow parity must reach
    `readiness.min_parity` over at least `readiness.min_samples` shadowed requests. Moving a
    write from its translator (or a canary) back to `legacy` needs a decision: the modern
    service has become its system of record. `--force --reason "..."` overrides either; the
    reason is kept in the route's `history:` in the file. The file keeps its comments; a change
    that would not validate is refused, file untouched, except that moving a read back to
    `legacy` is never refused for problems elsewhere in the file (they are shown).

    With the proxy's admin endpoint configured, waits (--wait) until the running proxy has the
    change in force, or has refused it: then prints why, and exits 1.
    """
    if force and not (reason and reason.strip()):
        fail("--force needs --reason \"why\": it is kept in the route file's history")
    rollback = mode == "legacy"
    problems: list[ConfigError] = []  # elsewhere in the file: not a reason to refuse a rollback
    history: dict[str, object] | None = None
    config: ProxyConfig | None = None
    translators = None
    try:
        config = load_proxy_config(config_path)
        translators = load_translators_of(config)
    except ConfigError as exc:
        if not rollback:
            fail(str(exc))
        problems.append(exc)
    try:
        if mode == "translator":
            assert config is not None
            readiness = readiness_of(config, [operation])[operation]
            if not readiness.ready and not force:
                fail(f"{operation} is not ready for translator: {readiness.describe()}.\n"
                     f"  missing: {'; '.join(readiness.missing)}"
                     + "".join(f"\n  differs at {p} ({n}x)" for p, n in readiness.top_paths)
                     + "\n  shadow it longer, or override with --force --reason \"...\"", code=1)
            if not readiness.ready:
                history = {
                    "at": _now(), "mode": mode, "reason": reason,
                    "parity": "none" if readiness.parity is None else f"{readiness.parity:.1f}%",
                    "samples": readiness.samples,
                }
        validate = None
        if config is not None and translators is not None:
            checked_config, checked = config, translators
            validate = lambda t: check_routes(t, checked, checked_config)  # noqa: E731
        try:
            table = set_route(config_path, operation, mode, percent, history=history,
                              validate=validate, problems=problems if rollback else None)
        except WriteRollbackRefused as exc:
            if not force:
                fail(f"{exc}\n  if that is decided, say why: --force --reason \"...\" "
                     "(kept in the route's history)", code=1)
            history = {"at": _now(), "mode": mode, "reason": reason}
            table = set_route(config_path, operation, mode, percent, history=history,
                              validate=validate, problems=problems, allow_write_rollback=True)
    except ConfigError as exc:
        fail(str(exc))
    route = table.route_for(operation)
    if history and mode == "legacy":
        note = " [yellow](a write moved back to the bus by decision; reason kept in the file)[/]"
    elif history:
        note = " [yellow](forced past the readiness gate; reason kept in the file)[/]"
    else:
        note = ""
    console.print(f"{route.key}: {route.describe()}  (written to {config_path}){note}")
    for problem in problems:
        errors.print(f"[yellow]elsewhere in the configuration, not in force:[/] {problem}",
                     highlight=False)
    admin = _admin_url(config) if config is not None else None
    if admin is not None and wait > 0:
        _await_route(admin, config_path, route.as_dict(), wait)


@routes.command("check")
@_CONFIG
@_WAIT
def check(config_path: Path, wait: float) -> None:
    """Validate the config, its routes and its translators without running anything.

    The same checks the running proxy makes on a reload, with the translators on disk. With the
    proxy's admin endpoint configured, also waits (--wait) until the running proxy serves what
    the files say, or has refused them: then prints why, and exits 1.
    """
    try:
        config = load_proxy_config(config_path)
        setup = load_setup(config)
    except ConfigError as exc:
        fail(str(exc), code=1)
    _check_used_translators(config, setup.routes)
    console.print(
        f"[green]ok[/]: {config_path}: {len(setup.routes)} routes, {len(setup.translators)} translators"
    )
    admin = _admin_url(config)
    if admin is not None and wait > 0:
        expected = {r.key: r.as_dict() for r in setup.routes}
        versions = {name: getattr(t, "version", None) for name, t in setup.translators.items()}
        _await_table(admin, config_path, expected, versions, wait)


def _check_used_translators(config: ProxyConfig, table: Iterable[Route]) -> None:
    """`turnout translators check` on the translators the routes send requests to: a wrong
    XPath or namespace fails here, before any traffic. Exits 1 on a finding."""
    used = sorted({route.translator_name for route in table if route.uses_translator})
    if not used or config.translators_dir is None:
        return
    try:
        report = check_translators(config.translators_dir, names=used)
    except ConfigError as exc:
        fail(str(exc), code=1)
    render_check(report, f"translators the routes use ({config.translators_dir})")
    if not report.ok:
        raise click.exceptions.Exit(1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _file_sha256(path: Path) -> str | None:
    """The hash the proxy reports as `source_sha256` once it has read this content."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _fetch_routes(admin: str) -> dict[str, Any] | None:
    """The running proxy's `GET /routes`, or None when nothing answers there."""
    try:
        with urllib.request.urlopen(f"{admin.rstrip('/')}/routes", timeout=2) as reply:
            data = json.load(reply)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _serves_another_file(doc: dict[str, Any], config_path: Path, admin: str) -> bool:
    """True (and said) when the proxy answering at `admin` watches another route file."""
    source = doc.get("source")
    if not source or Path(str(source)).resolve() == config_path.resolve():
        return False
    console.print(f"the proxy at {admin} serves another file ({source}): nothing to wait for")
    return True


def _refusal_text(refused: dict[str, Any]) -> str:
    text = str(ConfigError(str(refused.get("message")), file=refused.get("file"),
                           line=refused.get("line"), field=refused.get("field")))
    applied = refused.get("applied") or []
    if applied:
        text += "\n  applied all the same: " + "; ".join(applied)
    return text


def _live_route(doc: dict[str, Any], operation: str) -> dict[str, Any]:
    for row in doc.get("routes") or []:
        if row.get("operation") == operation:
            return dict(row)
    return Route(operation).as_dict()  # unlisted: legacy


def _describe_row(row: dict[str, Any]) -> str:
    if row.get("mode") == "canary" and row.get("percent") is not None:
        return f"canary {row['percent']:g}%"
    return str(row.get("mode"))


def _await_route(admin: str, config_path: Path, expected: dict[str, Any], wait: float) -> None:
    """Wait until the running proxy serves `expected` for its operation, or refused the file."""
    operation = str(expected["operation"])
    digest = _file_sha256(config_path)
    deadline = time.monotonic() + wait
    doc = _fetch_routes(admin)
    if doc is None:
        console.print(f"no running proxy answered at {admin}: nothing to wait for")
        return
    if _serves_another_file(doc, config_path, admin):
        return
    while True:
        live = _live_route(doc, operation)
        refused = doc.get("refused")
        looked_at = digest is not None and doc.get("source_sha256") == digest
        if live == expected:
            console.print(f"[green]in force[/] at the running proxy ({admin}, table version "
                          f"{doc.get('version')})")
            if refused and looked_at:
                errors.print(f"[yellow]the proxy refused the rest of the file:[/] "
                             f"{_refusal_text(refused)}", highlight=False)
            return
        if looked_at and refused:
            fail(f"the running proxy refused the change; it still serves {operation} as "
                 f"{_describe_row(live)}:\n  {_refusal_text(refused)}", code=1)
        if looked_at:
            fail(f"the running proxy read the file but serves {operation} as "
                 f"{_describe_row(live)}, not {_describe_row(expected)}", code=1)
        if time.monotonic() >= deadline:
            why = f"\n  its last refusal: {_refusal_text(refused)}" if refused else ""
            fail(f"the running proxy ({admin}) did not put it in force within {wait:g} s; it "
                 f"serves {operation} as {_describe_row(live)}{why}", code=1)
        time.sleep(0.1)
        doc = _fetch_routes(admin) or doc


def _await_table(admin: str, config_path: Path, expected: dict[str, dict[str, Any]],
                 versions: dict[str, Any], wait: float) -> None:
    """Wait until the running proxy serves the routes and translators on disk, or refused them."""
    digest = _file_sha256(config_path)
    deadline = time.monotonic() + wait
    doc = _fetch_routes(admin)
    if doc is None:
        console.print(f"no running proxy answered at {admin}: checked the files only")
        return
    if _serves_another_file(doc, config_path, admin):
        return
    while True:
        live = {str(row.get("operation")): dict(row) for row in doc.get("routes") or []}
        refused = doc.get("refused")
        looked_at = digest is not None and doc.get("source_sha256") == digest
        if live == expected and doc.get("translators") == versions:
            console.print(f"[green]in force[/] at the running proxy ({admin}, table version "
                          f"{doc.get('version')})")
            return
        if looked_at and refused:
            fail(f"the running proxy refused these files and serves others:\n  "
                 f"{_refusal_text(refused)}", code=1)
        if time.monotonic() >= deadline:
            differences = [
                f"{op}: the proxy serves {_describe_row(live[op]) if op in live else '(unlisted)'},"
                f" the file says {_describe_row(expected[op]) if op in expected else '(unlisted)'}"
                for op in sorted({*live, *expected}) if live.get(op) != expected.get(op)
            ]
            served = doc.get("translators") or {}
            differences += [
                f"translator {name}: the proxy has {served.get(name) or '(none)'}, the disk "
                f"{versions.get(name) or '(none)'}"
                for name in sorted({*served, *versions}) if served.get(name) != versions.get(name)
            ]
            why = f"\n  its last refusal: {_refusal_text(refused)}" if refused else ""
            fail(f"the running proxy ({admin}) does not serve what the files say, after "
                 f"{wait:g} s:\n  " + "\n  ".join(differences) + why, code=1)
        time.sleep(0.1)
        doc = _fetch_routes(admin) or doc


def _admin_url(config: ProxyConfig) -> str | None:
    if config.admin_port:  # 0 means "any free port": nothing to ask
        return f"http://{config.admin_host}:{config.admin_port}"
    return None


def running_routes(config: ProxyConfig, admin: str | None = None) -> list[dict[str, Any]] | None:
    """The route table the running proxy uses (from its admin endpoint), or None if none answers."""
    admin = admin or _admin_url(config)
    if admin is None:
        return None
    try:
        with urllib.request.urlopen(f"{admin.rstrip('/')}/routes", timeout=3) as reply:
            return list(json.load(reply)["routes"])
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        errors.print(f"[yellow]no running proxy answered at {admin} ({exc}); showing the file[/]")
        return None


def _render(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    for column in ("operation", "mode", "share", "translator", "timeout", "on error", "writes"):
        table.add_column(column, no_wrap=column == "operation")
    for row in rows:
        share = f"{row['percent']:g}%" if row.get("percent") is not None else ""
        table.add_row(
            row["operation"], row["mode"], share, row.get("translator") or "",
            f"{row['timeout']:g}s" if row.get("translator") else "", row["on_error"] if row.get("translator") else "",
            "yes" if row.get("writes") else "",
        )
    console.print(table)
