"""Proxy hosts side by side: what each costs in CPU per request, every part in its own process.

    .venv/bin/python bench/hosts.py [--quick] [--sizes 2,20,200] [--connections 1,16,64]
        [--duration 5] [--rounds 3] [--engines mitmproxy,fast] [--modes ...]
        [--soak] [--rss] [--grid] [--turnout-src DIR] [--json FILE]

On loopback, each part a process of its own: wrk (-t1, a Lua script posting a ~1.5 KB
VehicleEnquiry with its SOAP headers), a minimal SOAP backend answering a fixed 2, 20 or 200 KB
envelope (bench/_hosts/backend.py), a JSON backend for translator modes, and one proxy per row:

  nginx                 Debian's nginx, proxy_pass to a keepalive upstream (skipped if absent)
  plain                 bench/_plain_proxy.py: aiohttp + uvloop, pooled client, no SOAP work
  mitmdump              mitmdump --mode reverse:BUS -q, no addons
  Turnout ENGINE, MODE  turnout proxy --config FILE [--engine ENGINE], a turnout.yaml made
                        from the demo's (redaction rules, translators, compare rules); modes:
                        legacy (not recording), record, translator, translator+record,
                        shadow+record (and shadow, on request)

Per row and run: the CPU time (user + system, /proc) of the serving process and of its whole
tree (Turnout's diff worker, a writer process), read before a fixed-length wrk run and after the
proxy is idle again (its CPU still for 0.5 s, bounded by --settle-bound), so queued recording
and shadow work is counted; divided by the answers wrk got. Also req/s, p50/p99 from wrk, and
the most RSS seen during the run. Rounds are interleaved (every row, then every row again) and
each figure is the median of the rounds; ratios are to the plain aiohttp proxy in the same cell.
The machine may be busy with other work: read the ratios.

The grid: every answer size x every connection count. Translator rows run at the first size
only (their answer comes from the JSON service, whatever the bus would have said).

  --soak   Turnout recording, 60 s at 64 connections (--soak-seconds, --soak-connections): the
           answers wrk got against the recordings on disk at +0, +1, +2 and +5 s after the load
  --rss    Turnout recording, 100,000 requests (--rss-requests) at 16 connections: RSS of the
           proxy (and with children) sampled every second; first, max and last
  With --soak or --rss the grid runs only if --grid is given too.

`--engines` lists Turnout's hosts; until `turnout proxy --help` offers `--engine`, Turnout runs
without the flag (its mitmproxy host) and other engines are skipped with a note. With
`--turnout-src DIR`, Turnout runs from that checkout (PYTHONPATH=DIR), e.g. a `git archive` of
a commit, while others change the working tree. Every process started is stopped at the end,
on an error or on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hosts import wrk  # noqa: E402
from _hosts.cpu import usage, wait_idle  # noqa: E402
from _hosts.envelopes import CONTENT_TYPE, PATH, REQUEST, SOAPACTION, answer  # noqa: E402
from _hosts.measure import (  # noqa: E402
    MB,
    SOAK_CHECKS,
    RssResult,
    Sample,
    SoakResult,
    Summary,
    counter_deltas,
    measure,
    summarise,
)
from _hosts.procs import Interrupted, Processes, free_port, stop_on_signals, wait_serving  # noqa: E402
from _hosts.report import Cell, cell_table, grid_table, rss_table, soak_table  # noqa: E402
from _hosts.targets import (  # noqa: E402
    BENCH,
    DEFAULT_MODES,
    HEADERS,
    MODES,
    REFERENCES,
    Launcher,
    Row,
    Running,
    clear_recordings,
    count_recordings,
    mitmdump_available,
    nginx_available,
    reference_rows,
    turnout_help,
    turnout_imported_from,
    turnout_rows,
)

REPO = BENCH.parent


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"give positive numbers: {text!r}")
    return values


def name_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 KB, 16 connections, 2 s, one round (unless given)")
    parser.add_argument("--sizes", type=int_list, help="answer sizes in KB (default 2,20,200)")
    parser.add_argument("--connections", type=int_list, help="wrk connections (default 1,16,64)")
    parser.add_argument("--duration", type=float, help="seconds of each wrk run (default 5)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds, medians taken (default 3)")
    parser.add_argument("--engines", type=name_list, default=["mitmproxy", "fast"],
                        help="Turnout hosts, for `turnout proxy --engine` (default mitmproxy,fast)")
    parser.add_argument("--modes", type=name_list, default=list(DEFAULT_MODES),
                        help=f"Turnout modes, of {', '.join(MODES)} (default {','.join(DEFAULT_MODES)})")
    parser.add_argument("--references", type=name_list, default=list(REFERENCES),
                        help="reference rows (default nginx,plain,mitmdump)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    parser.add_argument("--settle-bound", type=float, default=60.0,
                        help="most seconds to wait for a proxy to be idle after the load")
    parser.add_argument("--grid", action="store_true", help="run the grid as well as --soak/--rss")
    parser.add_argument("--soak", action="store_true", help="recording completeness under load")
    parser.add_argument("--soak-seconds", type=float, default=60.0)
    parser.add_argument("--soak-connections", type=int, default=64)
    parser.add_argument("--rss", action="store_true", help="RSS over a bounded run with recording")
    parser.add_argument("--rss-requests", type=int, default=100_000)
    parser.add_argument("--rss-connections", type=int, default=16)
    parser.add_argument("--turnout-src", type=Path, help="run Turnout from this checkout")
    parser.add_argument("--json", type=Path, help="write every sample to this file as well")
    args = parser.parse_args()
    args.sizes = args.sizes or ([2] if args.quick else [2, 20, 200])
    args.connections = args.connections or ([16] if args.quick else [1, 16, 64])
    args.duration = args.duration or (2.0 if args.quick else 5.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.quick:
        args.soak_seconds = min(args.soak_seconds, 10.0)
        args.rss_requests = min(args.rss_requests, 5_000)
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        parser.error(f"unknown modes: {', '.join(unknown)} (known: {', '.join(MODES)})")
    unknown = [r for r in args.references if r not in REFERENCES]
    if unknown:
        parser.error(f"unknown references: {', '.join(unknown)} (known: {', '.join(REFERENCES)})")
    if "plain" not in args.references:
        parser.error("the plain aiohttp proxy is the yardstick of every ratio: keep it in --references")
    if args.turnout_src is not None:
        args.turnout_src = args.turnout_src.resolve()
        if not (args.turnout_src / "turnout" / "__init__.py").is_file():
            parser.error(f"{args.turnout_src} holds no turnout package")
    args.run_grid = args.grid or not (args.soak or args.rss)
    return args


class Bench:
    """The processes, the rows and what they measured, for one run of this script."""

    def __init__(self, args: argparse.Namespace, workdir: Path, procs: Processes) -> None:
        self.args = args
        self.workdir = workdir
        self.procs = procs
        self.notes: list[str] = []
        self.samples: list[Sample] = []
        self.grid_results: dict[Cell, dict[str, Summary]] = {}
        self.soak_results: list[SoakResult] = []
        self.rss_results: list[RssResult] = []
        self.interrupted = ""
        self.loads: list[float] = []
        source = args.turnout_src or REPO
        self.turnout_source = source
        self.turnout_env = dict(os.environ)
        if args.turnout_src is not None:
            self.turnout_env["PYTHONPATH"] = str(args.turnout_src)
        self.script = wrk.write_script(workdir, REQUEST, CONTENT_TYPE, SOAPACTION)
        help_text = turnout_help(sys.executable, self.turnout_env, workdir)
        self.engine_flag = "--engine" in help_text
        self.engines: list[str] = []
        for engine in args.engines:
            if self.engine_flag or engine == "mitmproxy":
                self.engines.append(engine)
            else:
                self.notes.append(f"Turnout engine `{engine}` skipped: `turnout proxy --help` offers no "
                                  f"--engine yet.")
        if not self.engine_flag and "mitmproxy" in self.engines:
            self.notes.append("`turnout proxy` has no --engine yet: the Turnout rows are its mitmproxy "
                              "host, started without the flag.")
        references = list(args.references)
        if "nginx" in references and not nginx_available():
            references.remove("nginx")
            self.notes.append("nginx row skipped: /usr/sbin/nginx is not installed (apt-get install nginx).")
        if "mitmdump" in references and not mitmdump_available(sys.executable):
            references.remove("mitmdump")
            self.notes.append("mitmdump row skipped: no mitmdump beside this Python.")
        self.references = reference_rows(tuple(references))
        self.turnout = turnout_rows(self.engines, args.modes, self.engine_flag)
        self.imported_from = turnout_imported_from(sys.executable, self.turnout_env, workdir)
        self.json_url = self._start_backend("json", ["json"])

    # --- processes -------------------------------------------------------------------------

    def _start_backend(self, name: str, argv: list[str]) -> str:
        port = free_port()
        process = self.procs.start(f"{name}-{port}", [sys.executable, str(BENCH / "_hosts" / "backend.py"),
                                                       *argv, "--port", str(port)], cwd=self.workdir)
        url = f"http://127.0.0.1:{port}"
        probe = PATH if argv[0] == "soap" else "/vehicles/AL93VHU"
        wait_serving(url + probe, REQUEST, HEADERS, process, f"the {name} backend")
        return url

    def start_bus(self, size: int) -> tuple[str, Launcher]:
        bus_url = self._start_backend(f"bus-{size}kb", ["soap", "--size", str(size)])
        launcher = Launcher(self.procs, self.workdir, bus_url, self.json_url,
                            turnout_env=self.turnout_env,
                            turnout_demo=self.turnout_source / "turnout" / "demo",
                            engine_flag=self.engine_flag)
        return bus_url, launcher

    def start_rows(self, launcher: Launcher, rows: list[Row], size: int) -> list[Running]:
        started = []
        for row in rows:
            try:
                started.append(launcher.start(row))
            except (RuntimeError, OSError) as exc:
                tail = self.procs.log_tail(f"{row.key}-")  # the latest log of this row
                self.notes.append(f"{row.label} at {size} KB did not start: {exc}")
                progress(f"!! {row.label} did not start: {exc}\n{tail}")
        for running in started:
            self.warm_up(running)
        return started

    def warm_up(self, running: Running) -> None:
        if self.args.warmup > 0:
            wrk.run(running.url, self.script, 16, self.args.warmup)
        wait_idle(running.root, running.serving, bound=self.args.settle_bound)
        clear_recordings(running.record_dir)

    def stop_rows(self, started: list[Running]) -> None:
        for running in started:
            self.procs.stop(running.process)

    def load_average(self) -> None:
        try:
            self.loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            pass

    # --- the grid --------------------------------------------------------------------------

    def save(self) -> None:
        """Everything measured so far, to --json: a run cut short keeps what it measured."""
        if self.args.json is None:
            return
        self.args.json.write_text(json.dumps({
            "argv": sys.argv[1:], "notes": self.notes, "interrupted": self.interrupted,
            "samples": [asdict(s) for s in self.samples],
            "soak": [asdict(s) for s in self.soak_results], "rss": [asdict(r) for r in self.rss_results],
        }, indent=1))

    def grid(self) -> None:
        """Every size x every connection count, rounds interleaved; into `grid_results`."""
        args = self.args
        results = self.grid_results
        for index, size in enumerate(args.sizes):
            rows = self.references + [r for r in self.turnout if r.uses_bus_answer or index == 0]
            _, launcher = self.start_bus(size)
            started = self.start_rows(launcher, rows, size)
            try:
                for connections in args.connections:
                    cell = Cell(size, connections)
                    samples: dict[str, list[Sample]] = {}
                    for round_no in range(1, args.rounds + 1):
                        for running in list(started):
                            self.load_average()
                            try:
                                sample = measure(running, self.script, size=size, connections=connections,
                                                 seconds=args.duration, round_no=round_no,
                                                 settle_bound=args.settle_bound)
                            except (RuntimeError, OSError) as exc:
                                self.notes.append(f"{running.row.label} failed at {size} KB, "
                                                  f"{connections} connections: {exc}")
                                progress(f"!! {running.row.label}: {exc}")
                                started.remove(running)
                                continue
                            self.samples.append(sample)
                            samples.setdefault(running.row.key, []).append(sample)
                            results[cell] = {key: summarise(s) for key, s in samples.items()}
                            self.save()
                            progress(f"[{size} KB, {connections} c, round {round_no}] {running.row.label}: "
                                     f"{sample.total_us or 0:,.0f} µs/req with children, "
                                     f"{sample.rps:,.0f} req/s, idle {sample.settle_s:.1f} s after")
            finally:
                self.stop_rows(started)

    # --- soak: is every exchange on disk soon after the load? ------------------------------

    def recording_rows(self) -> list[Row]:
        return turnout_rows(self.engines, ["record"], self.engine_flag)

    def soak(self) -> None:
        """Recording completeness after a long run at many connections; into `soak_results`."""
        args = self.args
        out = self.soak_results
        _, launcher = self.start_bus(2)
        for row in self.recording_rows():
            started = self.start_rows(launcher, [row], 2)
            if not started:
                continue
            try:
                progress(f"[soak] {row.label}: {args.soak_seconds:g} s at {args.soak_connections} connections")
                result = self._soak_one(started[0])
                out.append(result)
                self.save()
                progress(f"[soak] {row.label}: {result.answered:,} answered; on disk {result.on_disk}; "
                         f"at idle {result.final:,}")
            finally:
                self.stop_rows(started)

    def _soak_one(self, running: Running) -> SoakResult:
        args = self.args
        before = running.counters()
        calls_before = running.backend_calls()
        result = wrk.run(running.url, self.script, args.soak_connections, args.soak_seconds)
        ended = time.monotonic()
        on_disk: dict[float, int] = {}
        for at in SOAK_CHECKS:
            time.sleep(max(0.0, ended + at - time.monotonic()))
            on_disk[at] = count_recordings(running.record_dir)
        caught_up = None
        while time.monotonic() - ended < args.settle_bound:
            if count_recordings(running.record_dir) >= result.ok:
                caught_up = time.monotonic() - ended
                break
            time.sleep(0.25)
        settle, _ = wait_idle(running.root, running.serving, bound=args.settle_bound)
        calls_after = running.backend_calls()
        return SoakResult(
            label=running.row.label, answered=result.ok, rps=result.rps,
            errors=result.errors_status + result.errors_socket,
            forwarded=(calls_after - calls_before if calls_before is not None and calls_after is not None
                       else None),
            on_disk=on_disk, caught_up_s=caught_up, idle_after_s=settle,
            final=count_recordings(running.record_dir),
            counters=counter_deltas(before, running.counters()),
        )

    # --- RSS over a bounded run ------------------------------------------------------------

    def rss(self) -> None:
        """RSS over a bounded run with recording; into `rss_results`."""
        args = self.args
        out = self.rss_results
        script = wrk.write_script(self.workdir, REQUEST, CONTENT_TYPE, SOAPACTION, limit=args.rss_requests)
        _, launcher = self.start_bus(2)
        for row in self.recording_rows():
            started = self.start_rows(launcher, [row], 2)
            if not started:
                continue
            try:
                progress(f"[rss] {row.label}: {args.rss_requests:,} requests at {args.rss_connections} connections")
                result = self._rss_one(started[0], script)
                out.append(result)
                self.save()
                progress(f"[rss] {row.label}: {result.answered:,} answered in {result.seconds:.0f} s")
            finally:
                self.stop_rows(started)

    def _rss_one(self, running: Running, script: Path) -> RssResult:
        args = self.args
        idle = usage(running.root, running.serving)
        series: list[tuple[float, float, float]] = []
        began = time.monotonic()

        def sample() -> None:
            now = usage(running.root, running.serving)
            series.append((time.monotonic() - began, now.serving_rss / MB, now.total_rss / MB))

        result = wrk.run(running.url, script, args.rss_connections, 3600, while_running=sample, every=1.0)
        sample()
        settle, _ = wait_idle(running.root, running.serving, bound=args.settle_bound)
        after = usage(running.root, running.serving)
        loaded = [s for s in series if s[0] >= 1.0] or series
        return RssResult(
            label=running.row.label, answered=result.ok, seconds=result.seconds,
            before=(idle.serving_rss / MB, idle.total_rss / MB), first=loaded[0][1:],
            most=(max(s[1] for s in series), max(s[2] for s in series)), last=series[-1][1:],
            idle=(after.serving_rss / MB, after.total_rss / MB), idle_after_s=settle,
            recorded=count_recordings(running.record_dir), series=series,
        )


def describe_source(source: Path) -> str:
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--", "turnout"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(source)
    return f"{source} at {commit}" + (" with uncommitted changes under turnout/" if dirty else "")


def render(bench: Bench, started_at: float) -> str:
    args = bench.args
    grid, soak, rss = bench.grid_results, bench.soak_results, bench.rss_results
    rows = bench.references + bench.turnout
    lines = [
        "### Proxy hosts side by side (`bench/hosts.py`)",
        "",
        f"`{' '.join(['bench/hosts.py', *sys.argv[1:]])}`: wrk -t1 posting a {len(REQUEST):,}-byte "
        f"VehicleEnquiry; answers of {', '.join(f'{s} KB' for s in args.sizes)} "
        f"({', '.join(f'{len(answer(s)):,}' for s in args.sizes)} bytes); {args.duration:g} s per run, "
        f"{args.rounds} interleaved round(s), medians; {os.cpu_count()} cores; Turnout from "
        f"{describe_source(bench.turnout_source)} (imported from {bench.imported_from}).",
    ]
    if bench.loads:
        lines.append(f"Load average (1 min) before the runs: {min(bench.loads):.1f} to {max(bench.loads):.1f}: "
                     "the machine is shared, read the ratios.")
    if bench.interrupted:
        lines += ["", f"**Interrupted ({bench.interrupted}): what follows is what was measured before.**"]
    if bench.notes:
        lines += [""] + [f"- {note}" for note in bench.notes]
    if grid:
        for cell, summaries in grid.items():
            lines += ["", cell_table(cell.size, cell.connections, rows, summaries)]
        if len(grid) > 1:
            lines += ["", grid_table(list(grid), rows, grid)]
    if soak:
        lines += ["", soak_table(soak, args.soak_seconds, args.soak_connections)]
    if rss:
        lines += ["", rss_table(rss, args.rss_requests, args.rss_connections)]
    lines += ["", f"Whole run: {time.monotonic() - started_at:.0f} s."]
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    if not wrk.available():
        print("bench/hosts.py needs wrk (Debian: apt-get install wrk); it is not installed, so nothing "
              "was measured.")
        return 0
    started_at = time.monotonic()
    stop_on_signals()
    with tempfile.TemporaryDirectory(prefix="turnout-bench-hosts-") as tmp:
        (Path(tmp) / "logs").mkdir()
        procs = Processes(Path(tmp) / "logs")
        bench = None
        try:
            bench = Bench(args, Path(tmp), procs)
            if args.run_grid:
                bench.grid()
            if args.soak:
                bench.soak()
            if args.rss:
                bench.rss()
        except (KeyboardInterrupt, Interrupted) as exc:
            progress(f"interrupted ({exc!r}): stopping every process started")
            if bench is None:
                return 130
            bench.interrupted = repr(exc)
        finally:
            procs.stop_all()
    bench.save()
    print(render(bench, started_at))
    return 130 if bench.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
