"""`turnout demo`: the legacy bus, the proxy in front of it, and real SOAP traffic through both."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
from rich.table import Table

from ._render import console, errors, render_counters, render_summary


@click.group(invoke_without_command=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-recordings"),
              show_default=True, help="Where the run's recordings go (a fresh folder per run inside).")
@click.pass_context
def demo(ctx: click.Context, out: Path) -> None:
    """Run the embedded demo end to end (or one of its parts, see the commands below).

    Starts a legacy SOAP bus and the Turnout proxy on free loopback ports, sends a scripted
    scenario of real zeep calls through the proxy, and shows what the proxy recorded.
    """
    if ctx.invoked_subcommand is not None:
        return
    ok = run_demo(out)
    ctx.exit(0 if ok else 1)


@demo.command("legacy")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def legacy(host: str, port: int) -> None:
    """Serve the embedded legacy SOAP bus alone (WSDLs at /<service>?wsdl, list at /services)."""
    from ..demo import run_legacy

    console.print(f"legacy bus on http://{host}:{port}  (services: http://{host}:{port}/services)")
    run_legacy(host, port)


def run_demo(out: Path) -> bool:
    from ..demo import DemoStore, ServerThread, make_legacy_app
    from ..demo.config import demo_proxy_config
    from ..demo.scenario import run_scenario
    from ..proxy import ProxyThread
    from ..recording import RecordingStore

    run_dir = (out / datetime.now(timezone.utc).strftime("run-%Y%m%dT%H%M%SZ")).resolve()
    with ServerThread(make_legacy_app(DemoStore())) as bus:
        config = demo_proxy_config(bus.url, run_dir)
        with ProxyThread(config) as proxy:
            console.print(f"legacy bus  {bus.url}   (WSDLs: {bus.url}/services)")
            console.print(f"proxy       {proxy.url}  -> legacy bus, recording to {run_dir}")
            with console.status("sending the scenario through the proxy with zeep..."):
                calls = run_scenario(proxy.url)
        counters = proxy.state.stats.snapshot()

    summary = RecordingStore(run_dir).summary()
    render_summary(summary, "what the proxy saw (from its recordings)")
    render_counters(counters)
    surprises = [call for call in calls if not call.as_expected]
    faults = sum(1 for call in calls if not call.ok)
    console.print(
        f"{len(calls)} calls, {faults} answered with a Fault as scripted, "
        f"{summary.total} exchanges recorded (personal fields redacted)."
    )
    if surprises:
        table = Table(title="calls that did not go as scripted", style="red")
        for column in ("operation", "call", "fault"):
            table.add_column(column)
        for call in surprises:
            table.add_row(call.operation, call.label, f"{call.fault_code} {call.fault_reason or ''}")
        errors.print(table)
    ok = not surprises and summary.total == len(calls) and not summary.errors
    console.print(
        f"recordings: {run_dir}\n"
        f"  turnout recordings list {run_dir}\n"
        f"  turnout recordings show <id> --dir {run_dir}"
    )
    if not ok:
        errors.print("[bold red]the demo did not run as scripted[/]")
    return ok
