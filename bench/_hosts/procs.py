"""Processes of bench/hosts.py: start each server in its own session, know when it serves, and
stop every one of them at the end, on an error or on Ctrl-C.

Each child gets its own process group (so its own children, such as Turnout's diff worker, go
with it) and, on Linux, a parent-death signal, so even a bench killed outright leaves nothing
running. Only the processes started here are ever signalled, by their group id.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1
#: loopback only: never through a proxy the environment may name
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


class Processes:
    """The servers this bench started; `stop_all` ends them (TERM, then KILL after a grace)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, name: str, argv: Sequence[str], *, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `argv` in a new session, its output in logs/NAME.log."""
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
        )
        self.running.append((name, process, log))
        return process

    def log_tail(self, prefix: str, lines: int = 15) -> str:
        """The last lines of the newest log whose name starts with `prefix`."""
        logs = sorted(self.logs.glob(f"{prefix}*.log"), key=lambda p: p.stat().st_mtime)
        if not logs:
            return ""
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:])

    def stop(self, process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
        """End one process and its group."""
        self._stop([entry for entry in self.running if entry[1] is process], grace)

    def stop_all(self, grace: float = 15.0) -> None:
        self._stop(list(self.running), grace)

    def _stop(self, entries: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]], grace: float) -> None:
        for _, process, _ in entries:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, process, log in entries:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)  # what is left of the group, if anything
            if process.poll() is None:
                process.wait()
            log.close()
            self.running = [e for e in self.running if e[1] is not process]


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # start_new_session: the group id is the child's pid
    except (ProcessLookupError, PermissionError):
        pass


def wait_serving(url: str, body: bytes, headers: dict[str, str], process: subprocess.Popen[bytes],
                 what: str, timeout: float = 60.0) -> None:
    """Return once a POST of `body` to `url` is answered 200; raise if the process exits first
    or the timeout passes."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before serving")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=5) as reply:
                reply.read()
                if reply.status == 200:
                    return
                last = f"HTTP {reply.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300]!r}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer 200 at {url} within {timeout:g} s ({last})")


class Interrupted(BaseException):
    """SIGTERM or SIGHUP to the bench: unwind as Ctrl-C does, so every child is stopped."""


def stop_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into an exception, so `finally` blocks run."""
    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
