"""Interop fixtures: real third-party SOAP servers and clients on either side of a real proxy.

Everything here is black-box: the proxy is `turnout proxy --config turnout.yaml` in its own
process, and the tests see only HTTP in and out and the files it writes. The servers:

- spyne (SOAP 1.1 document/literal) served by waitress in its own process, plain and behind a
  gzip middleware;
- node-soap (`node/server.js`), which frames its answers with Transfer-Encoding: chunked;
- a modern JSON service (Starlette on uvicorn) for the shadow translator.

Each server, and each proxy in front of one, starts once per session and is always stopped.

The node parts need `npm ci` in tests/interop/node (`.ci/run` does it). Without node_modules the
tests that use node skip, except under CI=true, where they fail: CI must have them.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import uvicorn
from ruamel.yaml import YAML

HERE = Path(__file__).parent
REPO = HERE.parent.parent
NODE_DIR = HERE / "node"
NODE_MODULES = NODE_DIR / "node_modules"
TRANSLATORS = HERE / "translators"
LOOPBACK = "127.0.0.1"
#: the service path every server answers on; the operation key is "/records GetRecord"
SERVICE_PATH = "/records"
OPERATION = "/records GetRecord"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "interop: against real third-party SOAP stacks (spyne, node-soap, zeep, suds); "
        "needs `npm ci` in tests/interop/node",
    )
    # spyne 2.14 imports cgi (deprecated since 3.11); not ours to fix
    config.addinivalue_line("filterwarnings", "ignore:'cgi' is deprecated:DeprecationWarning")


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, alive: Any = None) -> None:
    """Until something accepts on `port`; `alive()` returning False ends the wait early."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.2).close()
            return
        except OSError:
            if alive is not None and not alive():
                raise RuntimeError(f"the process meant to listen on {port} exited")
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


# --- node: skip without node_modules, except under CI ------------------------------------------


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with tests/interop/node installed; skips (fails under CI) without."""
    missing = []
    executable = shutil.which("node")
    if executable is None:
        missing.append("node is not on PATH")
    if not (NODE_MODULES / "soap").is_dir():
        missing.append(f"{NODE_MODULES.relative_to(REPO)} is absent "
                       "(run `npm ci --no-audit --no-fund` in tests/interop/node, as .ci/run does)")
    if missing:
        message = "node-soap interop: " + "; ".join(missing)
        if under_ci():
            pytest.fail(message + " - under CI=true this is a failure, not a skip", pytrace=False)
        pytest.skip(message)
    assert executable is not None
    return executable


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    """A running server: its base URL, and the URLs of the records service on it."""

    name: str
    port: int

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.base + SERVICE_PATH

    @property
    def wsdl(self) -> str:
        return self.endpoint + "?wsdl"


class UvicornThread:
    """An ASGI app served by uvicorn in a daemon thread, on a socket we bound (so a known port)."""

    def __init__(self, app: Any) -> None:
        self.socket = socket.socket()
        self.socket.bind((LOOPBACK, 0))
        self.port = int(self.socket.getsockname()[1])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name="interop-uvicorn", daemon=True
        )

    def __enter__(self) -> "UvicornThread":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.socket.close()


def serve(command: list[str], cwd: Path, name: str, log: Path) -> Iterator[Server]:
    """Run a server process that prints `listening <port>` once ready; stop it afterwards."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith("listening "):
            raise RuntimeError(f"{name} did not start: {line!r} {log.read_text(errors='replace')}")
        port = int(line.split()[1])
        wait_for_port(port, 5, alive=lambda: process.poll() is None)
        yield Server(name, port)
    finally:
        stop_process(process, signal.SIGTERM, 5)


@pytest.fixture(scope="session")
def spyne_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The spyne service (waitress, its own process), uncompressed whatever the client accepts."""
    log = tmp_path_factory.mktemp("spyne") / "server.log"
    yield from serve([sys.executable, "-m", "tests.interop.spyne_service"], REPO, "spyne", log)


@pytest.fixture(scope="session")
def spyne_gzip_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The spyne service behind a gzip middleware: gzipped answers to `Accept-Encoding: gzip`."""
    log = tmp_path_factory.mktemp("spyne-gzip") / "server.log"
    yield from serve([sys.executable, "-m", "tests.interop.spyne_service", "--gzip"], REPO, "spyne-gzip", log)


