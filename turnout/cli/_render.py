"""Everything Turnout prints goes through here: one console, rich tables, and clean failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ..recording import StoreSummary

console = Console()
errors = Console(stderr=True)
# Piped output (CI logs, `| less`) gets room for a table instead of rich's default 80 columns.
for _console in (console, errors):
    if not _console.is_terminal:
        _console.width = 140


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `message` as an error and exit with `code`: no traceback for a user's mistake."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise click.exceptions.Exit(code)


def render_counters(counters: dict[str, int]) -> None:
    if not counters:
        return
    table = Table(title="proxy counters", show_edge=False)
    table.add_column("counter")
    table.add_column("count", justify="right")
    for name, value in sorted(counters.items()):
        table.add_row(name, str(value))
    console.print(table)


def _counts(counts: dict) -> str:  # type: ignore[type-arg]
    """`200×10 500×2`; a lone value is shown without its count."""
    if len(counts) == 1:
        return str(next(iter(counts)))
    return " ".join(f"{key}×{value}" for key, value in sorted(counts.items(), key=str))


def render_summary(summary: "StoreSummary", title: str) -> None:
    """One row per operation: count, routes, outcomes, HTTP statuses, latency."""
    table = Table(title=title, show_lines=False)
    table.add_column("operation", style="bold", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("route")
    table.add_column("outcome")
    table.add_column("status")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    for row in summary.operations:
        latency = row.latency
        statuses = dict(row.statuses)
        if row.no_response:
            statuses["none"] = row.no_response
        table.add_row(
            row.key,
            str(row.count),
            _counts(row.routes),
            _counts(row.outcomes),
            _counts(statuses),
            f"{latency.median_ms:.1f}" if latency else "-",
            f"{latency.p95_ms:.1f}" if latency else "-",
        )
    table.caption = f"{summary.total} exchanges"
    console.print(table)
    for error in summary.errors:
        errors.print(f"[yellow]unreadable recording:[/] {error}", highlight=False)
