"""The proxy as a real process, black-box: `turnout proxy --config FILE` on a free loopback port.

Tests that use this see only what a client, the bus and the disk see, so they keep guarding the
behaviour whatever the proxy's insides become (another host, another pipeline).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TURNOUT = [sys.executable, "-c", "from turnout.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProxyProcess:
    """`turnout proxy --config config` in a subprocess; its combined output in `self.log`."""

    def __init__(self, config: Path, port: int | None = None, extra: list[str] | None = None) -> None:
        self.config = config
        self._chosen_here = port is None
        self.port = port or free_port()
        self.extra = extra or []
        self.log_path = config.parent / f"proxy-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 30.0) -> "ProxyProcess":
        """Start the proxy and wait until *it* listens on its port. `free_port` only finds a port
        free a moment ago: under parallel test workers another process may take it first. A
        connect that succeeds is then someone else's listener, and our proxy exits on its bind;
        so the listener must be ours, and a port lost that way is traded for another (only when
        the port was chosen here)."""
        for attempt in range(3):
            out = self.log_path.open("wb")
            self.process = subprocess.Popen(
                [*TURNOUT, "proxy", "--config", str(self.config), "--port", str(self.port), *self.extra],
                stdout=out, stderr=subprocess.STDOUT, cwd=self.config.parent,
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    if self._chosen_here and attempt < 2 and "in use" in self.log.lower():
                        self.port = free_port()
                        self.log_path = self.config.parent / f"proxy-{self.port}.log"
                        break
                    raise RuntimeError(f"proxy exited {self.process.returncode}:\n{self.log}")
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    if _listens(self.process.pid, self.port):
                        return self
                except OSError:
                    pass
                time.sleep(0.1)
            else:
                break
        self.stop()
        raise RuntimeError(f"proxy did not start:\n{self.log}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signum)

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> "ProxyProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request(self, method: str, target: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            conn.close()


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send `data` on a new connection and read until the proxy closes it or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
                if _complete(out):
                    break
        except socket.timeout:
            pass
        return out


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def _listens(pid: int, port: int) -> bool:
    """Does process `pid` itself hold a listening socket on `port`?"""
    import psutil

    try:
        process = psutil.Process(pid)
        connections = (process.net_connections if hasattr(process, "net_connections")
                       else process.connections)(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections)
