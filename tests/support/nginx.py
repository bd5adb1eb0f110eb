"""Debian's nginx as a real load balancer on loopback, started by a test with its own files.

Everything nginx writes (pid file, error log, temp dirs) lives under the test's directory, and it
runs in the foreground (`-p prefix -c conf -g 'daemon off;'`), so it is always stopped with the
test. Open-source nginx has no active health checks: a stopped upstream is found by a refused
connection, which `proxy_next_upstream error timeout` retries on the next one (for a POST too,
since nothing was sent). No upstream keep-alive: see docs/operations-instances.md.

Without nginx the tests that need it skip, except under CI=true, where they fail (.ci/run
installs it).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .proxy_process import free_port


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def require_nginx() -> str:
    """The nginx binary; skip the test without one (fail under CI=true)."""
    binary = nginx_binary()
    if binary is None:
        message = "nginx is not installed (Debian's package; .ci/run installs it)"
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


class Nginx:
    """nginx balancing round-robin over `upstreams` (loopback ports), listening on `port`."""

    def __init__(self, prefix: Path, upstreams: list[int]) -> None:
        self.binary = require_nginx()
        self.prefix = prefix
        self.upstreams = upstreams
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def config(self) -> str:
        p = self.prefix
        servers = "".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=1s;\n"
                          for port in self.upstreams)
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        return (
            f"{user}worker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            f"    client_body_temp_path {p}/body;\n    proxy_temp_path {p}/proxy;\n"
            f"    fastcgi_temp_path {p}/fastcgi;\n    uwsgi_temp_path {p}/uwsgi;\n"
            f"    scgi_temp_path {p}/scgi;\n"
            "    upstream turnout {\n" + servers + "    }\n"
            "    server {\n"
            f"        listen 127.0.0.1:{self.port};\n"
            "        location / {\n"
            "            proxy_pass http://turnout;\n"
            "            proxy_next_upstream error timeout;\n"
            "            proxy_connect_timeout 2s;\n"
            "            proxy_read_timeout 30s;\n"
            "            proxy_set_header Host $host;\n"
            "        }\n"
            "    }\n"
            "}\n"
        )

    def start(self, timeout: float = 10.0) -> Nginx:
        self.prefix.mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(self.config(), encoding="utf-8")
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=(self.prefix / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited {self.process.returncode}: {self.error_log}"
                                   f"{(self.prefix / 'stderr.log').read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not start: {self.error_log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
