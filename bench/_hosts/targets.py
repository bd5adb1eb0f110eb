"""The rows of bench/hosts.py: each proxy host, how it is started in its own process in front of
the backend, and which of its processes serves requests.

References: nginx (Debian's, a generated config with a keepalive upstream), the plain aiohttp +
uvloop proxy (bench/_plain_proxy.py) and raw mitmdump in reverse mode with no addons. Turnout:
`turnout proxy --config FILE [--engine E]` in each mode, with a turnout.yaml made from the demo's
own (its redaction rules, translators and compare rules; no identity section, as
`write_demo_config(..., authenticate=False)` writes it for an open bus), the route of
/pnc VehicleEnquiry set to the mode's, and an admin port to read the counters from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from ruamel.yaml import YAML

from .backend import COUNT_PATH
from .envelopes import CONTENT_TYPE, OPERATION, PATH, REQUEST, SOAPACTION
from .procs import Processes, free_port, wait_serving

BENCH = Path(__file__).resolve().parent.parent
NGINX = "/usr/sbin/nginx"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
HEADERS = {"Content-Type": CONTENT_TYPE, "SOAPAction": SOAPACTION}


@dataclass(frozen=True)
class Mode:
    """How Turnout is set up for a row: the route of the benched operation, and recording."""

    name: str
    label: str
    route: str  # legacy, translator or shadow
    record: bool

    @property
    def uses_bus_answer(self) -> bool:
        """A translator answers from the JSON service: the bus's answer size does not matter."""
        return self.route != "translator"


MODES = {m.name: m for m in (
    Mode("legacy", "not recording", "legacy", False),
    Mode("record", "recording with redaction", "legacy", True),
    Mode("translator", "translator", "translator", False),
    Mode("translator+record", "translator + recording", "translator", True),
    Mode("shadow", "shadow, not recording", "shadow", False),
    Mode("shadow+record", "shadow + recording", "shadow", True),
)}
DEFAULT_MODES = ("legacy", "record", "translator", "translator+record", "shadow+record")
REFERENCES = ("nginx", "plain", "mitmdump")


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    engine: str | None = None  # Turnout rows: the host engine
    mode: Mode | None = None  # Turnout rows: the mode

    @property
    def uses_bus_answer(self) -> bool:
        return self.mode is None or self.mode.uses_bus_answer

    @property
    def records(self) -> bool:
        return self.mode is not None and self.mode.record


def reference_rows(names: tuple[str, ...]) -> list[Row]:
    labels = {
        "nginx": "nginx (proxy_pass, keepalive upstream)",
        "plain": "plain aiohttp + uvloop proxy (no SOAP work)",
        "mitmdump": "mitmdump --mode reverse, no addons",
    }
    return [Row(name, labels[name]) for name in names]


def turnout_rows(engines: list[str], modes: list[str], engine_flag: bool) -> list[Row]:
    rows = []
    for engine in engines:
        host = f"Turnout {engine}" if engine_flag else "Turnout (mitmproxy host, no --engine yet)"
        for name in modes:
            mode = MODES[name]
            rows.append(Row(f"turnout-{engine}-{name}", f"{host}, {mode.label}", engine, mode))
    return rows


@dataclass
class Running:
    """A started row: where it listens and which processes are its own."""

    row: Row
    process: subprocess.Popen[bytes]
    url: str
    root: psutil.Process
    serving: Callable[[psutil.Process], psutil.Process] = field(default=lambda root: root)
    record_dir: Path | None = None
    admin_url: str | None = None
    log_name: str = ""
    #: the backend that sees one call per request this row handles: the bus, or for
    #: translator rows the JSON service
    backend_url: str = ""

    def backend_calls(self) -> int | None:
        """How many requests the row's backend has answered so far (None: it cannot say)."""
        try:
            with _OPENER.open(self.backend_url + COUNT_PATH, timeout=5) as reply:
                return int(reply.read())
        except (OSError, ValueError):
            return None

    def counters(self) -> dict[str, float]:
        """The proxy's counters from its admin endpoint, or {} when it has none."""
        if self.admin_url is None:
            return {}
        try:
            with _OPENER.open(self.admin_url + "/stats", timeout=5) as reply:
                data = json.load(reply)
        except (OSError, ValueError):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, (int, float))}


def _nginx_worker(root: psutil.Process) -> psutil.Process:
    try:
        children = root.children()
    except psutil.NoSuchProcess:
        return root
    return children[0] if children else root


