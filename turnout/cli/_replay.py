"""`turnout replay DIR --target URL`: resend recorded requests and record the new answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ..config import ConfigError, ProxyConfig
from ..recording import (
    CARRY_MIN_SEEN,
    SKIP_NOT_NAMED,
    SKIP_UNDECLARED,
    SKIP_UNREADABLE,
    SKIP_WHY,
    SKIP_WRITE,
    SKIP_WRITE_NAME,
    RecordingError,
    RecordingStore,
    ReplayPolicy,
    ReplaySummary,
    SendOptions,
    Skipped,
    learn_carry,
    load_carry_rules,
    normalised_key,
    plan_replay,
    read_recordings,
    redactor_from_config,
    write_keys,
    write_rules,
)
from ..recording import (
    replay as run_replay,
)
from ..routing import load_route_table
from ..setup import load_translators_of
from ..soap import BadTarget
from ..translators import Translator
from ._render import console, errors, fail, load_config

OPERATION_OPTION = click.option(
    "--operation", "operations", multiple=True, metavar="OP",
    help="Only this operation (repeatable), e.g. '/pnc VehicleEnquiry'. One that neither the "
         "route file nor a translator declares is sent once you confirm it is a read.")
YES_OPTION = click.option(
    "--yes", "yes", is_flag=True,
    help="Confirm without asking that the operations named with --operation which nothing "
         "declares are reads.")


@click.command("replay")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--target", help="Base URL to send to: the bus, the proxy, a staging system.")
@click.option("--rate", type=click.FloatRange(0, min_open=True), default=10.0, show_default=True,
              help="At most this many requests per second.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=4, show_default=True,
              help="At most this many requests in flight.")
@click.option("--timeout", type=click.FloatRange(0, 600, min_open=True), default=30.0, show_default=True,
              help="Seconds one request may take.")
@click.option("--include-writes", is_flag=True,
              help="Also resend operations declared writes: true, and those whose names start "
                   "with a verb that writes (Create..., Submit...): they act again on the target.")
@click.option("--include-unreadable", is_flag=True,
              help="Also resend requests the proxy could not read as SOAP.")
@OPERATION_OPTION
@YES_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where the new recordings go (default: DIR-replay-<UTC time> beside DIR).")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="turnout.yaml: which operations read and write, and how to redact what is "
                   "recorded.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Replay rules: follow the values answers hand to later requests (with "
                   "--target), or where --learn writes them (default DIR/replay-rules.yaml).")
@click.option("--learn", is_flag=True,
              help="Send nothing: learn from DIR which answer values later requests carry, "
                   "and write them as replay rules to read and edit.")
@click.option("--min-seen", type=click.IntRange(1), default=CARRY_MIN_SEEN, show_default=True,
              help="With --learn: times a value must be carried before it becomes a rule.")
def replay(
    directory: Path, target: str | None, rate: float, concurrency: int, timeout: float,
    include_writes: bool, include_unreadable: bool, operations: tuple[str, ...], yes: bool,
    out: Path | None, config_path: Path | None, rules_path: Path | None, learn: bool,
    min_seen: int,
) -> None:
    """Resend the requests recorded under DIRECTORY to --target and record the answers.

    Method, path, body and end-to-end headers are sent as recorded (values that redaction
    replaced, as replaced). Only operations declared reads are sent: listed in the route file
    with writes false (any mode), or by a translator with writes false. An operation declared
    neither way is sent only when named with --operation and confirmed a read. Writes, and
    names that look like writes (CreateCrimeReport), only with --include-writes. What the
    proxy rejected is never sent. Each answer becomes a new recording (route `replay`, with
    `replay_of` naming the original) in --out.

    With --rules, the replay follows state (docs/replay.md): requests go in recorded order,
    each waits for the answers whose values it carries, and a value the target answered
    differently (a new crime reference) replaces the recorded one. --learn writes such rules.
    """
    if learn:
        if target is not None:
            fail("--learn only learns and writes the rules: read them, then replay with "
                 "--target URL --rules FILE")
        learn_rules(directory, rules_path or directory / RULES_FILE, min_seen)
        return
    if target is None:
        fail("--target URL is required (or --learn, to learn replay rules)")
    target = checked_target(target)
    rules = None
    if rules_path is not None:
        try:
            rules = load_carry_rules(rules_path)
        except ConfigError as exc:
            fail(str(exc))
    config = load_config(config_path)
    if config is None:
        warn("no --config: no operation is declared a read, so only operations named with "
             "--operation (and confirmed reads) are sent, and the answers are recorded "
             "without redaction")
    exchanges, unreadable_files = read_recordings(directory)
    for error in unreadable_files[:5]:
        warn(f"unreadable recording skipped: {error}")
    policy = replay_policy(config, operations=operations, include_writes=include_writes,
                           send_writes=include_writes, assume_yes=yes)
    plan = plan_replay(exchanges, include_unreadable=include_unreadable, policy=policy)
    out = out or default_out(directory)
    redactor = redactor_from_config(config.redaction) if config is not None else None
    store = RecordingStore(out, redactor=redactor)
    options = SendOptions(rate=rate, concurrency=concurrency, timeout=timeout)
    with progress_bar(len(plan.send), f"replaying to {target}") as bar:
        try:
            summary = run_replay(plan, store, target, options, lambda *_: bar.advance(),
                                 rules=rules, recorded=exchanges)
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
    writes = Counter(s.operation for s in summary.skipped if s.reason in _WRITE_REASONS)
    table.add_row("skipped writes", f"{summary.skipped_writes}  {_counts(writes)}".rstrip())
    other = Counter(s.reason for s in summary.skipped if s.reason not in _WRITE_REASONS)
    if unreadable_files:
        other["unreadable file"] = unreadable_files
    table.add_row("skipped other", f"{sum(other.values())}  {_counts(other)}".rstrip())
    table.add_row("errors", f"{sum(summary.errors.values())}  {_counts(summary.errors)}".rstrip())
    if summary.carried or summary.not_carried:
        table.add_row("carried", str(sum(summary.carried.values())))
        table.add_row("not carried", str(sum(summary.not_carried.values())))
    console.print(table)
    for rule, n in sorted(summary.carried.items()):
        console.print(f"carried {rule} ×{n}", highlight=False, soft_wrap=True)
    for rule, n in sorted(summary.not_carried.items()):
        console.print(f"not carried {rule} ×{n}: the target never gave a value for it (its "
                      "answer failed, or it was not sent: writes go only with "
                      "--include-writes); sent as recorded", highlight=False, soft_wrap=True)
    render_skipped(summary.skipped, REPLAY_REMEDIES)
    for message in summary.error_messages:
        errors.print(f"[red]error:[/] {message}", highlight=False)
    if summary.written:
        console.print(f"{len(summary.written)} replayed exchanges recorded in {out}", highlight=False)
    else:
        console.print("nothing was replayed")


#: where --learn writes the rules when --rules does not say: beside the recordings
RULES_FILE = "replay-rules.yaml"


def learn_rules(directory: Path, path: Path, min_seen: int) -> None:
    """`--learn`: the rules of DIR's recordings, written to `path` (never over a file a
    person may have edited)."""
    if path.exists():
        fail(f"{path} exists: it may hold your edits. Remove it, or write elsewhere with --rules")
    exchanges, unreadable_files = read_recordings(directory)
    for error in unreadable_files[:5]:
        warn(f"unreadable recording skipped: {error}")
    learned = learn_carry(exchanges, min_seen)
    note = (f"from {learned.exchanges} exchanges under {directory}; a pair needs {min_seen} "
            "sightings to become a rule (--min-seen)")
    try:
        write_rules(path, learned.rules, note)
    except OSError as exc:
        fail(f"cannot write {path}: {exc}")
    for rule in learned.rules:
        console.print(f"{rule.describe()}  seen {rule.seen}", highlight=False, soft_wrap=True)
    if learned.below_min_seen:
        console.print(f"{learned.below_min_seen} pairs seen fewer than {min_seen} times were "
                      "left out", highlight=False)
    console.print(f"{len(learned.rules)} replay rules from {learned.exchanges} exchanges "
                  f"written to {path}", highlight=False)


# -- shared with `turnout compare --learn-noise` ---------------------------------------------


def checked_target(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"--target must be an http:// or https:// URL with a host, not {target!r}")
    return target.rstrip("/")


def writes_of(config: ProxyConfig, case_insensitive: bool = False) -> frozenset[str]:
    """Operation keys that write: `writes: true` in the route table, or a translator's, with
    their service paths normalised (see `turnout.recording.write_keys`): `plan_replay` asks
    about normalised keys, so `/%63ris CreateCrimeReport` is found to be `/cris`'s write."""
    return declared(config, case_insensitive=case_insensitive)[1]


