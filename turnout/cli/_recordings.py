"""`turnout recordings list|show|scan|prune|export|import`: read what the proxy recorded (HAR
export and import are in `_recordings_har`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from lxml import etree
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..recording import (
    PATTERNS,
    Exchange,
    RecordingError,
    RecordingStore,
    is_exchange_id,
    parse_age,
    prune,
    scan,
)
from ..soap import SoapError, parse_xml
from ._recordings_har import export_, import_
from ._render import console, errors, fail, render_summary, shown

_DIR = click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("recordings"),
    show_default=True, help="The recording directory.",
)


@click.group()
def recordings() -> None:
    """Read recorded exchanges; export them to HAR, import HAR files."""


@recordings.command("list")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--operation", "-o", help="Only this operation, e.g. '/pnc VehicleEnquiry'.")
@click.option("--summary", is_flag=True, help="One row per operation instead of one per exchange.")
def list_(directory: Path, operation: str | None, summary: bool) -> None:
    """List the exchanges recorded under DIRECTORY (with --operation, only that operation's,
    in either view)."""
    _exists(directory)
    store = RecordingStore(directory)
    if summary:
        result = store.summary()
        if operation:
            result.operations = [row for row in result.operations if row.key == operation]
        render_summary(result, f"recordings of {operation} in {directory}" if operation
                       else f"recordings in {directory}")
        return
    table = Table(title=f"recordings in {directory}")
    for column in ("id", "operation", "route", "outcome", "status", "ms", "notes"):
        table.add_column(
            column, justify="right" if column in ("status", "ms") else "left",
            no_wrap=column in ("id", "operation"),
        )
    shown_rows = 0
    try:
        for exchange in store.iter_exchanges():
            key = exchange.operation.key if exchange.operation else "-"
            if operation and key != operation:
                continue
            shown_rows += 1
            table.add_row(*(Text(cell) for cell in (
                exchange.id, key, exchange.route, exchange.outcome,
                str(exchange.response.status) if exchange.response else "-",
                f"{exchange.timings.get('total', 0):.1f}", ", ".join(exchange.notes),
            )))
    except RecordingError as exc:
        fail(str(exc))
    table.caption = f"{shown_rows} exchanges"
    console.print(table)


def _exists(directory: Path) -> None:
    if not directory.is_dir():
        fail(f"{shown(directory)}: no such recordings directory")


@recordings.command("show")
@click.argument("exchange_id")
@_DIR
@click.option("--raw", is_flag=True, help="Bodies exactly as recorded, not indented for reading.")
def show(exchange_id: str, directory: Path, raw: bool) -> None:
    """Show one exchange by its id (or a unique prefix of it): the request and the bus's
    answer, then (translator, shadow, canary) the JSON call, the JSON reply, the translated
    envelope and the diff."""
    _exists(directory)
    try:
        exchange = RecordingStore(directory).get(exchange_id)
    except RecordingError as exc:
        fail(str(exc) if directory.is_absolute() else
             f"{exc} ({directory} is relative to {Path.cwd()})")
    render_exchange(exchange, pretty=not raw)


def render_exchange(exchange: Exchange, pretty: bool = True) -> None:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    translation = exchange.translation or {}

    def row(name: str, value: str) -> None:
        head.add_row(name, Text(value))

    row("id", exchange.id)
    row("operation", exchange.operation.key if exchange.operation else "-")
    row("started", exchange.started_at.isoformat())
    row("route / outcome", f"{exchange.route} / {exchange.outcome}")
    row("SOAP", f"{exchange.soap_version or '-'}  action: {exchange.action or '-'}")
    row("timings ms", ", ".join(f"{k} {v:.1f}" for k, v in exchange.timings.items()))
    if exchange.notes:
        row("notes", ", ".join(exchange.notes))
    if translation:
        bits = [str(translation.get("translator") or "-")]
        if translation.get("kind"):
            bits.append(str(translation["kind"]))
        if isinstance(translation.get("ms"), (int, float)):
            bits.append(f"{translation['ms']:.1f} ms")
        if translation.get("dry_run"):
            bits.append("dry run")
        row("translator", ", ".join(bits))
        if translation.get("error"):
            row("translator error", str(translation["error"]))
    console.print(head)
    request = exchange.request
    _message(f"request: {request.method} {request.path}", request.headers, request.body,
             exchange.omitted_bodies.get("request"), pretty)
    if exchange.response is not None:
        response = exchange.response
        _message(f"response: {response.status} {response.reason}", response.headers, response.body,
                 exchange.omitted_bodies.get("response"), pretty)
    call = translation.get("call")
    if isinstance(call, dict):
        target = " ".join(str(call.get(k)) for k in ("method", "service", "path") if call.get(k))
        console.rule(Text(f"JSON call: {target}"))
        if call.get("query"):
            _json("query", call["query"])
        if call.get("body") is not None:
            _json("body", call["body"])
    reply = translation.get("reply")
    if isinstance(reply, dict):
        console.rule(Text(f"JSON reply: {reply.get('status', '-')}"))
        if reply.get("body") is not None:
            _json("body", reply["body"])
    if exchange.translated is not None:
        translated = exchange.translated
        _message(f"translated envelope: {translated.status} {translated.reason}".rstrip(),
                 translated.headers, translated.body, exchange.omitted_bodies.get("translated"),
                 pretty)
    if "diff" in translation or "equal" in translation:
        _diff(translation)


def _json(label: str, value: object) -> None:
    console.print(Text(f"{label}:", style="cyan"))
    console.print(Syntax(json.dumps(value, indent=2, ensure_ascii=False), "json",
                         word_wrap=True))


def _diff(translation: Mapping[str, Any]) -> None:
    differences = translation.get("diff") or []
    equal = translation.get("equal")
    console.rule(Text("diff: legacy answer vs translated"))
    if not differences:
        console.print(Text("no differences" if equal is not False else
                           "different (no details recorded)"))
        return
    for entry in differences:
        if not isinstance(entry, dict):
            console.print(Text(str(entry)))
            continue
        line = Text.assemble((str(entry.get("kind", "differs")), "yellow"), " ",
                             str(entry.get("path", "")))
        for side in ("legacy", "new"):
            if side in entry:
                line.append(f"  {side}: {entry[side]!r}")
        for key, value in entry.items():
            if key not in ("kind", "path", "legacy", "new"):
                line.append(f"  {key}: {value}")
        console.print(line)


def _message(
    title: str, headers: list[tuple[str, str]], body: bytes, omitted: object, pretty: bool
) -> None:
    console.rule(Text(title))
    for name, value in headers:
        console.print(Text.assemble((name, "cyan"), ": ", value), highlight=False)
    if omitted is not None:
        console.print(Text.assemble(("body not stored:", "yellow"), " ", str(omitted)))
    elif body:
        text = _indented(body) if pretty else body.decode("utf-8", "replace")
        console.print(Syntax(text, "xml", word_wrap=True))


def _indented(body: bytes) -> str:
    """The body re-indented for reading (display only; the file keeps the original bytes)."""
    try:
        root = parse_xml(body)
    except SoapError:
        return body.decode("utf-8", "replace")
    etree.indent(root)
    return etree.tostring(root, encoding="unicode")


@recordings.command("scan")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--known", "known_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file of raw values that must not appear, one per line.")
@click.option("--demo", is_flag=True,
              help="Look for the demo's seeded people (names, dates of birth, addresses) and "
                   "its identifiers: PNC IDs (98/122459R), officer IDs (PC5518), vehicle "
                   "registrations (TB19 XKF), postcodes (TB9 4ZQ).")
@click.option("--pattern", "patterns", multiple=True, type=click.Choice(sorted(PATTERNS)),
              help="Also look for values of this shape (may give false positives).")
def scan_(directory: Path, known_file: Path | None, demo: bool, patterns: tuple[str, ...]) -> None:
    """Check recordings for raw personal values; exit 1 on any hit.

    Hits name the file, line and kind of value, never the value.
    """
    known: list[str] = []
    if known_file is not None:
        known.extend(line.strip() for line in known_file.read_text(encoding="utf-8").splitlines())
    if demo:
        from ..demo.data import personal_values

        known.extend(personal_values())
        demo_patterns = (name for name in PATTERNS if name.startswith("demo-"))
        patterns = (*patterns, *(name for name in demo_patterns if name not in patterns))
    if not known and not patterns:
        fail("nothing to look for: give --known FILE, --demo or --pattern")
    hits = scan(directory, known, patterns)
    files = sum(1 for p in directory.rglob("*.yaml") if is_exchange_id(p.stem))
    for hit in hits[:50]:
        errors.print(Text.assemble(("raw value:", "red"), " ", str(hit)), highlight=False)
    if len(hits) > 50:
        errors.print(f"... and {len(hits) - 50} more")
    if hits:
        errors.print(f"[bold red]{len(hits)} hits[/] in {files} recordings")
        raise click.exceptions.Exit(1)
    console.print(f"[green]clean[/]: {files} recordings, {len(set(known))} known values"
                  + (f", patterns {', '.join(patterns)}" if patterns else ""))


@recordings.command("prune")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--older-than", "age", required=True,
              help="An age: minutes, hours, days or weeks, e.g. 90m, 12h, 30d, 6w, 1d12h.")
@click.option("--dry-run", is_flag=True, help="List what would go; delete nothing.")
def prune_(directory: Path, age: str, dry_run: bool) -> None:
    """Delete recordings older than an age (retention)."""
    try:
        older_than = parse_age(age)
    except ValueError as exc:
        fail(str(exc))
    removed = prune(directory, older_than, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{verb} {len(removed)} recordings older than {age} in {directory}")


recordings.add_command(export_)
recordings.add_command(import_)
