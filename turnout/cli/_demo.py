"""`turnout demo`: the legacy bus, modern services, the proxy, and real SOAP traffic through it."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from ._render import console, errors

if TYPE_CHECKING:  # imported when run: _demo_run imports the proxy, which is slow to import
    from ._demo_run import DemoRun, Phase


@click.group(invoke_without_command=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-recordings"),
              show_default=True, help="Where the run's recordings go (a fresh folder per run inside).")
@click.pass_context
def demo(ctx: click.Context, out: Path) -> None:
    """Run the embedded demo end to end (or one of its parts, see the commands below).

    Starts a legacy SOAP bus, the modern JSON services and the Turnout proxy on free loopback
    ports and drives a scripted scenario of real zeep calls through the proxy four times: all
    legacy; reads in shadow (with their parity); reads on the translators; and a broken route
    edit that is refused while traffic flows. Exits non-zero if anything did not go as scripted.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ._demo_run import run_demo

    run = run_demo(out, on_phase=_render_phase, on_start=_render_start)
    ok = _render_end(run)
    ctx.exit(0 if ok else 1)


@demo.command("legacy")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--no-auth", is_flag=True,
              help="Serve without authentication (by default every request needs a WS-Security "
                   "UsernameToken of an officer in turnout/demo/identity.yaml).")
def legacy(host: str, port: int, no_auth: bool) -> None:
    """Serve the embedded legacy SOAP bus alone (WSDLs at /<service>?wsdl, list at /services)."""
    from ..demo import DEMO_IDENTITY, DemoIdentity, run_legacy

    identity = None if no_auth else DemoIdentity.load()
    console.print(f"legacy bus on http://{host}:{port}  (services: http://{host}:{port}/services)")
    console.print("no authentication" if identity is None else
                  f"UsernameToken required: officers and roles in {DEMO_IDENTITY}", highlight=False)
    run_legacy(host, port, identity=identity)


@demo.command("services")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=9000, show_default=True)
@click.option("--no-auth", is_flag=True,
              help="Serve without checking bearer tokens (by default every call needs Turnout's "
                   "JWT, signed with the demo key turnout/demo/identity-token.key).")
def services(host: str, port: int, no_auth: bool) -> None:
    """Serve the modern JSON services alone (see docs/modern-services.md)."""
    from ..demo import DEMO_TOKEN_KEY, read_token_key, run_services

    token_key = None if no_auth else read_token_key()
    console.print(f"modern JSON services on http://{host}:{port}")
    console.print("no authentication" if token_key is None else
                  f"bearer JWT required (HS256, demo key {DEMO_TOKEN_KEY})", highlight=False)
    run_services(host, port, token_key=token_key)


def _render_start(run: DemoRun) -> None:
    console.print(f"legacy bus       {run.bus_url}   (WSDLs: {run.bus_url}/services)")
    console.print(f"modern services  {run.services_url}")
    console.print(f"proxy            {run.proxy_url}   config and recordings: {run.directory}")


def _render_phase(run: DemoRun, phase: Phase) -> None:
    console.rule(f"[bold]{phase.title}")
    by_operation: dict[str, list] = {}
    for exchange in phase.exchanges:
        if exchange.operation is not None:
            by_operation.setdefault(exchange.operation.key, []).append(exchange)
    if by_operation:
        table = Table(show_edge=False)
        for column in ("operation", "route", "calls", "outcome", "parity", "p50 ms"):
            table.add_column(column, justify="right" if column in ("calls", "p50 ms") else "left",
                             no_wrap=column == "operation")
        for key in sorted(by_operation):
            exchanges = by_operation[key]
            outcomes: dict[str, int] = {}
            for exchange in exchanges:
                outcomes[exchange.outcome] = outcomes.get(exchange.outcome, 0) + 1
            table.add_row(
                key, phase.routes.get(key, "legacy"), str(len(exchanges)),
                " ".join(f"{k}×{v}" for k, v in sorted(outcomes.items())),
                _parity(exchanges),
                f"{statistics.median(e.timings.get('total', 0.0) for e in exchanges):.1f}",
            )
        console.print(table)
    for operation, verdict in sorted(phase.readiness.items()):
        console.print(f"readiness gate passed: {operation}: {verdict}", highlight=False)
    faults = sum(1 for call in phase.calls if not call.ok)
    console.print(f"{len(phase.calls)} SOAP calls, {faults} answered with a Fault as scripted, "
                  f"{len(phase.surprises)} surprises")
    for message in phase.refusals:
        console.print(f"[yellow]proxy log:[/] {message}", highlight=False)
    if phase.name == "bad-edit":
        console.print("routes still in force: " + ", ".join(
            f"{op} {mode}" for op, mode in sorted(phase.routes.items()) if mode != "legacy"))
    for call in phase.surprises:
        errors.print(f"[red]not as scripted:[/] {call.operation} ({call.label}): "
                     f"{call.fault_code} {call.fault_reason or ''}")


def _parity(exchanges: list) -> str:
    shadowed = [e for e in exchanges if "equal" in e.translation]
    if not shadowed:
        return ""
    equal = sum(1 for e in shadowed if e.translation["equal"])
    return f"{equal}/{len(shadowed)} = {100 * equal / len(shadowed):.0f}%"


def _render_end(run: DemoRun) -> bool:
    problems = []
    for phase in run.phases:
        if phase.surprises:
            problems.append(f"{phase.name}: {len(phase.surprises)} calls not as scripted")
    shadow = next((p for p in run.phases if p.name == "shadow"), None)
    if shadow is not None:
        unequal = [e for e in shadow.exchanges if e.translation.get("equal") is False]
        if unequal:
            problems.append(f"shadow: {len(unequal)} translated answers differ from the bus")
    bad_edit = run.phases[-1]
    if not bad_edit.refusals:
        problems.append("the broken route edit was not refused")
    console.rule()
    console.print(f"recordings: {run.directory / 'recordings'}\n"
                  f"  turnout recordings list {run.directory / 'recordings'} --summary\n"
                  f"  turnout routes list --config {run.directory / 'turnout.yaml'}")
    for problem in problems:
        errors.print(f"[bold red]{problem}[/]")
    return not problems
