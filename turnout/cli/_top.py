"""`turnout top`: a live view of one or more running proxies, from their admin `/metrics`.

Per operation, summed over every proxy named: the mode in force (and how many proxies serve
it so, when they disagree), requests per second, p50/p99 latency, errors and fallbacks over the
last interval and in total, and shadow parity; a line per proxy above it. The numbers come from
`turnout.observe`; this module only asks for them every `--interval` seconds and draws them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..config import ConfigError, load_proxy_config
from ..evidence import admin_url
from ..observe import OperationRow, ProxyLine, Scrape, TopView, scrape_all, top_view
from ._render import console, fail, fail_config
from ._routes import _CONFIG


@click.command()
@click.argument("admin_urls", nargs=-1, metavar="[ADMIN_URL]...")
@_CONFIG
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=1.0, show_default=True,
              help="Seconds between scrapes; rates, latencies and 'now' counts are over the last one.")
@click.option("--once", is_flag=True,
              help="Scrape twice, --interval apart, print one plain table and exit (for scripts).")
@click.option("--json", "as_json", is_flag=True, help="With --once: the numbers as JSON.")
def top(admin_urls: tuple[str, ...], config_path: Path, interval: float, once: bool, as_json: bool) -> None:
    """Watch running proxies: per operation, mode, rate, p50/p99, errors, fallbacks, parity.

    ADMIN_URL is a proxy's admin endpoint (http://127.0.0.1:8081); name several to see them
    summed, as behind a load balancer. Without one, the admin endpoint of the config's proxy
    (admin.port in -c turnout.yaml). A proxy that stops answering stays in the view, marked
    unreachable. With --once, the exit status is 1 when no proxy answered.
    """
    if as_json and not once:
        fail("--json needs --once (the live view is for people)")
    urls = list(admin_urls) or [_configured_admin(config_path)]
    timeout = min(max(interval, 1.0), 5.0)
    if once:
        before = scrape_all(urls, timeout)
        time.sleep(interval)
        view = top_view(list(zip(before, scrape_all(urls, timeout), strict=True)))
        if as_json:
            click.echo(json.dumps({"interval": interval, **view.as_dict()}, indent=1))
        else:
            console.print(_render(view, interval))
        if not any(line.reachable for line in view.proxies):
            raise click.exceptions.Exit(1)
        return
    _watch(urls, interval, timeout)


def _configured_admin(config_path: Path) -> str:
    try:
        config = load_proxy_config(config_path)
    except ConfigError as exc:
        fail_config(exc)
    url = admin_url(config)
    if url is None:
        fail(f"{config_path} gives the proxy no fixed admin port (admin.port): name the proxy's "
             "admin URL, e.g. turnout top http://127.0.0.1:8081")
    return url


def _watch(urls: Sequence[str], interval: float, timeout: float) -> None:
    """Scrape every `interval` seconds and redraw until Ctrl-C."""
    previous: list[Scrape | None] = [None] * len(urls)
    current = scrape_all(urls, timeout)
    try:
        with Live(_render(top_view(list(zip(previous, current, strict=True))), interval),
                  console=console, auto_refresh=False) as live:
            due = time.monotonic()
            while True:
                due += interval
                time.sleep(max(0.0, due - time.monotonic()))
                previous, current = list(current), scrape_all(urls, timeout)
                live.update(_render(top_view(list(zip(previous, current, strict=True))), interval),
                            refresh=True)
    except KeyboardInterrupt:
        return


def _render(view: TopView, interval: float) -> Group:
    lines: list[Text | Table] = [_proxy_line(line) for line in view.proxies]
    table = Table(title=f"operations (summed over {len(view.proxies)} "
                        f"prox{'y' if len(view.proxies) == 1 else 'ies'}; 'now' is the last {interval:g}s)")
    for column, right in (("operation", False), ("mode", False), ("req/s", True), ("p50", True),
                          ("p99", True), ("errors\nnow/total", True), ("fallbacks\nnow/total", True),
                          ("shadow parity\nsame/compared", True)):
        table.add_column(column, justify="right" if right else "left",
                         no_wrap=column in ("operation", "p50", "p99"),
                         min_width=10 if column == "mode" else None)
    for row in view.operations:
        mode = escape(row.mode_text())
        table.add_row(
            escape(row.operation or "(unnamed)"), mode if row.agreed else f"[yellow]{mode}[/]",
            "-" if row.rate is None else f"{row.rate:.1f}", _ms(row.p50), _ms(row.p99),
            _now_total(row.errors, row.errors_total, alarm=True),
            _now_total(row.fallbacks, row.fallbacks_total, alarm=True), _parity(row),
        )
    if not view.operations:
        table.add_row("(no operation counted yet)", "", "", "", "", "", "", "")
    lines.append(table)
    return Group(*lines)


def _proxy_line(line: ProxyLine) -> Text:
    if not line.reachable:
        return Text.assemble((line.url, "bold"), "  ", ("unreachable", "bold red"), f": {line.error}")
    parts: list[str | tuple[str, str]] = [(line.url, "bold"), "  "]
    build = line.build
    if build:
        parts.append(" ".join(v for v in (build.get("engine"), build.get("version")) if v))
        if build.get("instance"):
            parts.append(f" ({build['instance']})")
        parts.append("  ")
    parts.append("routes v" + ("?" if line.table_version is None else f"{line.table_version:g}"))
    parts.append("  ")
    if line.ready is None:
        parts.append("ready ?")
    else:
        parts.append(("ready", "green") if line.ready else ("not ready", "bold yellow"))
    if line.queues:
        parts.append("  queues: " + ", ".join(f"{name} {value:g}" for name, value in sorted(line.queues.items())))
    if line.restarted:
        parts.append(("  restarted", "yellow"))
    return Text.assemble(*parts)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f">{seconds:g} s"


def _now_total(now: float | None, total: float, alarm: bool) -> str:
    text = f"{'-' if now is None else f'{now:g}'}/{total:g}"
    return f"[red]{text}[/]" if alarm and now else text


def _parity(row: OperationRow) -> str:
    if not row.shadow_compared:
        return "-"
    share = 100 * row.shadow_same / row.shadow_compared
    return f"{row.shadow_same:g}/{row.shadow_compared:g} ({share:.1f}%)"