@dataclass
class Launcher:
    """Starts rows in front of one bus; everything under `workdir`, every process in `procs`."""

    procs: Processes
    workdir: Path
    bus_url: str
    services_url: str
    python: str = sys.executable
    turnout_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    turnout_demo: Path = BENCH.parent / "turnout" / "demo"
    engine_flag: bool = False

    def start(self, row: Row) -> Running:
        port = free_port()
        name = f"{row.key}-{port}"
        if row.key == "nginx":
            process = self._nginx(port, name)
            running = Running(row, process, f"http://127.0.0.1:{port}{PATH}", psutil.Process(process.pid),
                              serving=_nginx_worker, log_name=name)
        elif row.key == "plain":
            process = self.procs.start(name, [self.python, str(BENCH / "_plain_proxy.py"), "--upstream",
                                              self.bus_url, "--port", str(port)], cwd=self.workdir)
            running = Running(row, process, f"http://127.0.0.1:{port}{PATH}", psutil.Process(process.pid),
                              log_name=name)
        elif row.key == "mitmdump":
            mitmdump = str(Path(self.python).with_name("mitmdump"))
            process = self.procs.start(name, [mitmdump, "--mode", f"reverse:{self.bus_url}", "-q",
                                              "--listen-host", "127.0.0.1", "--listen-port", str(port)],
                                       cwd=self.workdir)
            running = Running(row, process, f"http://127.0.0.1:{port}{PATH}", psutil.Process(process.pid),
                              log_name=name)
        else:
            running = self._turnout(row, port, name)
        running.backend_url = self.services_url if row.mode and row.mode.route == "translator" else self.bus_url
        wait_serving(running.url, REQUEST, HEADERS, running.process, row.label)
        return running

    def _nginx(self, port: int, name: str) -> subprocess.Popen[bytes]:
        prefix = self.workdir / name
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        upstream = self.bus_url.removeprefix("http://")
        conf = prefix / "nginx.conf"
        conf.write_text(f"""\
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    upstream bus {{
        server {upstream};
        keepalive 128;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        keepalive_requests 1000000;
        client_max_body_size 16m;
        client_body_buffer_size 64k;
        location / {{
            proxy_pass http://bus;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 16k;
            proxy_buffers 32 16k;
            proxy_max_temp_file_size 0;
        }}
    }}
}}
""")
        return self.procs.start(name, [NGINX, "-e", str(prefix / "logs" / "error.log"), "-p", str(prefix),
                                       "-c", str(conf)], cwd=self.workdir)

    def turnout_config(self, row: Row, port: int, admin_port: int) -> tuple[Path, Path | None]:
        """turnout.yaml for `row`: the demo's, pointed at the bench's backends."""
        assert row.mode is not None
        yaml = YAML(typ="rt")
        demo = self.turnout_demo
        doc = yaml.load((demo / "turnout.yaml").read_text(encoding="utf-8"))
        doc["upstream"] = self.bus_url
        doc["listen"]["port"] = port
        doc["translators"] = str(demo / doc["translators"])
        doc["compare"]["rules"] = str(demo / doc["compare"]["rules"])
        for service in doc["services"]:
            doc["services"][service] = self.services_url
        doc["admin"]["port"] = admin_port
        doc.pop("identity", None)  # the bench's bus and service are open (authenticate=False)
        redaction = doc["recordings"]["redaction"]
        redaction["key_file"] = str(demo / redaction["key_file"])
        record_dir = None
        if row.mode.record:
            record_dir = self.workdir / f"recordings-{row.key}"
            record_dir.mkdir(exist_ok=True)
            doc["recordings"]["dir"] = str(record_dir)
        else:
            doc["recordings"].pop("dir", None)
        doc["routes"][OPERATION] = {"mode": row.mode.route}
        out = StringIO()
        yaml.dump(doc, out)
        directory = self.workdir / f"config-{row.key}"
        directory.mkdir(exist_ok=True)
        path = directory / "turnout.yaml"
        path.write_text(out.getvalue(), encoding="utf-8")
        return path, record_dir

    def _turnout(self, row: Row, port: int, name: str) -> Running:
        admin_port = free_port()
        config, record_dir = self.turnout_config(row, port, admin_port)
        argv = [self.python, "-c", "import sys; from turnout.cli import main; sys.exit(main())",
                "proxy", "--config", str(config)]
        if self.engine_flag and row.engine:
            argv += ["--engine", row.engine]
        process = self.procs.start(name, argv, cwd=self.workdir, env=self.turnout_env)
        return Running(row, process, f"http://127.0.0.1:{port}{PATH}", psutil.Process(process.pid),
                       record_dir=record_dir, admin_url=f"http://127.0.0.1:{admin_port}", log_name=name)


def nginx_available() -> bool:
    return Path(NGINX).is_file() and os.access(NGINX, os.X_OK)


def mitmdump_available(python: str) -> bool:
    return Path(python).with_name("mitmdump").is_file()


def turnout_help(python: str, env: dict[str, str], cwd: Path) -> str:
    """`turnout proxy --help` as the measured checkout prints it."""
    result = subprocess.run([python, "-c", "import sys; from turnout.cli import main; sys.exit(main())",
                             "proxy", "--help"], env=env, cwd=cwd, capture_output=True, text=True)
    return result.stdout + result.stderr


def turnout_imported_from(python: str, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run([python, "-c", "import turnout; print(turnout.__file__)"], env=env, cwd=cwd,
                            capture_output=True, text=True, check=True)
    return str(Path(result.stdout.strip()).parent.parent)


def count_recordings(directory: Path | None) -> int:
    """Exchanges on disk: `*.yaml` files anywhere under `directory`."""
    if directory is None or not directory.is_dir():
        return 0
    total = 0
    for _, _, files in os.walk(directory):
        total += sum(1 for f in files if f.endswith(".yaml"))
    return total


def clear_recordings(directory: Path | None) -> None:
    """Remove the recorded files (folders stay: the writer may remember having made them)."""
    if directory is None or not directory.is_dir():
        return
    for parent, _, files in os.walk(directory):
        for f in files:
            if f.endswith(".yaml"):
                try:
                    os.unlink(os.path.join(parent, f))
                except FileNotFoundError:
                    pass


def wrk_available() -> bool:
    return shutil.which("wrk") is not None or Path("/usr/bin/wrk").is_file()
