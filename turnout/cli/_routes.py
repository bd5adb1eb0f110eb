"""`turnout routes list|set|check`: the route table, as a running proxy sees it or as filed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..config import ConfigError, load_proxy_config
from ..routing import set_route
from ..setup import check_routes, load_setup, load_translators_of
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
    if admin is None and config.admin_port:
        admin = f"http://{config.admin_host}:{config.admin_port}"
    if admin:
        try:
            with urllib.request.urlopen(f"{admin.rstrip('/')}/routes", timeout=3) as reply:
                doc = json.load(reply)
            _render(doc["routes"], f"routes in force at the running proxy ({admin})")
            return
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            errors.print(f"[yellow]no running proxy answered at {admin} ({exc}); showing the file[/]")
    try:
        setup = load_setup(config)
    except ConfigError as exc:
        fail(str(exc))
    _render([r.as_dict() for r in setup.routes], f"routes in {config_path} (unlisted operations: legacy)")


@routes.command("set")
@click.argument("operation")
@click.argument("mode", type=click.Choice(["legacy", "translator", "shadow", "canary"]))
@click.option("--percent", type=click.FloatRange(0, 100), help="Share of callers for canary.")
@_CONFIG
def set_(operation: str, mode: str, percent: float | None, config_path: Path) -> None:
    """Switch OPERATION (e.g. '/pnc VehicleEnquiry') to MODE. A running proxy picks it up live.

    The file keeps its comments; a change that would not validate is refused and the file is
    left as it was.
    """
    try:
        config = load_proxy_config(config_path)
        translators = load_translators_of(config)
        table = set_route(config_path, operation, mode, percent)
        check_routes(table, translators, config)
    except ConfigError as exc:
        fail(str(exc))
    route = table.route_for(operation)
    console.print(f"{route.key}: {route.describe()}  (written to {config_path})")


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
