"""`turnout replay DIR --target URL`: resend recorded requests and record the new answers."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import click
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn,
)
from rich.table import Table

from ..config import ConfigError, ProxyConfig, load_proxy_config
from ..recording import (
    RecordingError,
    RecordingStore,
    ReplaySummary,
    SendOptions,
    never_a_write,
    plan_replay,
    read_recordings,
    redactor_from_config,
    replay as run_replay,
    write_keys,
)
from ..routing import load_route_table
from ..setup import load_translators_of
from ._render import console, errors, fail


@click.command("replay")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--target", required=True, help="Base URL to send to: the bus, the proxy, a staging system.")
@click.option("--rate", type=click.FloatRange(0, min_open=True), default=10.0, show_default=True,
              help="At most this many requests per second.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=4, show_default=True,
              help="At most this many requests in flight.")
@click.option("--timeout", type=click.FloatRange(0, 600, min_open=True), default=30.0, show_default=True,
              help="Seconds one request may take.")
@click.option("--include-writes", is_flag=True,
              help="Also resend operations marked writes: true (they act again on the target).")
@click.option("--include-unreadable", is_flag=True,
              help="Also resend requests the proxy could not read as SOAP.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where the new recordings go (default: DIR-replay-<UTC time> beside DIR).")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="turnout.yaml: which operations write, and how to redact what is recorded.")
def replay(
    directory: Path, target: str, rate: float, concurrency: int, timeout: float,
    include_writes: bool, include_unreadable: bool, out: Path | None, config_path: Path | None,
) -> None:
    """Resend the requests recorded under DIRECTORY to --target and record the answers.

    Method, path, body and end-to-end headers are sent as recorded (values that redaction
    replaced, as replaced). Writes are skipped unless --include-writes; what the proxy
    rejected is never sent. Each answer becomes a new recording (route `replay`, with
    `replay_of` naming the original) in --out.
    """
    target = checked_target(target)
    config = load_config(config_path)
    if config is None:
        warn("no --config: writes cannot be recognised, so every operation is resent, and "
             "the answers are recorded without redaction")
        is_write: Callable[[str], bool] = never_a_write
    else:
        is_write = writes_of(config, config.upstream_path_case_insensitive).__contains__
    exchanges, unreadable_files = read_recordings(directory)
    for error in unreadable_files[:5]:
        warn(f"unreadable recording skipped: {error}")
    plan = plan_replay(exchanges, is_write, include_writes=include_writes,
                       include_unreadable=include_unreadable,
                       case_insensitive=bool(config and config.upstream_path_case_insensitive))
    out = out or default_out(directory)
    redactor = redactor_from_config(config.redaction) if config is not None else None
    store = RecordingStore(out, redactor=redactor)
    options = SendOptions(rate=rate, concurrency=concurrency, timeout=timeout)
    with progress_bar(len(plan.send), f"replaying to {target}") as bar:
        try:
            summary = run_replay(plan, store, target, options, lambda *_: bar.advance())
        except RecordingError as exc:
            fail(f"cannot record a replayed exchange: {exc}", code=1)
    render_replay_summary(summary, len(unreadable_files), out)
    if summary.errors:
        raise click.exceptions.Exit(1)


def render_replay_summary(summary: ReplaySummary, unreadable_files: int, out: Path) -> None:
    table = Table(title="replay", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("sent", str(summary.sent))
    table.add_row("statuses", _counts(summary.statuses) or "-")
    writes = Counter(s.operation for s in summary.skipped if s.reason == "write")
    table.add_row("skipped writes", f"{summary.skipped_writes}  {_counts(writes)}".rstrip())
    other = Counter(s.reason for s in summary.skipped if s.reason != "write")
    if unreadable_files:
        other["unreadable file"] = unreadable_files
    table.add_row("skipped other", f"{sum(other.values())}  {_counts(other)}".rstrip())
    table.add_row("errors", f"{sum(summary.errors.values())}  {_counts(summary.errors)}".rstrip())
    console.print(table)
    for message in summary.error_messages:
        errors.print(f"[red]error:[/] {message}", highlight=False)
    if summary.written:
        console.print(f"{len(summary.written)} replayed exchanges recorded in {out}", highlight=False)
    else:
        console.print("nothing was replayed")


# -- shared with `turnout compare --learn-noise` ---------------------------------------------


def checked_target(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"--target must be an http:// or https:// URL with a host, not {target!r}")
    return target.rstrip("/")


def load_config(path: Path | None) -> ProxyConfig | None:
    if path is None:
        return None
    try:
        return load_proxy_config(path)
    except ConfigError as exc:
        fail(str(exc))


def writes_of(config: ProxyConfig, case_insensitive: bool = False) -> frozenset[str]:
    """Operation keys that write: `writes: true` in the route table, or a translator's, with
    their service paths normalised (see `turnout.recording.write_keys`): `plan_replay` asks
    about normalised keys, so `/%63ris CreateCrimeReport` is found to be `/cris`'s write."""
    try:
        routes = load_route_table(config.source) if config.source is not None else None
        translators = load_translators_of(config)
    except ConfigError as exc:
        fail(str(exc))
    keys = {route.key for route in routes or () if route.writes}
    keys.update(t.operation for t in translators.values() if t.writes)
    return write_keys(keys, case_insensitive)


def default_out(directory: Path) -> Path:
    directory = directory.resolve()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return directory.parent / f"{directory.name}-replay-{stamp}"


class Bar:
    """One task of a rich progress display: `advance()` by one, `set_total(n)` once known."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self) -> None:
        self._progress.advance(self._task)

    def set_total(self, total: int) -> None:
        self._progress.update(self._task, total=total)


@contextmanager
def progress_bar(total: int | None, description: str) -> Iterator[Bar]:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:
        yield Bar(progress, progress.add_task(description, total=total))


def warn(message: str) -> None:
    errors.print(f"[yellow]warning:[/] {message}", highlight=False)


def _counts(counts: Counter) -> str:  # type: ignore[type-arg]
    return ", ".join(f"{key} ×{value}" for key, value in sorted(counts.items(), key=str))
