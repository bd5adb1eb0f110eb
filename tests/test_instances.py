"""Many instances behind a load balancer (issue 13): one shared config directory swapped by
symlink, recordings per instance read as one, a canary every instance agrees on, and graceful
drains that lose no request."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import http.client
import json
import signal
import socket
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Callable, Iterator

import pytest

from turnout.config import load_proxy_config
from turnout.evidence import find_recordings, read_exchanges
from turnout.recording import RecordingStore, instance_root
from turnout.routing import LiveRoutes, Refusal, Route, Served, caller_id, choose_canary
from turnout.setup import TranslatorsOnDisk, check_routes

from .support.bus import Reply, ScriptedBus
from .support.configmap import publish
from .support.proxy_process import ProxyProcess, free_port
from .test_recording import T0, make_exchange

VEHICLE = "/pnc VehicleEnquiry"
PNC_PARTS = "namespaces:\n  p: urn:police:pnc:v1\n"


def vehicle_mapping(field: str) -> str:
    return (
        "name: pnc/VehicleEnquiry\noperation: /pnc VehicleEnquiry\nservice: pnc\n"
        "include: _pnc.yaml\nrequest:\n  method: GET\n  path: /vehicles/TB19XKF\n"
        f"response:\n  body:\n    p:VehicleEnquiryResponse:\n      p:colourCode: {field}\n"
    )


def config_text(mode: str, extra: str = "") -> str:
    return (
        "upstream: http://127.0.0.1:9\n"
        "translators: translators\n"
        "services: {pnc: http://127.0.0.1:9}\n"
        f"{extra}"
        "routes:\n"
        f"  /pnc VehicleEnquiry: {{mode: {mode}}}\n"
    )


def version(mode: str, field: str) -> dict[str, str | bytes]:
    return {
        "turnout.yaml": config_text(mode),
        "translators/pnc/_pnc.yaml": PNC_PARTS,
        "translators/pnc/vehicle_enquiry.yaml": vehicle_mapping(field),
    }


# --- the shared config directory: a ConfigMap swap is seen whole -----------------------------


def test_a_configmap_swap_is_seen_even_with_same_size_and_same_second_mtime(tmp_path: Path) -> None:
    mount = tmp_path / "etc-turnout"
    first = publish(mount, version("legacy", "colour"))  # "legacy" and "shadow": same length
    an_hour_ago = time.time_ns() - 3600 * 10**9  # old enough that its stat alone is trusted
    for path in first.rglob("*.yaml"):
        os.utime(path, ns=(an_hour_ago, an_hour_ago))
    config = load_proxy_config(mount / "turnout.yaml")
    assert config.translators_dir == mount / "translators"  # through the link, not the version dir
    swaps: list[Served] = []
    refusals: list[Refusal] = []
    watcher = LiveRoutes(
        config.source or mount / "turnout.yaml", source=TranslatorsOnDisk(config),
        on_swap=lambda served, changes: swaps.append(served), on_refused=refusals.append,
        check=lambda table, translators: check_routes(table, translators, config), interval=3600,
    )
    served = watcher.start()
    assert served.table.route_for(VEHICLE).mode == "legacy"
    before = served.translator_versions["pnc/VehicleEnquiry"]
    watcher.check_now()
    # the new version: same sizes, same mtimes, one rename of `..data`
    publish(mount, version("shadow", "colour"[::-1]), keep_mtime_of=first)
    assert (mount / "turnout.yaml").stat().st_size == (len(config_text("legacy")))
    for _ in range(3):  # a change is taken once it has stayed the same across two polls
        watcher.check_now()
    watcher.stop()
    assert not refusals, refusals
    assert swaps, "the swap of ..data was not noticed"
    now = swaps[-1]
    assert now.table.route_for(VEHICLE).mode == "shadow"
    assert now.translator_versions["pnc/VehicleEnquiry"] != before  # translators from the new dir


# --- the canary: the same caller, the same path, in every process -----------------------------

_BUCKETS = """
import sys
from turnout.routing import canary_bucket
print(",".join(str(canary_bucket("/pnc VehicleEnquiry", f"h:PC{n}", sys.argv[1])) for n in range(50)))
"""


def test_canary_buckets_are_the_same_in_every_process_whatever_its_hash_seed() -> None:
    answers = set()
    for seed in ("1", "2", "random"):
        env: dict[str, Any] = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _BUCKETS, "salt-1"], capture_output=True,
                              text=True, env=env, timeout=60, check=True)
        answers.add(done.stdout.strip())
    assert len(answers) == 1


# --- recordings: each instance its own tree, every reader the union ---------------------------


def test_each_named_instance_writes_its_own_tree_and_readers_see_the_union(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    flat = RecordingStore(root).write(make_exchange(at=T0))  # an unnamed proxy, the old layout
    written = {flat}
    for n, name in enumerate(("turnout-a", "turnout-b", "turnout-c"), start=1):
        store = RecordingStore(instance_root(root, name))
        written.add(store.write(make_exchange(at=T0 + timedelta(seconds=n))))
    assert {p.relative_to(root).parts[:2] for p in written if p != flat} == {
        ("_instances", "turnout-a"), ("_instances", "turnout-b"), ("_instances", "turnout-c")}
    union = list(RecordingStore(root).iter_exchanges())
    assert len(union) == 4
    assert [e.started_at for e in union] == sorted(e.started_at for e in union)  # time order
    assert len(read_exchanges(find_recordings(None, root))) == 4  # status and the gate read these
    # one instance's start-up clean-up leaves the others' unfinished writes alone
    theirs = instance_root(root, "turnout-b") / "pnc" / f".{union[0].id}.yaml.x7k2p9.tmp"
    theirs.write_bytes(b"half")
    mine = instance_root(root, "turnout-a") / "pnc" / f".{union[1].id}.yaml.a1b2c3.tmp"
    mine.write_bytes(b"half")
    assert RecordingStore(instance_root(root, "turnout-a")).remove_stale_temp_files() == 1
    assert RecordingStore(root).remove_stale_temp_files() == 0  # an unnamed proxy: its own only
    assert theirs.exists() and not mine.exists()


# --- graceful stop: /readyz fails first, requests keep being served, then the port closes -----

ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<x:VehicleEnquiry xmlns:x="urn:police:pnc:v1"><x:ref>AB12CDE</x:ref></x:VehicleEnquiry>'
    b"</soap:Body></soap:Envelope>"
)
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}


def post(port: int, officer: str = "PC1", timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/pnc", body=ENVELOPE, headers={**SOAP_HEADERS, "X-Officer-Id": officer})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def readyz(admin_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=3) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(body=b"<from-the-bus/>")
        yield scripted


@pytest.mark.parametrize("engine", ["fast", "mitmproxy"])
def test_sigterm_fails_readyz_first_and_serves_through_the_drain_delay(
        engine: str, bus: ScriptedBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNOUT_ENGINE", engine)
    admin = free_port()
    config = tmp_path / "turnout.yaml"
    config.write_text(f"upstream: {bus.url}\nadmin: {{port: {admin}}}\nshutdown: {{drain_delay: 4}}\n")
    proxy = ProxyProcess(config).start()
    try:
        assert wait_until(lambda: readyz(admin) == 200, 10), proxy.log
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)  # kept alive
        conn.request("POST", "/pnc", body=ENVELOPE, headers=SOAP_HEADERS)
        first = conn.getresponse()
        assert (first.status, first.read()) == (200, b"<from-the-bus/>")
        proxy.signal(signal.SIGTERM)
        # not ready while still serving: 503 is seen inside the drain delay, before the requests
        # below (a loaded machine may take a while to deliver the signal; the order is the point)
        assert wait_until(lambda: readyz(admin) == 503, 3.0), proxy.log
        # still listening and serving during the delay, and each answer closes its connection
        conn.request("POST", "/pnc", body=ENVELOPE, headers=SOAP_HEADERS)
        during = conn.getresponse()
        assert (during.status, during.read()) == (200, b"<from-the-bus/>")
        assert during.getheader("connection", "").lower() == "close"
        conn.close()
        assert post(proxy.port) == (200, b"<from-the-bus/>")
        assert proxy.process is not None and proxy.process.wait(20) == 0
        with pytest.raises(OSError):
            socket_connect(proxy.port)
    finally:
        proxy.stop()


def socket_connect(port: int) -> None:
    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


# --- three instances behind nginx: a switch, a canary, a rolling restart, no request lost -----

BUS_ANSWER = b"<from-the-bus/>"
OFFICERS = [f"PC{n:04d}" for n in range(24)]
CANARY_SALT = "fleet-1"


def fleet_config(bus: str, service: str, record: Path, route: str) -> str:
    return (
        f"upstream: {bus}\n"
        "timeouts: {upstream: 5}\n"
        "translators: translators\n"
        f"services: {{pnc: {service}}}\n"
        f"recordings: {{dir: {record}, redaction: {{namespaces: {{p: 'urn:police:pnc:v1'}}, "
        "body: ['//p:surname']}}\n"
        "shutdown: {drain_delay: 0.5}\n"
        f"canary: {{sticky_header: X-Officer-Id, salt: {CANARY_SALT}}}\n"
        f"routes:\n  /pnc VehicleEnquiry: {route}\n"
    )


class Traffic:
    """Client threads posting through the balancer without pause, each answer counted."""

    def __init__(self, port: int, threads: int = 2) -> None:
        self.port = port
        self.ok = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def _run(self, n: int) -> None:
        i = n
        while not self._stop.is_set():
            officer = OFFICERS[i % len(OFFICERS)]
            i += len(self._threads)
            try:
                status, body = post(self.port, officer)
                problem = None if status == 200 else f"{status}: {body[:200]!r}"
            except OSError as exc:
                problem = repr(exc)
            with self._lock:
                if problem is None:
                    self.ok += 1
                else:
                    self.failed.append(problem)

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def total(self) -> int:
        with self._lock:
            return self.ok + len(self.failed)


def by_translator(port: int, officer: str = "PC0000") -> bool:
    status, body = post(port, officer)
    assert status == 200, body
    return BUS_ANSWER not in body


def test_three_instances_behind_nginx_switch_together_stick_per_officer_and_restart_losing_nothing(
        bus: ScriptedBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .support.nginx import Nginx, require_nginx

    require_nginx()
    monkeypatch.setenv("TURNOUT_ENGINE", "fast")
    record = tmp_path / "rec"
    mount = tmp_path / "etc-turnout"
    with ScriptedBus() as service:
        service.reply = Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "blue"}')

        def files(route: str) -> dict[str, str | bytes]:
            return {"turnout.yaml": fleet_config(bus.url, service.url, record, route),
                    "translators/pnc/_pnc.yaml": PNC_PARTS,
                    "translators/pnc/vehicle_enquiry.yaml": vehicle_mapping("colour")}

        publish(mount, files("{mode: legacy}"))
        names = [f"turnout-{n}" for n in range(3)]
        proxies: list[ProxyProcess] = []
        nginx: Nginx | None = None
        try:
            for name in names:
                monkeypatch.setenv("TURNOUT_INSTANCE", name)
                proxies.append(ProxyProcess(mount / "turnout.yaml").start())
            nginx = Nginx(tmp_path / "nginx", [p.port for p in proxies]).start()
            ports = [p.port for p in proxies]
            with Traffic(nginx.port) as traffic:
                assert wait_until(lambda: traffic.total() > 20, 10)
                assert not any(by_translator(port) for port in ports)

                # 1. a switch: one swap of ..data; every instance takes it
                published = time.monotonic()
                publish(mount, files("{mode: translator}"))
                seen: dict[int, float] = {}
                for port in ports:
                    assert wait_until(lambda: by_translator(port), 10), f"{port} never switched"
                    seen[port] = time.monotonic() - published
                print(f"switch seen by all three after {max(seen.values()):.2f} s: {seen}")

                # 2. a canary: each officer the same path on every instance, as the bucket says
                publish(mount, files("{mode: canary, percent: 50}"))
                route = Route(VEHICLE, "canary", percent=50)
                expected = {o: choose_canary(route, caller_id({"x-officer-id": o}, "", "X-Officer-Id"),
                                             CANARY_SALT) for o in OFFICERS}
                assert 0 < sum(expected.values()) < len(OFFICERS)  # both paths are exercised
                for port in ports:
                    assert wait_until(lambda: all(by_translator(port, o) == expected[o] for o in OFFICERS), 10), \
                        f"instance on {port} does not follow the canary"
                for officer in OFFICERS:  # and through the balancer, which spreads them over all three
                    got = {by_translator(nginx.port, officer) for _ in range(3)}
                    assert got == {expected[officer]}, officer

                # 3. a rolling restart: one at a time, SIGTERM (drain), then start it again
                for n, name in enumerate(names):
                    before = traffic.total()
                    assert proxies[n].stop() == 0, proxies[n].log
                    monkeypatch.setenv("TURNOUT_INSTANCE", name)
                    proxies[n] = ProxyProcess(mount / "turnout.yaml", port=ports[n]).start()
                    assert wait_until(lambda: traffic.total() > before + 20, 10)
            assert traffic.failed == [], (traffic.failed[:5], nginx.error_log[-2000:])
            assert traffic.ok > 100
            print(f"{traffic.ok} requests through nginx, none failed; nginx retried "
                  f"{nginx.error_log.count('connect() failed')} on the next instance")
        finally:
            if nginx is not None:
                nginx.stop()
            for proxy in proxies:
                proxy.stop()
    # every instance recorded under its own name, and the store reads them as one
    assert {p.name for p in (record / "_instances").iterdir()} == set(names)
    union = list(RecordingStore(record).iter_exchanges())
    assert len(union) >= traffic.ok


def test_a_rolling_restart_of_mitmproxy_hosts_behind_nginx_loses_no_request(
        bus: ScriptedBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .support.nginx import Nginx, require_nginx

    require_nginx()
    monkeypatch.setenv("TURNOUT_ENGINE", "mitmproxy")
    mount = tmp_path / "etc-turnout"
    publish(mount, {"turnout.yaml": fleet_config(bus.url, bus.url, tmp_path / "rec", "{mode: legacy}"),
                    "translators/pnc/_pnc.yaml": PNC_PARTS,
                    "translators/pnc/vehicle_enquiry.yaml": vehicle_mapping("colour")})
    names = [f"mitm-{n}" for n in range(3)]
    proxies: list[ProxyProcess] = []
    nginx: Nginx | None = None
    try:
        for name in names:
            monkeypatch.setenv("TURNOUT_INSTANCE", name)
            proxies.append(ProxyProcess(mount / "turnout.yaml").start())
        ports = [p.port for p in proxies]
        nginx = Nginx(tmp_path / "nginx", ports).start()
        with Traffic(nginx.port) as traffic:
            for n, name in enumerate(names):
                before = traffic.total()
                assert wait_until(lambda: traffic.total() > before + 20, 10)
                assert proxies[n].stop() == 0, proxies[n].log
                monkeypatch.setenv("TURNOUT_INSTANCE", name)
                proxies[n] = ProxyProcess(mount / "turnout.yaml", port=ports[n]).start()
            before = traffic.total()
            assert wait_until(lambda: traffic.total() > before + 20, 10)
        assert traffic.failed == [], (traffic.failed[:5], nginx.error_log[-2000:])
    finally:
        if nginx is not None:
            nginx.stop()
        for proxy in proxies:
            proxy.stop()
