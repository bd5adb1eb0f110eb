"""`turnout routes list|set|check`: the route table, as a running proxy sees it or as filed."""

from __future__ import annotations

import json
from datetime import datetime, timezone
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..config import ConfigError, ProxyConfig, load_proxy_config
from ..routing import set_route
from ..setup import check_routes, load_setup, load_translators_of, readiness_of
from ._render import console, errors, fail

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
    live = running_routes(config, admin)
    if live is not None:
        _render(live, f"routes in force at the running proxy ({admin or _admin_url(config)})")
        return
    try:
        setup = load_setup(config)
    except ConfigError as exc:
        fail(str(exc))
    _render([r.as_dict() for r in setup.routes], f"routes in {config_path} (unlisted operations: legacy)")


@routes.command("set")
@click.argument("operation")
@click.argument("mode", type=click.Choice(["legacy", "translator", "shadow", "canary"]))
@click.option("--percent", type=click.FloatRange(0, 100), help="Share of callers for canary.")
@click.option("--force", is_flag=True, help="Switch to translator although the readiness gate says no.")
@click.option("--reason", help="Why the gate is overridden (required with --force; kept in the file).")
@_CONFIG
def set_(operation: str, mode: str, percent: float | None, force: bool, reason: str | None,
         config_path: Path) -> None:
    """Switch OPERATION (e.g. '/pnc VehicleEnquiry') to MODE. A running proxy picks it up live.

    Moving to `translator` needs evidence: the operation's recorded shadow parity must reach
    `readiness.min_parity` over at least `readiness.min_samples` shadowed requests. `--force
    --reason "..."` overrides; the reason is kept in the route's `history:` in the file. The
    file keeps its comments; a change that would not validate is refused, file untouched.
    """
    if force and not (reason and reason.strip()):
        fail("--force needs --reason \"why\": it is kept in the route file's history")
    history = None
    try:
        config = load_proxy_config(config_path)
        translators = load_translators_of(config)
        if mode == "translator":
            readiness = readiness_of(config, [operation])[operation]
            if not readiness.ready and not force:
                fail(f"{operation} is not ready for translator: {readiness.describe()}.\n"
                     f"  missing: {'; '.join(readiness.missing)}"
                     + "".join(f"\n  differs at {p} ({n}x)" for p, n in readiness.top_paths)
                     + "\n  shadow it longer, or override with --force --reason \"...\"", code=1)
            if not readiness.ready:
                history = {
                    "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "mode": mode, "reason": reason,
                    "parity": "none" if readiness.parity is None else f"{readiness.parity:.1f}%",
                    "samples": readiness.samples,
                }
        table = set_route(config_path, operation, mode, percent, history=history,
                          validate=lambda t: check_routes(t, translators, config))
    except ConfigError as exc:
        fail(str(exc))
    route = table.route_for(operation)
    forced = " [yellow](forced past the readiness gate; reason kept in the file)[/]" if history else ""
    console.print(f"{route.key}: {route.describe()}  (written to {config_path}){forced}")


@routes.command("check")
@_CONFIG
def check(config_path: Path) -> None:
    """Validate the config, its routes and its translators without running anything."""
    try:
        setup = load_setup(load_proxy_config(config_path))
    except ConfigError as exc:
        fail(str(exc), code=1)
    console.print(
        f"[green]ok[/]: {config_path}: {len(setup.routes)} routes, {len(setup.translators)} translators"
    )


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
