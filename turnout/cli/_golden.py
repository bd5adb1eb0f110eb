"""`turnout demo record-golden`: record the demo's golden set, then check it once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from ._render import console, fail


@click.command("record-golden")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("recordings"),
              show_default=True, help="Where the golden recordings go.")
@click.option("--replace", is_flag=True,
              help="Delete the recordings already in OUT first (other files there are kept).")
def record_golden_command(out: Path, replace: bool) -> None:
    """Record the demo scenario with every operation in shadow, as golden test cases.

    Starts the legacy bus, the modern services and the proxy on free loopback ports, shadows
    every operation (the writes through their dry-run endpoints), drives the scenario once
    and leaves the redacted recordings in OUT, with OUT/compare.yaml: the rules only the golden
    set needs. Then checks each recording against the demo's translators and shows the result.
    See docs/golden.md.
    """
    from ..demo.golden import GoldenSetError, existing_recordings, record_golden, remove_recordings

    if replace and existing_recordings(out):
        console.print(f"removed {remove_recordings(out)} recordings from {out}")
    try:
        record_golden(out)
    except GoldenSetError as exc:
        fail(f"{exc} (or pass --replace)")
    _render_check(out)


def _render_check(out: Path) -> None:
    from ..compare import NotGolden, check_golden, load_rules, merge_rule_tables
    from ..config import load_proxy_config
    from ..demo.config import DEMO_CONFIG
    from ..demo.golden import RULES_FILE
    from ..recording import RecordingStore
    from ..translators import load_translators

    demo = load_proxy_config(DEMO_CONFIG)
    assert demo.translators_dir is not None and demo.compare_rules is not None
    translators = load_translators(demo.translators_dir)
    rules = merge_rule_tables(load_rules(demo.compare_rules), load_rules(out / RULES_FILE))
    counts: dict[str, Counter[str]] = {}
    failures: list[tuple[str, str]] = []
    for exchange in RecordingStore(out).iter_exchanges():
        key = exchange.operation.key if exchange.operation else exchange.outcome
        tally = counts.setdefault(key, Counter())
        try:
            result = check_golden(exchange, translators, rules)
        except NotGolden:
            tally["skipped"] += 1
            continue
        tally["passed" if result.passed else "failed"] += 1
        if not result.passed:
            failures.append((f"{key} {exchange.id}", result.text()))
    table = Table(title=f"golden recordings in {out}")
    for column in ("operation", "recordings", "passed", "failed", "skipped"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for key in sorted(counts):
        tally = counts[key]
        table.add_row(key, str(sum(tally.values())), str(tally["passed"]), str(tally["failed"]),
                      str(tally["skipped"]))
    console.print(table)
    for name, text in failures:
        console.rule(name)
        console.print(text, highlight=False, markup=False)
    console.print(f"run them: pytest --turnout-config turnout/demo/turnout.yaml "
                  f"--turnout-compare-rules turnout/demo/compare.yaml "
                  f"--turnout-compare-rules {out / RULES_FILE} {out}", highlight=False)