@pytest.fixture(scope="session")
def node_server(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """node/server.js: node-soap's own HTTP answers (chunked, Keep-Alive)."""
    log = tmp_path_factory.mktemp("node-server") / "server.log"
    yield from serve([node, str(NODE_DIR / "server.js"), "0"], NODE_DIR, "node-soap", log)


@pytest.fixture(scope="session")
def modern_service() -> Iterator[Server]:
    """The JSON service the shadow translator calls (same records, modern shape)."""
    from .modern_service import make_app

    with UvicornThread(make_app()) as served:
        yield Server("modern", served.port)


def stop_process(process: subprocess.Popen[bytes], how: int, timeout: float) -> int:
    """Signal a process we started and wait for it; SIGKILL if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return int(process.returncode)


# --- the proxy, as a process --------------------------------------------------------------------


def turnout_command() -> list[str]:
    """The `turnout` console script beside this interpreter (what users run)."""
    script = Path(sys.executable).parent / "turnout"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from turnout.cli import main; main()"]


@dataclass
class Proxy:
    """A running `turnout proxy --config` process and the files it reads and writes."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    config: Path
    log: Path
    record_dir: Path
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.base + SERVICE_PATH

    @property
    def wsdl(self) -> str:
        return self.endpoint + "?wsdl"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as operations would: in-flight requests, shadow runs and recordings finish."""
        return stop_process(self.process, signal.SIGTERM, timeout)


def start_proxy(directory: Path, upstream: str, **sections: Any) -> Proxy:
    """Write `directory/turnout.yaml` (listen, upstream, recordings, admin, plus `sections`) and
    start `turnout proxy --config` on it; returns once it accepts connections."""
    directory.mkdir(parents=True, exist_ok=True)
    port, admin = free_port(), free_port()
    settings: dict[str, Any] = {
        "listen": {"host": LOOPBACK, "port": port},
        "upstream": upstream,
        "recordings": {"dir": "recordings"},
        "admin": {"port": admin},
        **sections,
    }
    config = directory / "turnout.yaml"
    writer = YAML(typ="safe")
    writer.default_flow_style = False
    writer.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    writer.dump(settings, config)
    config.chmod(0o644)
    log = directory / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*turnout_command(), "proxy", "--config", str(config), "--unredacted"],  # fictional records
            cwd=directory, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
    proxy = Proxy(process, port, directory, config, log, directory / "recordings", settings)
    try:
        wait_for_port(port, 30, alive=lambda: process.poll() is None)
    except RuntimeError as exc:
        stop_process(process, signal.SIGKILL, 5)
        raise RuntimeError(f"turnout proxy did not start ({exc}):\n{proxy.output()}") from None
    return proxy


@pytest.fixture(scope="session")
def legacy_proxies(tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Iterator[dict[str, Proxy]]:
    """One pass-through proxy per upstream and host, started on first use, all stopped at the end."""
    proxies: dict[str, Proxy] = {}
    yield proxies
    for proxy in proxies.values():
        proxy.stop()


@pytest.fixture(scope="session")
def proxy_for(legacy_proxies: dict[str, Proxy], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`proxy_for(server)`: the proxy (every route legacy, recording) in front of `server`."""

    def get(server: Server) -> Proxy:
        if server.name not in legacy_proxies:
            directory = tmp_path_factory.mktemp(f"proxy-{server.name}")
            legacy_proxies[server.name] = start_proxy(directory, server.base)
        proxy = legacy_proxies[server.name]
        if proxy.process.poll() is not None:
            raise RuntimeError(f"the proxy in front of {server.name} died:\n{proxy.output()}")
        return proxy

    return get


# --- stacks: a server, and the proxy in front of it ---------------------------------------------


@dataclass
class Stack:
    """A SOAP server and the proxy in front of it: `where("direct")` or `where("proxy")`."""

    server: Server
    proxy: Proxy

    @property
    def name(self) -> str:
        return self.server.name

    def where(self, path: str) -> Server | Proxy:
        return self.server if path == "direct" else self.proxy


STACKS = ("spyne", "spyne-gzip", "node-soap")
_SERVER_FIXTURES = {"spyne": "spyne_server", "spyne-gzip": "spyne_gzip_server", "node-soap": "node_server"}


@pytest.fixture(scope="session", params=STACKS)
def stack(request: pytest.FixtureRequest, proxy_for: Any) -> Stack:
    server: Server = request.getfixturevalue(_SERVER_FIXTURES[request.param])
    return Stack(server, proxy_for(server))
