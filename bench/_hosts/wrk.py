"""The load generator of bench/hosts.py: wrk, one thread, posting the SOAP request.

wrk is C with an event loop and costs little per request, in a process of its own; a Python load
generator would take the CPU the proxy under test needs. A Lua script sets the POST body and the
SOAP headers, optionally stops after a number of answers, and reports the summary as one JSON
line that `run` reads back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WRK = shutil.which("wrk") or "/usr/bin/wrk"

_SCRIPT = """\
local f = assert(io.open("{body}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "{content_type}"
wrk.headers["SOAPAction"] = '{soapaction}'
local limit = {limit}
if limit > 0 then
  -- wrk runs for its whole -d even when a thread stops, so at the count this script reports
  -- what it counted and ends the process (no latency figures then)
  local answered, failed = 0, 0
  response = function(status, headers, body)
    answered = answered + 1
    if status > 399 then failed = failed + 1 end
    if answered >= limit then
      io.write(string.format('WRKCOUNT {{"requests":%d,"status":%d}}\\n', answered, failed))
      io.stdout:flush()
      os.exit(0)
    end
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"connect":%.0f,"read":%.0f,' ..
    '"write":%.0f,"status":%.0f,"timeout":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,' ..
    '"max_us":%.0f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
"""


def available() -> bool:
    return Path(WRK).is_file()


def write_script(directory: Path, body: bytes, content_type: str, soapaction: str,
                 limit: int = 0) -> Path:
    """The Lua script posting `body`; with `limit`, wrk stops after that many answers."""
    body_file = directory / "request.xml"
    body_file.write_bytes(body)
    script = directory / (f"post-{limit}.lua" if limit else "post.lua")
    script.write_text(_SCRIPT.format(body=body_file, content_type=content_type,
                                     soapaction=soapaction, limit=int(limit)))
    return script


@dataclass(frozen=True)
class WrkResult:
    requests: int  # answers read, whatever their status
    seconds: float
    errors_status: int  # answers other than 2xx/3xx
    errors_socket: int  # connect, read, write errors and timeouts
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def ok(self) -> int:
        return self.requests - self.errors_status

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def start(url: str, script: Path, connections: int, seconds: float,
          timeout: float = 10.0) -> subprocess.Popen[str]:
    """wrk running against `url` (-t1); read its answer with `finish`."""
    argv = [WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout:g}s", "-s", str(script), url]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def finish(process: subprocess.Popen[str], seconds: float = 0.0) -> WrkResult:
    """wrk's summary; a count-limited run has only its counts, and `seconds` as timed outside."""
    out, err = process.communicate()
    for line in out.splitlines():
        if line.startswith("WRKCOUNT "):
            data = json.loads(line[len("WRKCOUNT "):])
            nan = float("nan")
            return WrkResult(int(data["requests"]), seconds, int(data["status"]), 0, nan, nan, nan, nan)
        if line.startswith("WRKJSON "):
            data = json.loads(line[len("WRKJSON "):])
            return WrkResult(
                requests=int(data["requests"]), seconds=data["duration_us"] / 1e6,
                errors_status=int(data["status"]),
                errors_socket=int(data["connect"] + data["read"] + data["write"] + data["timeout"]),
                p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000,
                p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000,
            )
    raise RuntimeError(f"wrk gave no summary (exit {process.returncode}): {out[-500:]} {err[-500:]}")


def run(url: str, script: Path, connections: int, seconds: float,
        while_running: Callable[[], None] | None = None, every: float = 0.5) -> WrkResult:
    """One wrk run; `while_running` is called every `every` seconds until it ends."""
    started = time.monotonic()
    process = start(url, script, connections, seconds)
    try:
        if while_running is not None:
            while process.poll() is None:
                while_running()
                try:
                    process.wait(every)
                except subprocess.TimeoutExpired:
                    pass
        process.wait()
        return finish(process, time.monotonic() - started)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
