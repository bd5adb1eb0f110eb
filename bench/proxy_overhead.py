"""What the proxy costs: the same SOAP request straight to the demo bus and through the proxy.

    python bench/proxy_overhead.py [--requests 2000] [--concurrency 8]

All on loopback, one machine: the bus, the proxy and the load generator share the cores, so the
ratios (measured in the same run) are what to read, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import report, run_load  # noqa: E402

from turnout.config import ProxyConfig  # noqa: E402
from turnout.demo import DemoStore, ServerThread, make_legacy_app  # noqa: E402
from turnout.demo.config import demo_proxy_config  # noqa: E402
from turnout.proxy import ProxyThread  # noqa: E402

REQUEST = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<pnc:VehicleEnquiry xmlns:pnc="urn:police:pnc:v1"><pnc:registrationMark>TB19 XKF</pnc:registrationMark>'
    b"</pnc:VehicleEnquiry></soap:Body></soap:Envelope>"
)
PATH = "/pnc"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency

    with tempfile.TemporaryDirectory() as tmp, ServerThread(make_legacy_app(DemoStore())) as bus:
        run_load("warm-up", bus.url + PATH, REQUEST, HEADERS, 200, c)
        direct = run_load("direct to bus", bus.url + PATH, REQUEST, HEADERS, n, c)
        # one proxy per process (mitmproxy's state is process-wide), so one after the other
        with ProxyThread(ProxyConfig(upstream=bus.url, listen_port=0), bare=True) as bare:
            run_load("warm-up", bare.url + PATH, REQUEST, HEADERS, 200, c)
            plain = run_load("mitmproxy alone (no Turnout)", bare.url + PATH, REQUEST, HEADERS, n, c)
        with ProxyThread(ProxyConfig(upstream=bus.url, listen_port=0)) as proxy:
            run_load("warm-up", proxy.url + PATH, REQUEST, HEADERS, 200, c)
            proxied = run_load("proxy, not recording", proxy.url + PATH, REQUEST, HEADERS, n, c)
        recording = demo_proxy_config(bus.url, Path(tmp) / "rec")  # with the demo's redaction
        with ProxyThread(recording) as recorder:
            run_load("warm-up", recorder.url + PATH, REQUEST, HEADERS, 200, c)
            recorded = run_load("proxy, recording+redaction", recorder.url + PATH, REQUEST, HEADERS, n, c)
        written = len(list((Path(tmp) / "rec").rglob("*.yaml")))
    print(f"{n} requests, {c} concurrent, VehicleEnquiry on loopback; ratios against 'direct to bus'")
    print(report([direct, plain, proxied, recorded], direct))
    print()
    print("ratios against 'mitmproxy alone': what Turnout's addons add to mitmproxy itself")
    print(report([plain, proxied, recorded], plain))
    print(f"recordings on disk afterwards (warm-up included): {written}")


if __name__ == "__main__":
    main()
