"""Everything Turnout prints goes through here: one console, rich tables, and clean failures."""

from __future__ import annotations

from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)


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
