"""`turnout status`: each operation's mode, recorded traffic, shadow parity and readiness.

The recordings are found as the readiness gate and `turnout compare` find them (`--dir`, else
where the running proxy records, else `recordings.dir`; `turnout.evidence`), and every shadow
in the gate's window is judged as `turnout compare` judges it: the three agree count for count.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from ..compare import Readiness
from ..config import ConfigError, load_proxy_config
from ..evidence import gather_evidence
from ..setup import load_setup
from ._render import console, fail
from ._routes import _CONFIG, running_routes


@click.command()
@_CONFIG
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="The recording directory [default: where the running proxy records, else "
                   "the config's recordings.dir].")
def status(config_path: Path, directory: Path | None) -> None:
    """One row per operation: where it goes, what was recorded, and whether it is ready."""
    try:
        config = load_proxy_config(config_path)
        setup = load_setup(config)
    except ConfigError as exc:
        fail(str(exc))
    if directory is not None and not directory.is_dir():
        fail(f"{directory}: no such directory")
    modes = {route.key: route.mode for route in setup.routes}
    live = running_routes(config)
    source = "file"
    if live is not None:
        modes, source = {row["operation"]: row["mode"] for row in live}, "running proxy"
    try:
        evidence = gather_evidence(config, sorted(modes), directory, recorded_operations=True)
    except ConfigError as exc:
        fail(str(exc))
    traffic: dict[str, Counter[str]] = {}
    for exchange in evidence.exchanges:
        if exchange.operation is not None:
            traffic.setdefault(exchange.operation.key, Counter())[exchange.route] += 1
    operations = sorted(evidence.readiness)
    console.print(f"recordings: {evidence.source.describe()}", highlight=False)
    table = Table(title=f"operations (modes from the {source})")
    for column in ("operation", "mode", "recorded", "shadow parity", "ready for translator"):
        table.add_column(column, no_wrap=column == "operation")
    details = []
    for operation in operations:
        ready = evidence.readiness[operation]
        parity = "-" if ready.parity is None else f"{ready.parity:.1f}% of {ready.samples}"
        verdict = "[green]yes[/]" if ready.ready else "[yellow]no[/]: " + "; ".join(ready.missing)
        recorded = " ".join(f"{route}×{n}" for route, n in sorted(traffic.get(operation, Counter()).items()))
        table.add_row(operation, modes.get(operation, "legacy"), recorded or "-", parity, verdict)
        if _worth_a_note(ready):
            assert ready.window is not None
            details.append(f"{operation}: {ready.counts()}; window: {ready.window.describe()}")
            details.extend(f"  not compared ×{n}: {reason}" for reason, n in ready.not_compared.items())
    console.print(table)
    for line in details:
        console.print(line, highlight=False, soft_wrap=True)
    window = ("the shadows of the current translator version" if config.readiness_window is None
              else f"the last {config.readiness_window} shadows")
    console.print(f"readiness: {config.readiness_min_parity:g}% parity over at least "
                  f"{config.readiness_min_samples} shadowed requests, counting {window}; "
                  "a translator failure counts as not equal", highlight=False, soft_wrap=True)


def _worth_a_note(ready: Readiness) -> bool:
    """A line under the table when the parity column does not tell it all: translator
    failures, shadows not compared, or shadows of an older translator left out."""
    window = ready.window
    if window is None or not window.shadows:
        return False
    return bool(ready.failed or ready.uncompared or window.selected < window.shadows)
