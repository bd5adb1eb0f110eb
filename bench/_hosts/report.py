"""The Markdown that bench/hosts.py prints: one table per cell (answer size, connections), a
grid of CPU per request across the cells, and the soak and RSS results.

CPU per request is the figure to read, as a ratio to the plain aiohttp proxy of the same cell:
absolute figures move with whatever else the machine is doing, ratios much less.
"""

from __future__ import annotations

from dataclasses import dataclass

from .measure import SOAK_CHECKS, RssResult, SoakResult, Summary
from .targets import Row

#: counters worth a note: work the proxy gave up or failed, and how shadows compared
_NOTED = ("dropped", "failed", "unfinished", "skipped", "shadow.", "translator.error", "fallback")


def us(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


def notes(summary: Summary, row: Row) -> str:
    parts = []
    if summary.errors:
        parts.append(f"{summary.errors:,} errors")
    if summary.unsettled:
        parts.append(f"{summary.unsettled} round(s) not idle within the bound")
    if summary.recorded is not None:
        parts.append(f"on disk {summary.recorded:,} of {summary.handled:,} handled")
    for key, value in sorted(summary.counters.items()):
        if any(mark in key for mark in _NOTED) and key != "shadow.pending":
            parts.append(f"{key} {value:,.0f}")
    return "; ".join(parts)


def cell_table(size: int, connections: int, rows: list[Row], summaries: dict[str, Summary],
               base_key: str = "plain") -> str:
    base = summaries.get(base_key)
    base_total = base.total_us if base else None
    lines = [
        f"#### {size} KB answer, {connections} connection{'s' if connections != 1 else ''}",
        "",
        "| host | CPU/req, serving process (µs) | CPU/req, with children (µs) | vs plain aiohttp "
        "| req/s | p50 ms | p99 ms | RSS MB, serving / all | idle after (s) | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        s = summaries.get(row.key)
        if s is None:
            continue
        lines.append(
            f"| {row.label} | {us(s.serving_us)} | {us(s.total_us)} | {ratio(s.total_us, base_total)} "
            f"| {s.rps:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f} "
            f"| {s.serving_rss_mb:.0f} / {s.total_rss_mb:.0f} | {s.settle_s:.1f} | {notes(s, row)} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Cell:
    size: int
    connections: int


def grid_table(cells: list[Cell], rows: list[Row], results: dict[Cell, dict[str, Summary]],
               base_key: str = "plain") -> str:
    head = " | ".join(f"{c.size} KB, {c.connections} c" for c in cells)
    lines = [
        "CPU per request with children, µs (ratio to the plain aiohttp proxy in the same cell)",
        "",
        f"| host | {head} |",
        "|---|" + "---:|" * len(cells),
    ]
    for row in rows:
        values = []
        for cell in cells:
            s = results.get(cell, {}).get(row.key)
            base = results.get(cell, {}).get(base_key)
            if s is None:
                values.append("")
            elif row.key == base_key or base is None:
                values.append(us(s.total_us))
            else:
                values.append(f"{us(s.total_us)} ({ratio(s.total_us, base.total_us)})")
        if any(values):
            lines.append(f"| {row.label} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def soak_table(results: list[SoakResult], seconds: float, connections: int) -> str:
    checks = " | ".join(f"on disk +{at:g} s" for at in SOAK_CHECKS)
    lines = [
        f"#### Soak: recording, {seconds:g} s at {connections} connections, 2 KB answers",
        "",
        f"| host | answered (wrk, non-error) | forwarded (bus calls) | req/s | {checks} "
        "| all answered on disk within 2 s | as many on disk after (s) | on disk once idle | counters |",
        "|---|---:|---:|---:|" + "---:|" * len(SOAK_CHECKS) + "---|---:|---:|---|",
    ]
    for r in results:
        forwarded = "-" if r.forwarded is None else f"{r.forwarded:,}"
        caught = "-" if r.caught_up_s is None else f"{r.caught_up_s:.1f}"
        counts = " | ".join(f"{r.on_disk[at]:,}" for at in SOAK_CHECKS)
        counters = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(r.counters.items()))
        lines.append(f"| {r.label} | {r.answered:,} | {forwarded} | {r.rps:,.0f} | {counts} "
                     f"| {'yes' if r.within_2s else 'no'} | {caught} | {r.final:,} | {counters} |")
    return "\n".join(lines)


def rss_table(results: list[RssResult], requests: int, connections: int) -> str:
    lines = [
        f"#### RSS over {requests:,} requests with recording, {connections} connections, 2 KB answers",
        "",
        "| host | answered | seconds | RSS MB, serving process: before / first / max / last / idle after "
        "| with children | on disk |",
        "|---|---:|---:|---|---|---:|",
    ]
    for r in results:
        def five(i: int, r: RssResult = r) -> str:
            return " / ".join(f"{v[i]:.0f}" for v in (r.before, r.first, r.most, r.last, r.idle))
        lines.append(f"| {r.label} | {r.answered:,} | {r.seconds:.0f} | {five(0)} | {five(1)} | {r.recorded:,} |")
    return "\n".join(lines)
