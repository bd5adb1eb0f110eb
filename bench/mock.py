"""bench/mock.py: the virtual bus (`turnout mock legacy`) against the demo bus, in one run.

Every part is its own process: the backend (`turnout demo legacy --no-auth`, or `turnout mock
legacy recordings --latency none`), a `turnout proxy` in front of each (the demo's config, every
route legacy, no recording), and the load generator (this file with `--load`, aiohttp, N
requests C at a time). The request is the golden set's recorded `GetCrimeReport` of seeded
crime CR/2026/000101: both backends answer it (the mock from its recording, the bus from its
store). Measured per backend, directly and through the proxy, in alternating rounds:

- requests per second, as the load generator saw them;
- CPU per request of the backend process alone (user + system from /proc, through psutil,
  read before and after the round).

Ratios are the mock's over the bus's, from the same run. Usage:

    .venv/bin/python bench/mock.py [--requests 3000] [--concurrency 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TURNOUT = [sys.executable, "-c", "from turnout.cli import main; main()"]
GOLDEN = ROOT / "recordings"
DEMO = ROOT / "turnout" / "demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(args: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args[3:5]} exited: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args[3:5]} did not listen")


def _request() -> tuple[bytes, dict[str, str]]:
    from turnout.recording import RecordingStore

    for exchange in RecordingStore(GOLDEN).iter_exchanges():
        if (exchange.operation is not None and exchange.operation.key == "/cris GetCrimeReport"
                and b"CR/2026/000101" in exchange.request.body):
            return exchange.request.body, {"Content-Type": "text/xml; charset=utf-8",
                                           "SOAPAction": f'"{exchange.action}"'}
    raise RuntimeError("no recorded GetCrimeReport of CR/2026/000101 in recordings/")


def _load(url: str, requests: int, concurrency: int) -> dict[str, float]:
    """Runs in a process of its own (`--load`): the generator."""
    from bench._load import run_load

    body, headers = _request()
    result = run_load("load", url, body, headers, requests, concurrency)
    return {"rps": result.rps, "p50": result.p50, "p99": result.p99, "errors": result.errors}


def _measure(url: str, backend: psutil.Process, requests: int, concurrency: int) -> dict[str, float]:
    before = backend.cpu_times()
    done = subprocess.run([sys.executable, __file__, "--load", url, "--requests", str(requests),
                           "--concurrency", str(concurrency)], capture_output=True, text=True,
                          check=True)
    after = backend.cpu_times()
    result: dict[str, float] = json.loads(done.stdout)
    cpu = (after.user + after.system) - (before.user + before.system)
    result["cpu_us_per_request"] = cpu / requests * 1e6
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        sys.stdout.write(json.dumps(_load(args.load, args.requests, args.concurrency)))
        return 0
    from turnout.config import YamlEditor
    from turnout.demo.config import write_demo_config

    work = Path(tempfile.mkdtemp(prefix="turnout-bench-mock-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        targets: dict[str, tuple[str, str, psutil.Process]] = {}
        for name, command in (
            ("demo bus", ["demo", "legacy", "--no-auth"]),
            ("virtual bus", ["mock", "legacy", str(GOLDEN), "--wsdl", str(DEMO / "wsdl"),
                             "--config", str(DEMO / "turnout.yaml"), "--latency", "none"]),
        ):
            port = _free_port()
            backend = _start([*TURNOUT, *command, "--port", str(port)], port,
                             work / f"{command[0]}.log")
            processes.append(backend)
            url = f"http://127.0.0.1:{port}"
            config = write_demo_config(work / command[0], url, "http://127.0.0.1:9",
                                       work / command[0] / "rec", authenticate=False)
            editor = YamlEditor(config.read_text(encoding="utf-8"))
            del editor.doc["recordings"]["dir"]  # no recording: the backends are measured
            config.write_text(editor.text(), encoding="utf-8")
            proxy_port = _free_port()
            proxy = _start([*TURNOUT, "proxy", "--config", str(config), "--port", str(proxy_port)],
                           proxy_port, work / f"proxy-{command[0]}.log")
            processes.append(proxy)
            targets[name] = (f"{url}/cris", f"http://127.0.0.1:{proxy_port}/cris",
                             psutil.Process(backend.pid))
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_number in range(args.rounds):
            for name, (direct, proxied, backend) in targets.items():
                for path, url in (("direct", direct), ("through the proxy", proxied)):
                    measured = _measure(url, backend, args.requests, args.concurrency)
                    results.setdefault((name, path), []).append(measured)
                    sys.stderr.write(f"round {round_number + 1}: {name}, {path}: "
                                     f"{measured['rps']:.0f} req/s\n")
        lines = [f"{args.requests} requests x {args.rounds} rounds, {args.concurrency} at a time; "
                 "medians of the rounds",
                 f"{'backend':<12} {'path':<18} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
                 f"{'errors':>6} {'backend CPU us/req':>18}"]
        median: dict[tuple[str, str], dict[str, float]] = {}
        for (name, path), rows in results.items():
            median[(name, path)] = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
            m = median[(name, path)]
            lines.append(f"{name:<12} {path:<18} {m['rps']:>7.0f} {m['p50']:>7.2f} {m['p99']:>7.2f} "
                         f"{m['errors']:>6.0f} {m['cpu_us_per_request']:>18.0f}")
        for path in ("direct", "through the proxy"):
            mock, bus = median[("virtual bus", path)], median[("demo bus", path)]
            lines.append(f"virtual / demo bus, {path}: req/s x{mock['rps'] / bus['rps']:.2f}, "
                         f"backend CPU per request x"
                         f"{mock['cpu_us_per_request'] / bus['cpu_us_per_request']:.2f}")
        sys.stdout.write("\n".join(lines) + "\n")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