def declared(
    config: ProxyConfig | None, translators: Mapping[str, Translator] | None = None,
    case_insensitive: bool = False,
) -> tuple[frozenset[str], frozenset[str]]:
    """`(reads, writes)`: the operations declared reads and writes, keys normalised.

    A write is an operation with `writes: true` on its route or on its translator. A read is
    one the route file lists with writes false (in any mode), or whose loaded translator says
    writes false, and that nothing declares a write. `translators` default to the config's."""
    try:
        routes = (load_route_table(config.source)
                  if config is not None and config.source is not None else None)
        if translators is None:
            translators = load_translators_of(config) if config is not None else {}
    except ConfigError as exc:
        fail(str(exc))
    writes = {route.key for route in routes or () if route.writes}
    writes.update(key for t in translators.values() if t.writes for key in _keys(t))
    reads = {route.key for route in routes or () if not route.writes}
    reads.update(key for t in translators.values() if not t.writes for key in _keys(t))
    write_set = write_keys(writes, case_insensitive)
    return write_keys(reads, case_insensitive) - write_set, write_set


def _keys(translator: Translator) -> tuple[str, ...]:
    """Every operation key a translator serves (a mapping's `operation:` may list several)."""
    return tuple(getattr(translator, "operations", ()) or (translator.operation,))


