"""`turnout compare DIR --learn-noise`: ask the legacy bus the same thing twice, and propose
ignoring what differs. The `compare` command calls `learn_noise_command`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from ..compare import NOISE_GAP, Added, NoiseReport, learn_noise, load_rules, write_proposals
from ..config import ConfigError
from ..recording import SKIP_WRITE, SendOptions, read_recordings
from ._render import console, errors, load_config
from ._replay import (
    NEVER_WRITES_REMEDIES,
    checked_target,
    progress_bar,
    render_skipped,
    replay_policy,
    warn,
)


def learn_noise_command(
    directory: Path,
    target: str | None,
    rules_path: Path | None,
    config_path: Path | None,
    *,
    rate: float = 10.0,
    concurrency: int = 4,
    timeout: float = 30.0,
    gap: float = NOISE_GAP,
    per_operation: int | None = None,
    operations: tuple[str, ...] = (),
    include_writes: bool = False,
    assume_yes: bool = False,
) -> int:
    """Replay the reads recorded under `directory` to the legacy bus (`target`, else the
    config's `upstream`) twice each, and add `ignore` rules for what differed to the rules
    file (`rules_path`, else the config's `compare.rules`). Returns the exit code: 0 done
    (whether or not anything was new), 1 the bus answered nothing usable, 2 bad input.

    A config is required: it is how reads and writes are recognised, and a write must never
    be sent to the bus twice. Only declared reads are sent (see `turnout.cli._replay.
    replay_policy`): an operation nothing declares only when named in `operations` and
    confirmed a read; a name that looks like a write only with `include_writes`.
    """
    try:
        return _learn(directory, target, rules_path, config_path,
                      SendOptions(rate=rate, concurrency=concurrency, timeout=timeout),
                      gap, per_operation, operations, include_writes, assume_yes)
    except click.exceptions.Exit as exc:  # `fail` from a shared helper
        return int(exc.exit_code)


def _learn(
    directory: Path, target: str | None, rules_path: Path | None, config_path: Path | None,
    options: SendOptions, gap: float, per_operation: int | None,
    operations: tuple[str, ...] = (), include_writes: bool = False, assume_yes: bool = False,
) -> int:
    if not directory.is_dir():
        return _error(f"{directory}: no such recording directory")
    if config_path is None:
        return _error(
            "learning noise sends each recorded request to the legacy bus twice; without "
            "--config Turnout cannot tell writes (routes with writes: true) from reads. "
            "Give --config turnout.yaml"
        )
    config = load_config(config_path)
    assert config is not None
    insensitive = config.upstream_path_case_insensitive
    target = checked_target(target or config.upstream)
    rules_path = rules_path or config.compare_rules
    if rules_path is None:
        return _error(f"no rules file: give --rules FILE, or compare.rules in {config_path}")
    try:
        existing = load_rules(rules_path) if rules_path.exists() else {}
    except ConfigError as exc:
        return _error(str(exc))

    policy = replay_policy(config, operations=operations, include_writes=include_writes,
                           assume_yes=assume_yes)
    exchanges, unreadable_files = read_recordings(directory)
    for error in unreadable_files[:5]:
        warn(f"unreadable recording skipped: {error}")
    with progress_bar(None, f"asking {target} twice") as bar:
        report = learn_noise(
            exchanges, target, policy=policy, existing=existing,
            case_insensitive=insensitive,
            options=options, gap=gap, per_operation=per_operation,
            on_planned=bar.set_total, on_sent=lambda _: bar.advance(),
        )
    _render_skipped(report)
    samples = sum(noise.samples for noise in report.operations.values())
    for message in report.error_messages:
        errors.print(f"[red]error:[/] {message}", highlight=False)
    if samples == 0:
        if report.errors or report.operations:
            return _error(f"no pair of answers from {target} could be compared", code=1)
        console.print("no recorded reads to replay: nothing learned")
        return 0
    try:
        added = write_proposals(rules_path, report.proposals, report.prefixes)
    except ConfigError as exc:
        return _error(str(exc))
    _render_learned(report, added, rules_path)
    return 0


def _render_skipped(report: NoiseReport) -> None:
    writes = Counter(s.operation for s in report.skipped if s.reason == SKIP_WRITE)
    if writes:
        listed = ", ".join(f"{key} ×{n}" for key, n in sorted(writes.items(), key=str))
        console.print(f"writes are never replayed: skipped {sum(writes.values())} ({listed})",
                      highlight=False)
    render_skipped([s for s in report.skipped if s.reason != SKIP_WRITE], NEVER_WRITES_REMEDIES)


def _render_learned(report: NoiseReport, added: list[Added], rules_path: Path) -> None:
    table = Table(title="pairs of answers compared")
    for column in ("operation", "pairs", "fields that differed", "already in the rules",
                   "not comparable"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for key, noise in sorted(report.operations.items()):
        table.add_row(key, str(noise.samples), str(len(noise.differed)), str(len(noise.covered)),
                      str(noise.unreadable + noise.status_mismatch))
    console.print(table)
    unexplained = Counter[str]()
    for noise in report.operations.values():
        unexplained.update(noise.unexplained)
    for path, count in sorted(unexplained.items()):
        warn(f"{path} differed in {count} pairs, and no rule can say so (children in another "
             "order): review by hand")
    if not added:
        console.print(f"nothing new to propose: {rules_path} already covers what differed")
        return
    learned = Table(title=f"proposed in {rules_path}: review them")
    for column in ("section", "rule", "path", ""):
        learned.add_column(column)
    for entry in added:
        learned.add_row(entry.section, entry.kind, entry.path, entry.comment.removeprefix("learned: "))
    console.print(learned)


def _error(message: str, code: int = 2) -> int:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return code
