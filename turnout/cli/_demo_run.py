"""The demo's script: legacy, then shadow, then translator, then a refused edit under traffic.

No printing here: each phase hands its result to a callback, and `_demo.py` renders it. The
proxy is started once; every route change goes through the route file, exactly as operations
would make it, and is picked up live.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..config import load_proxy_config
from ..demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from ..demo.config import write_demo_config
from ..demo.scenario import ScenarioCall, run_scenario
from ..proxy import ProxyThread
from ..recording import Exchange, RecordingStore
from ..routing import set_route

READS = (
    "/pnc PersonEnquiry", "/pnc VehicleEnquiry", "/geo ResolveLocation",
    "/cris GetCrimeReport", "/cris SearchCrimeReports",
)


@dataclass
class Phase:
    name: str
    title: str
    calls: list[ScenarioCall]
    exchanges: list[Exchange]
    routes: dict[str, str]
    counters: dict[str, int]
    refusals: list[str] = field(default_factory=list)

    @property
    def surprises(self) -> list[ScenarioCall]:
        return [call for call in self.calls if not call.as_expected]


@dataclass
class DemoRun:
    directory: Path
    bus_url: str = ""
    services_url: str = ""
    proxy_url: str = ""
    phases: list[Phase] = field(default_factory=list)


class _Refusals(logging.Handler):
    """Collects the proxy's "route change refused" log lines, to show them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "route change refused" in record.getMessage():
            self.messages.append(record.getMessage())


def run_demo(out: Path, on_phase: Callable[[DemoRun, Phase], None],
             on_start: Callable[[DemoRun], None] | None = None) -> DemoRun:
    run = DemoRun((out / datetime.now(timezone.utc).strftime("run-%Y%m%dT%H%M%SZ")).resolve())
    store = DemoStore()  # one store: the new services are built over the same records
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as services:
        config_path = write_demo_config(run.directory, bus.url, services.url, run.directory / "recordings")
        with ProxyThread(load_proxy_config(config_path)) as proxy:
            run.bus_url, run.services_url, run.proxy_url = bus.url, services.url, proxy.url
            if on_start is not None:
                on_start(run)
            recordings = RecordingStore(run.directory / "recordings")

            def phase(name: str, title: str, modes: dict[str, str]) -> Phase:
                for operation, mode in modes.items():
                    set_route(config_path, operation, mode)
                _wait_for_routes(proxy, modes)
                started = datetime.now(timezone.utc)
                calls = run_scenario(proxy.url)
                _wait_for_recordings(proxy)
                exchanges = [e for e in recordings.iter_exchanges() if e.started_at >= started]
                routes = {r.key: r.mode for r in proxy.state.routes.get()}
                result = Phase(name, title, calls, exchanges, routes, proxy.state.stats.snapshot())
                run.phases.append(result)
                on_phase(run, result)
                return result

            phase("legacy", "1. every operation on the legacy bus", {})
            phase("shadow", "2. reads in shadow: the bus answers, the translators run beside it",
                  {op: "shadow" for op in READS})
            phase("translator", "3. reads moved to the translators: the bus no longer sees them",
                  {op: "translator" for op in READS})
            run.phases.append(_bad_edit(proxy, config_path, on_phase, run))
    return run


def _bad_edit(proxy: ProxyThread, config_path: Path, on_phase: Callable[[DemoRun, Phase], None],
              run: DemoRun) -> Phase:
    """Break the route file while a scenario runs: the edit is refused, traffic carries on."""
    handler = _Refusals()
    logging.getLogger("turnout.proxy").addHandler(handler)
    good = config_path.read_text(encoding="utf-8")
    calls: list[ScenarioCall] = []
    traffic = threading.Thread(target=lambda: calls.extend(run_scenario(proxy.url)))
    try:
        traffic.start()
        broken, count = re.subn(r"(/pnc VehicleEnquiry: \{mode: )\w+", r"\1teleport", good)
        if count != 1:
            raise RuntimeError("the demo's route file is not as the demo expects")
        config_path.write_text(broken, encoding="utf-8")
        deadline = time.monotonic() + 5
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        traffic.join()
    finally:
        config_path.write_text(good, encoding="utf-8")
        logging.getLogger("turnout.proxy").removeHandler(handler)
    _wait_for_recordings(proxy)
    routes = {r.key: r.mode for r in proxy.state.routes.get()}
    result = Phase("bad-edit", "4. a broken route edit, refused while traffic flows", calls, [],
                   routes, proxy.state.stats.snapshot(), refusals=handler.messages)
    on_phase(run, result)
    return result


def _wait_for_routes(proxy: ProxyThread, modes: dict[str, str], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = proxy.state.routes.get()
        if all(table.route_for(op).mode == mode for op, mode in modes.items()):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the proxy did not pick up the route change within {timeout:g} s")


def _wait_for_recordings(proxy: ProxyThread, timeout: float = 10.0) -> None:
    """Shadow jobs and the writer run behind the answers; let them catch up before reading."""
    deadline = time.monotonic() + timeout
    state = proxy.state
    while time.monotonic() < deadline:
        shadow_busy = state.shadow is not None and state.shadow.pending > 0
        writer_busy = state.writer is not None and state.writer.pending > 0
        if not shadow_busy and not writer_busy:
            time.sleep(0.2)  # a job may be between the two queues
            if not (state.shadow and state.shadow.pending) and not (state.writer and state.writer.pending):
                return
        time.sleep(0.05)
