"""HAR export and import of recordings (issue 13): `turnout recordings export --har` and
`turnout recordings import FILE.har`, black-box.

Recordings come from a real proxy process (`turnout proxy`) in front of the demo bus and the
demo's modern services; third-party HAR comes from a real mitmdump (`--set hardump=...`) in
front of the demo bus behind Starlette's gzip middleware. The CLI runs in its own process, as a
user runs it. Each test looks at what reached the disk.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from turnout.cli import main
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.config import write_demo_config
from turnout.recording import Exchange, read_exchange
from turnout.routing import set_route

from tests.support.proxy_process import TURNOUT, ProxyProcess, free_port

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PNC, EFORMS = "urn:police:pnc:v1", "urn:police:eforms:v1"

#: credentials and personal values the clients send; none may reach a recording
BASIC = base64.b64encode(b"pc5518:Hunter2-horse").decode()
COOKIE = "JSESSIONID=7f3c9a1e5b2d4c6f"
WSSE_PASSWORD = "Tr0ub4dor-and-3"
RAW_VALUES = ("Thistlewood", "14/03/1961", "Oakenshaw", "Wilhelmina", "110 Riverside Walk",
              "TB3 6RW", BASIC, "Hunter2-horse", "7f3c9a1e5b2d4c6f", WSSE_PASSWORD, "PC5518")


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def turnout(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `turnout` CLI in a process of its own, as a user runs it."""
    return subprocess.run([*TURNOUT, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def invoke(*args: str | Path) -> Result:
    """The CLI in this process (for what touches no wire: refusals, re-imports)."""
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def soap11(namespace: str, operation: str, fields: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<s:Envelope xmlns:s="{SOAP11}" xmlns:o="{namespace}">'
        f"{f'<s:Header>{header}</s:Header>' if header else ''}"
        f"<s:Body><o:{operation}>{fields}</o:{operation}></s:Body></s:Envelope>"
    ).encode()


def soap12(namespace: str, operation: str, fields: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<s:Envelope xmlns:s="{SOAP12}" xmlns:o="{namespace}">'
        f"<s:Body><o:{operation}>{fields}</o:{operation}></s:Body></s:Envelope>"
    ).encode()


def soap_headers(namespace: str, operation: str, body: bytes) -> dict[str, str]:
    action = f"{namespace}#{operation}"
    if SOAP12.encode() in body:
        return {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}


def security_header(password: str) -> str:
    return (f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken><wsse:Username>PC5518'
            f"</wsse:Username><wsse:Password>{password}</wsse:Password></wsse:UsernameToken>"
            "</wsse:Security>")


def person_enquiry() -> bytes:
    return soap11(PNC, "PersonEnquiry",
                  "<o:surname>Thistlewood</o:surname><o:dateOfBirth>14/03/1961</o:dateOfBirth>",
                  security_header(WSSE_PASSWORD))


def witness_statement() -> bytes:
    return soap12(EFORMS, "SubmitWitnessStatement", (
        "<o:witness><o:surname>Oakenshaw</o:surname><o:forenames>Wilhelmina</o:forenames>"
        "<o:dateOfBirth>30/09/1965</o:dateOfBirth><o:addressLine>110 Riverside Walk</o:addressLine>"
        "<o:postcode>TB3 6RW</o:postcode></o:witness><o:statementText>I saw it.</o:statementText>"
        "<o:officerId>PC5518</o:officerId><o:crimeReference>CR/2026/000104</o:crimeReference>"))


def exchanges(directory: Path) -> dict[str, Exchange]:
    return {path.stem: read_exchange(path) for path in sorted(directory.rglob("*.yaml"))}


def disk_text(directory: Path) -> str:
    """Every file's bytes and every file and directory name under `directory`, lower-cased."""
    parts = []
    for path in sorted(directory.rglob("*")):
        parts.append(str(path.relative_to(directory)))
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts).lower()


def assert_nowhere(directory: Path, values: tuple[str, ...] = RAW_VALUES) -> None:
    text = disk_text(directory)
    assert text, f"nothing under {directory}"
    for value in values:
        assert value.lower() not in text, f"{value!r} reached {directory}"


# -- recordings made by a real proxy ---------------------------------------------------------


@dataclass
class Recorded:
    home: Path
    config: Path
    recordings: Path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """The demo's configuration and rules; PersonEnquiry in shadow (so recordings carry a
    translation and a translated envelope), VehicleEnquiry on its translator, the rest legacy."""
    home = tmp_path_factory.mktemp("har")
    recordings = home / "recorded"
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as modern:
        config = write_demo_config(home, bus.url, modern.url, recordings, authenticate=False)
        set_route(config, "/pnc PersonEnquiry", "shadow")
        set_route(config, "/pnc VehicleEnquiry", "translator")
        with ProxyProcess(config) as proxy:
            calls = [
                ("/pnc", PNC, "PersonEnquiry", person_enquiry(),
                 {"Authorization": f"Basic {BASIC}", "Cookie": COOKIE}),
                ("/pnc", PNC, "VehicleEnquiry",
                 soap11(PNC, "VehicleEnquiry", "<o:registrationMark>TB19 XKF</o:registrationMark>"), {}),
                ("/eforms", EFORMS, "SubmitWitnessStatement", witness_statement(), {}),
            ]
            for path, namespace, operation, body, extra in calls:
                status, _, answer = proxy.request(
                    "POST", path, body, {**soap_headers(namespace, operation, body), **extra})
                assert status in (200, 500), answer
            _wait_for_files(recordings, len(calls))
    yield Recorded(home, config, recordings)


def _wait_for_files(directory: Path, count: int) -> None:
    """The shadow's recording is written after the client's answer; wait for it (bounded)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len(list(directory.rglob("*.yaml"))) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} recordings under {directory}")


@pytest.fixture(scope="module")
def exported(recorded: Recorded) -> Path:
    """The recordings exported to HAR, once for the module."""
    har = recorded.home / "out.har"
    done = turnout("recordings", "export", recorded.recordings, "--har", har, cwd=recorded.home)
    assert done.returncode == 0, done.stderr
    assert "exported 3 exchanges" in done.stdout
    return har


@pytest.fixture(scope="module")
def imported_as_stored(recorded: Recorded, exported: Path) -> tuple[Path, str]:
    """The export imported into another directory, as stored; and what the import said."""
    into = recorded.home / "imported"
    done = turnout("recordings", "import", exported, "--into", into, "--as-stored", "-c",
                   recorded.config, cwd=recorded.home)
    assert done.returncode == 0, done.stderr
    return into, done.stdout


def test_an_export_is_har_1_2_as_stored_and_private(exported: Path) -> None:
    assert oct(exported.stat().st_mode & 0o777) == "0o600"
    doc = json.loads(exported.read_text())
    assert doc["log"]["version"] == "1.2" and doc["log"]["creator"]["name"] == "turnout"
    for entry in doc["log"]["entries"]:
        assert {"startedDateTime", "time", "request", "response", "cache", "timings", "_turnout"} <= set(entry)
        assert entry["request"]["headersSize"] == -1 and entry["response"]["redirectURL"] == ""
        assert set(entry["timings"]) == {"send", "wait", "receive"}
        assert entry["_turnout"]["route"] in ("shadow", "translator", "legacy")
    # as stored: pseudonyms and REDACTED, never the raw values, and no key was needed for it
    text = exported.read_text().lower()
    for value in RAW_VALUES:
        assert value.lower() not in text
    assert '"value": "redacted"' in text  # the Authorization header, as the store hid it


def test_export_then_import_as_stored_gives_back_the_same_exchanges(
    recorded: Recorded, imported_as_stored: tuple[Path, str]
) -> None:
    into, said = imported_as_stored
    assert "imported 3 of 3 entries" in said
    original, imported = exchanges(recorded.recordings), exchanges(into)
    assert set(original) == set(imported)
    for key, before in original.items():
        after = imported[key]
        assert after.operation == before.operation
        assert (after.route, after.outcome, after.notes) == (before.route, before.outcome, before.notes)
        assert after.request == before.request
        assert after.response == before.response
        assert after.translated == before.translated
        assert after.translation == before.translation
        assert after == before  # and everything else: time, timings, client, ids, omitted bodies
    shadowed = [e for e in imported.values() if e.route == "shadow"]
    assert shadowed and shadowed[0].translated is not None and shadowed[0].translation
    # the same files in the same folders
    assert sorted(p.relative_to(into) for p in into.rglob("*.yaml")) == sorted(
        p.relative_to(recorded.recordings) for p in recorded.recordings.rglob("*.yaml"))


def test_importing_the_same_export_again_adds_nothing(
    recorded: Recorded, exported: Path, imported_as_stored: tuple[Path, str]
) -> None:
    into, _ = imported_as_stored
    before = disk_text(into)
    again = invoke("recordings", "import", exported, "--into", into, "--as-stored", "-c", recorded.config)
    assert again.exit_code == 0 and "3 already there" in again.output
    assert disk_text(into) == before


def test_export_filters_by_operation(recorded: Recorded, tmp_path: Path) -> None:
    har = tmp_path / "pnc.har"
    done = turnout("recordings", "export", recorded.recordings, "--har", har,
                   "--operation", "/pnc VehicleEnquiry", "--since", "1d", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    entries = json.loads(har.read_text())["log"]["entries"]
    assert [e["_turnout"]["operation"]["name"] for e in entries] == ["VehicleEnquiry"]


def test_a_turnout_export_imported_without_as_stored_is_pseudonymised_again(
    recorded: Recorded, exported: Path, tmp_path: Path
) -> None:
    into = tmp_path / "again"
    done = invoke("recordings", "import", exported, "--into", into, "-c", recorded.config)
    assert done.exit_code == 0, done.output
    original, imported = exchanges(recorded.recordings), exchanges(into)
    assert set(original) == set(imported)
    person = next(key for key, e in original.items() if e.operation and e.operation.name == "PersonEnquiry")
    before, after = original[person], imported[person]
    assert after.operation == before.operation and after.response is not None
    assert before.response is not None and after.response.status == before.response.status
    assert after.request.body != before.request.body  # the rules ran again, with the key


def test_imported_recordings_compare_as_the_originals_do(
    recorded: Recorded, imported_as_stored: tuple[Path, str], tmp_path: Path
) -> None:
    into, _ = imported_as_stored
    before = turnout("compare", recorded.recordings, "-c", recorded.config, cwd=tmp_path)
    after = turnout("compare", into, "-c", recorded.config, cwd=tmp_path)
    assert "PersonEnquiry" in after.stdout, after.stdout + after.stderr
    assert after.returncode == before.returncode
    assert _rows(after.stdout) == _rows(before.stdout)


def _rows(output: str) -> list[str]:
    """The parity table's lines, without its title (which names the directory)."""
    return [" ".join(line.split()) for line in output.splitlines() if "parity in" not in line]


# -- a HAR file mitmproxy wrote ---------------------------------------------------------------

#: mostly binary, so mitmproxy's HAR writer base64-encodes it
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


def _site() -> Any:
    """The demo bus behind Starlette's gzip middleware (SOAP answers gzip'd to clients that
    accept it), and a logo beside it."""

    async def logo(_: Request) -> Response:
        return Response(PNG, media_type="image/png")

    app = Starlette(routes=[Route("/logo.png", logo), Mount("/", make_legacy_app(DemoStore()))])
    return GZipMiddleware(app, minimum_size=10)


@pytest.fixture(scope="module")
def mitmproxy_har(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    mitmdump = shutil.which("mitmdump", path=str(Path(sys.executable).parent)) or shutil.which("mitmdump")
    if mitmdump is None:
        if under_ci():
            pytest.fail("mitmdump is missing under CI")
        pytest.skip("mitmdump is not installed")
    home = tmp_path_factory.mktemp("mitm")
    har = home / "flows.har"
    port = free_port()
    with ServerThread(_site()) as site:
        process = subprocess.Popen(
            [mitmdump, "--mode", f"reverse:{site.url}", "--listen-host", "127.0.0.1", "-p", str(port),
             "-q", "--set", f"hardump={har}", "--set", f"confdir={home / 'conf'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proxy = ProxyProcess(home / "unused.yaml", port=port)  # only its client
            _wait_for_port(port, process)
            assert proxy.request("GET", "/logo.png", b"", {})[0] == 200
            assert proxy.request("GET", "/pnc?wsdl", b"", {})[0] == 200
            body = person_enquiry()
            status, headers, _ = proxy.request("POST", "/pnc", body, {
                **soap_headers(PNC, "PersonEnquiry", body), "Accept-Encoding": "gzip",
                "Authorization": f"Basic {BASIC}", "Cookie": COOKIE})
            assert status == 200
            body = witness_statement()
            assert proxy.request("POST", "/eforms", body, {
                **soap_headers(EFORMS, "SubmitWitnessStatement", body),
                "Accept-Encoding": "gzip"})[0] == 200
        finally:
            process.send_signal(signal.SIGTERM)  # mitmdump writes the HAR as it stops
            process.wait(30)
    assert har.is_file(), "mitmdump wrote no HAR"
    yield har


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "mitmdump exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("mitmdump did not listen")


def test_a_mitmproxy_har_becomes_redacted_recordings(
    mitmproxy_har: Path, recorded: Recorded, tmp_path: Path
) -> None:
    doc = json.loads(mitmproxy_har.read_text())
    entries = doc["log"]["entries"]
    assert doc["log"]["creator"]["name"] == "mitmproxy" and len(entries) == 4
    # the shapes this test is about, as mitmproxy wrote them
    assert any(e["response"]["content"].get("encoding") == "base64" for e in entries)
    gzipped = [e for e in entries if any(h["name"].lower() == "content-encoding" and h["value"] == "gzip"
                                         for h in e["response"]["headers"])]
    assert gzipped and all(e["response"]["content"]["text"].startswith("<?xml") for e in gzipped)
    assert BASIC in mitmproxy_har.read_text() and "Thistlewood" in mitmproxy_har.read_text()

    into = tmp_path / "imported"
    done = turnout("recordings", "import", mitmproxy_har, "--into", into, "-c", recorded.config,
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported 2 of 4 entries" in done.stdout
    assert "skipped 2: GET without a body: not a SOAP call" in done.stdout
    found = exchanges(into)
    names = sorted(e.operation.name for e in found.values() if e.operation)
    assert names == ["PersonEnquiry", "SubmitWitnessStatement"]
    for exchange in found.values():
        assert exchange.response is not None and exchange.response.status == 200
        assert exchange.response.body.startswith(b"<?xml")  # the decoded answer, kept readable
        assert "response: HAR text already decoded (gzip)" in exchange.notes
        assert "imported from HAR (mitmproxy)" in exchange.notes
        assert exchange.request.header("Authorization") in (None, "REDACTED")
    assert_nowhere(into)
    # the existing tools read them: the scan finds none of the demo's people
    scan = turnout("recordings", "scan", into, "--demo", cwd=tmp_path)
    assert scan.returncode == 0, scan.stdout + scan.stderr


# -- a HAR file as a browser's devtools write it (HAR 1.2 by hand) -----------------------------


def _devtools_har() -> dict[str, Any]:
    person = person_enquiry()
    answer = soap11(PNC, "PersonEnquiryResponse",
                    "<o:person><o:surname>THISTLEWOOD</o:surname><o:dateOfBirth>14/03/1961"
                    "</o:dateOfBirth></o:person>")

    def entry(method: str, url: str, request_headers: list[tuple[str, str]], post: dict[str, Any] | None,
              status: int, response_headers: list[tuple[str, str]], content: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "method": method, "url": url, "httpVersion": "http/2.0", "cookies": [],
            "headers": [{"name": k, "value": v} for k, v in request_headers],
            "queryString": [], "headersSize": -1, "bodySize": 0}
        if post is not None:
            request["postData"] = post
        return {
            "_initiator": {"type": "script"}, "_priority": "High", "_resourceType": "fetch",
            "cache": {}, "connection": "443", "pageref": "page_1",
            "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "http/2.0",
                         "headers": [{"name": k, "value": v} for k, v in response_headers],
                         "cookies": [{"name": "JSESSIONID", "value": "7f3c9a1e5b2d4c6f"}],
                         "content": content, "redirectURL": "", "headersSize": -1,
                         "bodySize": -1, "_transferSize": 900, "_error": None},
            "serverIPAddress": "10.0.0.8", "startedDateTime": "2026-11-30T09:15:02.417Z",
            "time": 41.5, "timings": {"blocked": 1.2, "dns": -1, "ssl": -1, "connect": -1,
                                      "send": 0.3, "wait": 38.9, "receive": 1.1},
        }

    soap = [(":authority", "bus.force.example"), (":method", "POST"), (":path", "/pnc"),
            (":scheme", "https"), ("content-type", "text/xml; charset=utf-8"),
            ("soapaction", f'"{PNC}#PersonEnquiry"'), ("authorization", f"Basic {BASIC}"),
            ("cookie", COOKIE)]
    return {"log": {
        "version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [{"startedDateTime": "2026-11-30T09:15:02.000Z", "id": "page_1",
                   "title": "https://tablet.force.example/", "pageTimings": {}}],
        "entries": [
            # the request as text; the answer kept compressed, base64: the store decodes it
            entry("POST", "https://bus.force.example/pnc", soap,
                  {"mimeType": "text/xml; charset=utf-8", "text": person.decode()},
                  200, [("content-type", "text/xml; charset=utf-8"), ("content-encoding", "gzip")],
                  {"size": len(answer), "mimeType": "text/xml",
                   "text": base64.b64encode(gzip.compress(answer)).decode(), "encoding": "base64"}),
            # the request body base64 (as some tools write postData), the answer decoded text
            entry("POST", "https://bus.force.example/pnc", soap,
                  {"mimeType": "text/xml; charset=utf-8",
                   "text": base64.b64encode(person).decode(), "encoding": "base64"},
                  200, [("content-type", "text/xml; charset=utf-8"), ("content-encoding", "br")],
                  {"size": len(answer), "mimeType": "text/xml", "text": answer.decode()}),
            entry("GET", "https://tablet.force.example/app.js", [], None, 200,
                  [("content-type", "application/javascript")],
                  {"size": 12, "mimeType": "application/javascript", "text": "console.log(1)"}),
            entry("GET", "https://tablet.force.example/logo.png", [], None, 200,
                  [("content-type", "image/png")],
                  {"size": len(PNG), "mimeType": "image/png",
                   "text": base64.b64encode(PNG).decode(), "encoding": "base64"}),
            entry("POST", "https://tablet.force.example/api/log", [("content-type", "application/json")],
                  {"mimeType": "application/json", "text": '{"surname": "Thistlewood"}'}, 204, [],
                  {"size": 0, "mimeType": "x-unknown"}),
            entry("GET", "data:image/gif;base64,R0lGODlhAQABAAAAACw=", [], None, 200, [],
                  {"size": 0, "mimeType": "image/gif"}),
        ]}}


def test_a_devtools_har_becomes_redacted_recordings(recorded: Recorded, tmp_path: Path) -> None:
    har = tmp_path / "devtools.har"
    har.write_text(json.dumps(_devtools_har()))
    into = tmp_path / "imported"
    done = turnout("recordings", "import", har, "--into", into, "-c", recorded.config, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported 2 of 6 entries" in done.stdout
    assert "skipped 2: GET without a body: not a SOAP call" in done.stdout
    assert "skipped 1: not an HTTP request (data URL)" in done.stdout
    assert "skipped 1: not a SOAP envelope" in done.stdout
    found = sorted(exchanges(into).values(), key=lambda e: e.notes)
    assert [e.operation.key for e in found if e.operation] == ["/pnc PersonEnquiry"] * 2
    notes = [" | ".join(e.notes) for e in found]
    assert any("response: decoded gzip" in n for n in notes), notes   # the store decoded it
    assert any("response: HAR text already decoded (br)" in n for n in notes), notes
    for exchange in found:
        assert exchange.soap_version == "1.1" and exchange.action == f"{PNC}#PersonEnquiry"
        assert exchange.request.path == "/pnc"
        assert not any(name.startswith(":") for name, _ in exchange.request.headers)
        assert exchange.response is not None and b"PersonEnquiryResponse" in exchange.response.body
        assert exchange.timings == {"total": 41.5}
    assert_nowhere(into)


def test_without_redaction_rules_import_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    har = tmp_path / "devtools.har"
    har.write_text(json.dumps(_devtools_har()))
    done = turnout("recordings", "import", har, "--into", tmp_path / "rec", cwd=tmp_path)
    assert done.returncode == 2
    assert "refusing to import" in done.stderr and "--unredacted" in done.stderr
    assert not (tmp_path / "rec").exists()


# -- malformed HAR: refused with entry and field, nothing written ------------------------------


def _good_entry() -> dict[str, Any]:
    return _devtools_har()["log"]["entries"][0]


def _with(path: str, value: Any) -> dict[str, Any]:
    """Two good entries, the second changed at `path` (dotted, list indexes as numbers)."""
    doc = {"log": {"version": "1.2", "creator": {"name": "x", "version": "1"},
                   "entries": [_good_entry(), _good_entry()]}}
    target: Any = doc["log"]["entries"][1]
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return doc


@pytest.mark.parametrize(("content", "said"), [
    pytest.param(b'{"log": {"version": "1.2", "entries": [', "not JSON", id="not-json"),
    pytest.param(json.dumps({"log": {"version": "2.0", "entries": []}}).encode(),
                 "log.version: HAR version '2.0' is not 1.x", id="not-har-1"),
    pytest.param(json.dumps({"entries": []}).encode(), "har: missing field 'log'", id="no-log"),
    pytest.param(json.dumps({"log": {"version": "1.2", "entries": {}}}).encode(),
                 "log.entries: expected a list, got an object", id="entries-not-a-list"),
    pytest.param(json.dumps(_with("request.headers.4.value", 7)).encode(),
                 "log.entries[1].request.headers[4].value: expected a string, got an integer",
                 id="header-value-int"),
    pytest.param(json.dumps(_with("response.content.text", "@@not base64@@")).encode(),
                 "log.entries[1].response.content.text: not valid base64", id="bad-base64"),
    pytest.param(json.dumps(_with("startedDateTime", KeyError)).encode(),
                 "log.entries[1]: missing field 'startedDateTime'", id="no-start"),
    pytest.param(json.dumps(_with("startedDateTime", "2026-11-30T09:15:02")).encode(),
                 "log.entries[1].startedDateTime: '2026-11-30T09:15:02' has no UTC offset",
                 id="naive-time"),
    pytest.param(json.dumps(_with("response.status", "200")).encode(),
                 "log.entries[1].response.status: expected an integer, got a string",
                 id="status-string"),
    pytest.param(json.dumps(_with("_turnout", {"route": "Shadow!"})).encode(),
                 "log.entries[1]._turnout.route: 'Shadow!' is not a lower-case token",
                 id="turnout-route"),
])
def test_a_malformed_har_is_refused_naming_entry_and_field_and_nothing_is_written(
    recorded: Recorded, tmp_path: Path, content: bytes, said: str
) -> None:
    har = tmp_path / "bad.har"
    har.write_bytes(content)
    into = tmp_path / "rec"
    done = invoke("recordings", "import", har, "--into", into, "-c", recorded.config)
    assert done.exit_code == 2, done.output
    message = " ".join(done.output.split())
    assert said in message and "nothing imported" in message
    assert not into.exists()


def test_as_stored_takes_only_a_turnout_export(recorded: Recorded, tmp_path: Path) -> None:
    har = tmp_path / "devtools.har"
    har.write_text(json.dumps(_devtools_har()))
    into = tmp_path / "rec"
    done = invoke("recordings", "import", har, "--into", into, "--as-stored")
    assert done.exit_code == 2
    assert ("log.entries[0]._turnout: missing: --as-stored takes only a HAR file Turnout exported"
            in " ".join(done.output.split()))
    assert not into.exists()