def replay_policy(
    config: ProxyConfig | None, translators: Mapping[str, Translator] | None = None, *,
    operations: Iterable[str] = (), include_writes: bool = False, send_writes: bool = False,
    assume_yes: bool = False,
) -> ReplayPolicy:
    """What replay, `compare --target` and noise learning may send (one planner for the three):
    declared reads; operations named with --operation that nothing declares, once a person
    confirms each is a read (`assume_yes` confirms them all); names that look like writes
    only with `include_writes`; declared writes only with `send_writes`."""
    insensitive = bool(config and config.upstream_path_case_insensitive)
    reads, writes = declared(config, translators, insensitive)
    named: frozenset[str] | None = None
    confirmed: set[str] = set()
    if operations:
        named_keys = set()
        for operation in operations:
            if " " not in operation.strip():
                fail(f"--operation {operation!r} is not an operation key like '/pnc VehicleEnquiry'")
            try:
                key = normalised_key(operation.strip(), insensitive)
            except BadTarget as exc:
                fail(f"--operation {operation!r}: its path has no one meaning ({exc})")
            named_keys.add(key)
            if key not in reads and key not in writes and _confirmed_read(key, assume_yes):
                confirmed.add(key)
        named = frozenset(named_keys)
    return ReplayPolicy(
        writes=writes, reads=reads, named=named, confirmed=frozenset(confirmed),
        send_writes=send_writes, allow_write_names=include_writes, case_insensitive=insensitive,
    )


def _confirmed_read(key: str, assume_yes: bool) -> bool:
    question = (f"{key} is declared neither a read nor a write (by the route file or a "
                "translator). Is it a read, which changes nothing when sent again?")
    if assume_yes:
        console.print(f"{question} yes (--yes)", highlight=False)
        return True
    try:
        return click.confirm(question, default=False, err=True)
    except click.Abort:  # no one to answer (stdin closed): not confirmed
        errors.print(f"{key}: not confirmed a read: not sent", highlight=False)
        return False


_WRITE_REASONS = (SKIP_WRITE, SKIP_WRITE_NAME)

#: what a person can do about each reason, per command
REPLAY_REMEDIES = {
    SKIP_WRITE: "sent only with --include-writes",
    SKIP_WRITE_NAME: "sent only with --include-writes (add --operation to send nothing else)",
    SKIP_UNDECLARED: "declare it in the route file (writes: false or true), or name it with "
                     "--operation and confirm it is a read",
    SKIP_UNREADABLE: "sent only with --include-unreadable",
}
#: compare --target and noise learning never send a declared write
NEVER_WRITES_REMEDIES = {
    SKIP_WRITE: "never sent again by this command",
    SKIP_WRITE_NAME: "sent only with --include-writes, and only when it is declared a read or "
                     "named and confirmed",
    SKIP_UNDECLARED: REPLAY_REMEDIES[SKIP_UNDECLARED],
}


def render_skipped(skipped: Iterable[Skipped], remedies: Mapping[str, str]) -> None:
    """One line per operation and reason: what was not sent, why, and what would send it."""
    counts = Counter((s.reason, s.operation) for s in skipped)
    for (reason, operation), n in sorted(counts.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        if reason == SKIP_NOT_NAMED:
            continue  # the person asked for other operations: nothing to explain
        why = SKIP_WHY.get(reason, reason)
        remedy = remedies.get(reason)
        console.print(f"skipped {operation or '(no operation)'} ×{n}: {why}"
                      + (f"; {remedy}" if remedy else ""), highlight=False, soft_wrap=True)
    not_named = sum(n for (reason, _), n in counts.items() if reason == SKIP_NOT_NAMED)
    if not_named:
        console.print(f"skipped {not_named} exchanges of operations not named with --operation",
                      highlight=False)


def default_out(directory: Path) -> Path:
    directory = directory.resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
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


def _counts(counts: Mapping[Any, int]) -> str:
    return ", ".join(f"{key} ×{value}" for key, value in sorted(counts.items(), key=str))
