"""`turnout audit who-accessed|by|prune`: read and prune the access audit trail."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table
from rich.text import Text

from ..audit import (
    IdentifierFinder,
    Matches,
    by_subject,
    day_files,
    kinds_of,
    load_key,
    prune,
    search_terms,
    who_accessed,
)
from ..config import ConfigError, load_proxy_config
from ..recording import parse_age
from ._render import console, errors, fail, fail_config, shown

if TYPE_CHECKING:
    from ..config import AuditSettings

_CONFIG = click.option(
    "-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    default=Path("turnout.yaml"), show_default=True, help="The turnout.yaml with the audit: section.",
)
_SINCE = click.option("--since", help="Only this recent: an age such as 12h, 7d, 6w.")
_JSON = click.option("--json", "as_json", is_flag=True, help="The matching lines as JSON, one a line.")


@click.group()
def audit() -> None:
    """Who accessed whom: read and prune the access audit trail (turnout.yaml's audit: section)."""


@audit.command("who-accessed")
@click.argument("value")
@click.option("--kind", help="What VALUE is: pncId, name, surname, registrationMark, crimeReference, "
                             "postcode, or a kind of your audit.identifiers. Default: every plain kind.")
@_CONFIG
@_SINCE
@_JSON
def who_accessed_(value: str, kind: str | None, config_path: Path, since: str | None, as_json: bool) -> None:
    """Every request that named VALUE (hashed with the audit key, never stored): time, officer,
    operation, route, outcome, request id.

    VALUE `-` reads it from standard input (it then stays out of your shell history). A name is
    its parts in order, separated by commas: `--kind name "Smith, John, 15/01/1979"`; enquiries
    that gave only some of them (the surname alone, surname and date of birth) are listed too.
    """
    settings, source = _settings(config_path)
    if value == "-":
        value = sys.stdin.readline().rstrip("\r\n")
    try:
        key = load_key(settings, source)
        kinds = kinds_of(IdentifierFinder(settings, key))
    except ConfigError as exc:
        fail_config(exc)
    try:
        terms = search_terms(key, value, kinds, kind)
    except ValueError as exc:
        fail(str(exc))
    found = who_accessed(settings.dir, terms, _since(since))
    _show(found, settings.dir, as_json, matched=True,
          title=f"accesses to that {kind or 'value'}" + (f" in the last {since}" if since else ""))


@audit.command("by")
@click.argument("officer")
@_CONFIG
@_SINCE
@_JSON
def by_(officer: str, config_path: Path, since: str | None, as_json: bool) -> None:
    """Every request made by OFFICER (their id as the request gave it, verified or not)."""
    settings, _ = _settings(config_path)
    found = by_subject(settings.dir, officer, _since(since))
    _show(found, settings.dir, as_json, matched=False,
          title=f"requests by {officer}" + (f" in the last {since}" if since else ""))


@audit.command("prune")
@click.option("--older-than", "age", help="An age: 400d, 57w... Default: audit.retention_days.")
@_CONFIG
@click.option("--dry-run", is_flag=True, help="List what would go; delete nothing.")
def prune_(age: str | None, config_path: Path, dry_run: bool) -> None:
    """Delete the audit trail's days older than an age (whole UTC days: a day goes once its end
    is that old)."""
    settings, _ = _settings(config_path)
    if age is None:
        if settings.retention_days is None:
            fail("give --older-than AGE (the config has no audit.retention_days)")
        age = f"{settings.retention_days}d"
    try:
        older_than = parse_age(age)
    except ValueError as exc:
        fail(str(exc))
    removed = prune(settings.dir, older_than, dry_run=dry_run)
    for path in removed:
        console.print(Text(f"{'would delete' if dry_run else 'deleted'} {path.name}"))
    console.print(f"{'would delete' if dry_run else 'deleted'} {len(removed)} day files older "
                  f"than {age} in {settings.dir}")


def _settings(config_path: Path) -> tuple[AuditSettings, Path]:
    try:
        config = load_proxy_config(config_path)
    except ConfigError as exc:
        fail_config(exc)
    if config.audit is None:
        fail(f"{shown(config_path)} has no audit: section: the audit trail is off")
    if not config.audit.dir.is_dir():
        fail(f"{config.audit.dir}: no audit trail there yet (the proxy creates it when it starts)")
    return config.audit, config_path


def _since(age: str | None) -> datetime | None:
    if age is None:
        return None
    try:
        return datetime.now(UTC) - parse_age(age)
    except ValueError as exc:
        fail(str(exc))


def _show(found: Matches, directory: Path, as_json: bool, matched: bool, title: str) -> None:
    if as_json:
        for access in found.accesses:
            data = dict(access.line)
            if matched:
                data["matched"] = access.matched
            click.echo(json.dumps(data, separators=(",", ":")))
    else:
        table = Table(title=title)
        columns = ["time (UTC)", "officer", "operation", "route", "outcome", "request id"]
        for column in columns + (["matched"] if matched else []):
            table.add_column(column, no_wrap=column != "matched",
                             min_width={"matched": 12, "request id": 36}.get(column))
        for access in found.accesses:
            line = access.line
            officer = str(line.get("subject") or "-") + (" ✓" if line.get("subject_verified") else "")
            route = str(line.get("route") or "-")
            if line.get("answered_by") and line.get("answered_by") != route:
                route += f"→{line['answered_by']}"
            outcome = str(line.get("outcome") or "-")
            if line.get("status") is not None:
                outcome += f" {line['status']}"
            cells = [
                access.time.strftime("%Y-%m-%d %H:%M:%S"), officer,
                str(line.get("operation") or line.get("service") or "-"), route,
                outcome,
                str(line.get("request_id") or "-"),
            ]
            if matched:
                cells.append(access.matched)
            table.add_row(*(Text(cell) for cell in cells))
        table.caption = f"{len(found.accesses)} of {found.lines} lines in {len(day_files(directory))} day files"
        if any(access.line.get("subject_verified") for access in found.accesses):
            table.caption += "; ✓ identity verified, else as the request claimed it"
        console.print(table)
    if found.skipped:
        errors.print(Text(f"{found.skipped} lines could not be read and were skipped "
                          "(a line cut off by a power cut, or another format)"), highlight=False)
