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
from turnout.routing import LiveRoutes, Refusal, Served
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
    config.write_text(f"upstream: {bus.url}\nadmin: {{port: {admin}}}\nshutdown: {{drain_delay: 1.5}}\n")
    proxy = ProxyProcess(config).start()
    try:
        assert wait_until(lambda: readyz(admin) == 200, 10), proxy.log
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)  # kept alive
        conn.request("POST", "/pnc", body=ENVELOPE, headers=SOAP_HEADERS)
        first = conn.getresponse()
        assert (first.status, first.read()) == (200, b"<from-the-bus/>")
        proxy.signal(signal.SIGTERM)
        assert wait_until(lambda: readyz(admin) == 503, 1.0), proxy.log  # at once: not ready
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
