"""`turnout status`: each operation's mode, recorded traffic, shadow parity and readiness."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from ..config import ConfigError, load_proxy_config
from ..recording import RecordingStore
from ..setup import load_setup, readiness_of
from ._render import console, fail
from ._routes import _CONFIG, running_routes


@click.command()
@_CONFIG
def status(config_path: Path) -> None:
    """One row per operation: where it goes, what was recorded, and whether it is ready."""
    try:
        config = load_proxy_config(config_path)
        setup = load_setup(config)
    except ConfigError as exc:
        fail(str(exc))
    modes = {route.key: route.mode for route in setup.routes}
    live = running_routes(config)
    source = "file"
    if live is not None:
        modes, source = {row["operation"]: row["mode"] for row in live}, "running proxy"
    traffic: dict[str, Counter[str]] = {}
    if config.record_dir is not None and config.record_dir.is_dir():
        for exchange in RecordingStore(config.record_dir).iter_exchanges():
            if exchange.operation is not None:
                traffic.setdefault(exchange.operation.key, Counter())[exchange.route] += 1
    operations = sorted(set(modes) | set(traffic))
    readiness = readiness_of(config, operations)
    table = Table(title=f"operations (modes from the {source}; recordings in {config.record_dir or '-'})")
    for column in ("operation", "mode", "recorded", "shadow parity", "ready for translator"):
        table.add_column(column, no_wrap=column == "operation")
    for operation in operations:
        ready = readiness[operation]
        parity = "-" if ready.parity is None else f"{ready.parity:.1f}% of {ready.samples}"
        verdict = "[green]yes[/]" if ready.ready else "[yellow]no[/]: " + "; ".join(ready.missing)
        recorded = " ".join(f"{route}×{n}" for route, n in sorted(traffic.get(operation, Counter()).items()))
        table.add_row(operation, modes.get(operation, "legacy"), recorded or "-", parity, verdict)
    console.print(table)
    console.print(f"readiness: {config.readiness_min_parity:g}% parity over at least "
                  f"{config.readiness_min_samples} shadowed requests")
