"""`turnout compare DIR`: parity of the new path against the legacy answers recorded in DIR."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click
from rich.table import Table

from ..compare import (
    AnswerSource,
    ParityError,
    ParityReport,
    Rules,
    TargetAnswers,
    TranslatorAnswers,
    compare_recordings,
    load_rules,
    parity_text,
    write_reports,
)
from ..config import ConfigError, ProxyConfig, load_proxy_config
from ..evidence import GIVEN, find_recordings
from ..recording import RecordingError, Redactor, normalised_key, redactor_from_config
from ..soap import BadTarget
from ..translators import TranslatorSet, load_translators
from ._render import console, errors, fail
from ._replay import OPERATION_OPTION, YES_OPTION, replay_policy

_DEFAULT_CONFIG = Path("turnout.yaml")
_TOP_PATHS = 3
# `/soap:Envelope/soap:Body/pnc:PersonEnquiryResponse/` (the answer's element), not a Fault
_ANSWER = re.compile(r"^/[^/]+:Envelope/[^/]+:Body/(?![^/]+:Fault(/|$))[^/]+/")
_ENVELOPE = re.compile(r"^/[^/]+:Envelope/[^/]+:")


@dataclass
class _Inputs:
    translators: TranslatorSet | None
    translators_dir: Path | None
    rules: dict[str, Rules]
    rules_path: Path | None
    redactor: Redactor | None
    #: the bus ignores path case (`upstream_path_case: insensitive`): keys compare in any case
    case_insensitive: bool = False


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--dir", "dir_option", type=click.Path(file_okay=False, path_type=Path),
              help="The recording directory, as DIRECTORY [default: where the running proxy "
                   "records, else the config's recordings.dir].")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="turnout.yaml giving translators, compare rules and redaction "
                   "[default: ./turnout.yaml when there is one].")
@click.option("--translators", "translators_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Translators directory (overrides the config's).")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Compare rules file (overrides the config's).")
@click.option("--target", help="Send the recorded requests to this URL (e.g. a proxy routing them "
                               "to the translators) instead of replaying the recorded JSON replies.")
@click.option("--min-parity", type=click.FloatRange(0, 100), default=100.0, show_default=True,
              metavar="PCT", help="Exit 1 when an operation's parity is below this percentage.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write parity.json, parity.junit.xml and parity.html here.")
@click.option("--learn-noise", is_flag=True,
              help="Instead: send each recorded read to the legacy bus (--target, else the "
                   "config's upstream) twice and add what differs to the rules as noise.")
@OPERATION_OPTION
@click.option("--include-writes", is_flag=True,
              help="With --target or --learn-noise: also send declared reads whose names start "
                   "with a verb that writes (Create..., Submit...). Declared writes are never sent.")
@YES_OPTION
def compare(directory: Path | None, dir_option: Path | None, config_path: Path | None,
            translators_dir: Path | None, rules_path: Path | None, target: str | None,
            min_parity: float, report_dir: Path | None, learn_noise: bool,
            operations: tuple[str, ...], include_writes: bool, yes: bool) -> None:
    """Compare the legacy answers recorded in DIRECTORY with the new path's answers.

    Offline by default: each recording's JSON reply goes through its translator's response half
    (what the translator answered without a call is taken as recorded). With --target, the
    recorded requests are sent again to a live target instead: only declared reads (see
    `turnout replay`), never a write. Answers are compared semantically under the compare
    rules; parity is (identical + equal under rules) / samples, per operation, and a translator
    failure is a sample that is not equal, as for `turnout status` and the readiness gate.
    Without DIRECTORY, the recordings are where the running proxy records, else the config's
    recordings.dir. Exits 1 when an operation is below --min-parity, 2 on bad input.
    """
    if directory is not None and dir_option is not None and directory != dir_option:
        fail("give the recording directory once: as DIRECTORY or as --dir")
    if config_path is None and _DEFAULT_CONFIG.is_file():
        config_path = _DEFAULT_CONFIG
    config = _config(config_path)
    found = find_recordings(config, directory or dir_option)
    if found.path is None:
        fail(f"no recording directory: give DIRECTORY or --dir ({found.detail})")
    directory = found.path
    if not directory.is_dir():
        fail(f"{directory}: no such directory ({found.detail})")
    if found.origin != GIVEN:
        console.print(f"recordings: {found.describe()}", highlight=False)
    if learn_noise:
        raise click.exceptions.Exit(_learn_noise(directory, target, rules_path, config_path,
                                                 operations, include_writes, yes))
    inputs = _inputs(config, translators_dir, rules_path, need_translators=target is None)
    try:
        source: AnswerSource
        if target is None:
            assert inputs.translators is not None
            source = TranslatorAnswers(inputs.translators)
            report = _run(directory, source, inputs, operations)
        else:
            policy = replay_policy(config, inputs.translators, operations=operations,
                                   include_writes=include_writes, assume_yes=yes)
            with TargetAnswers(target, redactor=inputs.redactor, policy=policy) as live:
                report = _run(directory, live, inputs, operations)
    except (ParityError, RecordingError) as exc:
        fail(str(exc))
    render_parity(report, min_parity)
    if report_dir is not None:
        try:
            written = write_reports(report, report_dir, min_parity)
        except OSError as exc:
            fail(f"cannot write reports to {report_dir}: {exc}")
        console.print("reports: " + ", ".join(str(path) for path in written), highlight=False)
    failing = report.failing(min_parity)
    if not report.samples:
        errors.print("[bold red]nothing compared:[/] no recording has both a legacy answer and "
                     "a new one", highlight=False)
        raise click.exceptions.Exit(1)
    if failing:
        errors.print(f"[bold red]{len(failing)} operation{'s' if len(failing) != 1 else ''} below "
                     f"{parity_text(min_parity)} parity:[/] "
                     + ", ".join(operation.operation for operation in failing), highlight=False)
        raise click.exceptions.Exit(1)


def _run(directory: Path, source: AnswerSource, inputs: _Inputs,
         operations: tuple[str, ...] = ()) -> ParityReport:
    return compare_recordings(
        directory, source, inputs.rules,
        rules_source=str(inputs.rules_path) if inputs.rules_path else None,
        translators_source=str(inputs.translators_dir) if inputs.translators_dir else None,
        operations=_selected(operations, inputs.case_insensitive) if operations else None,
    )


def _selected(operations: tuple[str, ...], case_insensitive: bool) -> set[str]:
    """The operations asked for, as written and as the bus resolves them."""
    keys = set(operations)
    for operation in operations:
        try:
            keys.add(normalised_key(operation, case_insensitive))
        except BadTarget:
            pass
    return keys


def _config(config_path: Path | None) -> ProxyConfig | None:
    if config_path is None:
        return None
    try:
        return load_proxy_config(config_path)
    except ConfigError as exc:
        fail(str(exc))


def _inputs(config: ProxyConfig | None, translators_dir: Path | None, rules_path: Path | None,
            need_translators: bool) -> _Inputs:
    """Translators, rules, redaction and which operations write, from options and config."""
    translators_dir = translators_dir or (config.translators_dir if config else None)
    rules_path = rules_path or (config.compare_rules if config else None)
    if need_translators and translators_dir is None:
        fail("offline comparison needs translators: give --config turnout.yaml or --translators "
             "DIR (or --target URL to compare a live target)")
    if not need_translators and translators_dir is None and (config is None or config.source is None):
        # which operations write comes from the translators and the routes: without either,
        # a recorded write would be sent again and made twice
        fail("live comparison needs --config turnout.yaml or --translators DIR, to know which "
             "operations write (those are never sent again)")
    try:
        translators = load_translators(translators_dir) if translators_dir is not None else None
        rules = load_rules(rules_path) if rules_path is not None else {}
        redactor = redactor_from_config(config.redaction) if config and config.redaction else None
        insensitive = bool(config and config.upstream_path_case_insensitive)
    except ConfigError as exc:
        fail(str(exc))
    except ValueError as exc:  # the redaction section, e.g. a key that is named but missing
        fail(f"{config.source if config else 'config'}: {exc}")
    return _Inputs(translators, translators_dir, rules, rules_path, redactor, insensitive)


def _learn_noise(directory: Path, target: str | None, rules_path: Path | None,
                 config_path: Path | None, operations: tuple[str, ...] = (),
                 include_writes: bool = False, yes: bool = False) -> int:
    """`--learn-noise`: the legacy bus against itself (see `turnout.cli._noise`); its exit code."""
    from ._noise import learn_noise_command

    return learn_noise_command(directory, target, rules_path, config_path,
                               operations=operations, include_writes=include_writes,
                               assume_yes=yes)


def render_parity(report: ParityReport, min_parity: float) -> None:
    """One row per operation: samples, identical, equal under rules, different, parity, paths."""
    source = f"target {report.target}" if report.mode == "live" else "translators, offline"
    table = Table(title=f"parity in {report.directory} ({source})")
    table.add_column("operation", style="bold", no_wrap=True)
    for column in ("samples", "identical", "equal under\nrules", "different", "not\ncompared",
                   "parity"):
        table.add_column(column, justify="right")
    table.add_column("top differing paths", overflow="fold")
    for operation in report.operations:
        parity = parity_text(operation.parity)
        if operation.parity is not None:
            parity = f"[{'green' if operation.passes(min_parity) else 'bold red'}]{parity}[/]"
        paths = "\n".join(f"{_short(path)} ×{count}"
                          for path, count in operation.differing_paths()[:_TOP_PATHS])
        table.add_row(
            operation.operation, str(len(operation.samples)), str(operation.identical),
            str(operation.equal), str(operation.different), str(len(operation.not_compared)),
            parity, paths,
        )
    samples = report.samples
    failed = sum(1 for s in samples if s.failed)
    table.caption = (
        f"{len(samples)} samples, {sum(1 for s in samples if s.matches)} matching, "
        f"{failed} translator failure{'s' if failed != 1 else ''} (counted different); "
        f"{len(report.not_compared)} not compared; {report.not_legacy} of {report.recordings} "
        f"recordings not answered by the legacy bus"
        + (f"; {report.not_selected} of other operations" if report.not_selected else "")
    )
    console.print(table)
    reasons: dict[str, int] = {}
    for item in report.not_compared:
        reasons[item.reason] = reasons.get(item.reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        console.print(f"[yellow]not compared[/] ×{count}: {reason}", highlight=False)


def _short(path: str) -> str:
    """`pnc:person/pnc:sex` for `/soap:Envelope/soap:Body/pnc:PersonEnquiryResponse/pnc:person/
    pnc:sex`: in a row of its operation the envelope and the answer's element say nothing. The
    reports keep whole paths."""
    shorter = _ANSWER.sub("", path)
    return shorter if shorter != path else _ENVELOPE.sub("", path)
