"""Everything Turnout prints goes through here: one console, rich tables, and clean failures.

Error and warning text is printed as it is: never read as rich markup (a message quoting
`optional [index]es` keeps its brackets) and never hard-wrapped (one error, one line, whatever
the width), so it can be searched for and pasted whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from ..config import ConfigError, ProxyConfig
    from ..recording import StoreSummary

console = Console()
#: stderr: lines are never wrapped (soft wrap), whatever the terminal's width
errors = Console(stderr=True, soft_wrap=True)
# Piped output (CI logs, `| less`) gets room for a table instead of rich's default 80 columns.
for _console in (console, errors):
    if not _console.is_terminal:
        _console.width = 140


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `message` as an error and exit with `code`: no traceback for a user's mistake.

    `message` is plain text: brackets in it are printed, not read as markup."""
    errors.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True,
                 highlight=False)
    raise click.exceptions.Exit(code)


def warn(message: str) -> None:
    """Print `message` (plain text, one line) as a warning on stderr."""
    errors.print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True,
                 highlight=False)


def shown(path: Path | str) -> str:
    """A path as a person can find it: absolute as it is, relative with what it is relative to
    (`recordings (relative to /home/you)`), since the command may have run elsewhere."""
    if Path(path).is_absolute():
        return str(path)
    return f"{path} (relative to {Path.cwd()})"


def load_config(path: Path | None) -> ProxyConfig | None:
    """turnout.yaml when a command was given one (None when not); a bad file ends the command
    with `file:line: field: message`."""
    if path is None:
        return None
    from ..config import ConfigError, load_proxy_config

    try:
        return load_proxy_config(path)
    except ConfigError as exc:
        fail_config(exc)


def fail_config(exc: ConfigError, code: int = 2) -> NoReturn:
    """`fail` for a ConfigError: `file:line: field: message`, and when the file was named by a
    relative path, what it is relative to."""
    message = str(exc)
    if exc.file and not Path(exc.file).is_absolute():
        message += f" ({exc.file} is relative to {Path.cwd()})"
    fail(message, code)


def render_counters(counters: dict[str, int]) -> None:
    if not counters:
        return
    table = Table(title="proxy counters", show_edge=False)
    table.add_column("counter")
    table.add_column("count", justify="right")
    for name, value in sorted(counters.items()):
        table.add_row(name, str(value))
    console.print(table)


def _counts(counts: Mapping[Any, int]) -> str:
    """`200×10 500×2`; a lone value is shown without its count."""
    if len(counts) == 1:
        return str(next(iter(counts)))
    return " ".join(f"{key}×{value}" for key, value in sorted(counts.items(), key=str))


def render_summary(summary: StoreSummary, title: str) -> None:
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
        statuses: dict[int | str, int] = {status: n for status, n in row.statuses.items()}
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
        errors.print(Text.assemble(("unreadable recording:", "yellow"), " ", str(error)),
                     highlight=False)
