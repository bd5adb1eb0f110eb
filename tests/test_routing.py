"""The route table: validation naming line and field, write safety, canary choice, live reload,
round-trip editing and file safety."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from turnout.config import ConfigError
from turnout.routing import (
    Route,
    RouteHolder,
    RouteTable,
    RouteWatcher,
    caller_id,
    check_translators,
    choose_canary,
    load_route_table,
    parse_route_table,
    set_route,
)
from turnout.soap import OperationName

EXAMPLE = """\
# Turnout: the proxy and its routes
upstream: http://127.0.0.1:8000   # the legacy bus
listen: {host: 127.0.0.1, port: 8080}

canary:
  sticky_header: X-Officer-Id     # caller identity for canary stickiness

routes:
  # reads first: safe to fall back to the bus
  /pnc VehicleEnquiry:
    mode: translator              # moved 2026-11-20
    translator: pnc/VehicleEnquiry
    timeout: 2.0
    on_error: legacy
  /pnc PersonEnquiry:
    mode: canary
    percent: 10
  # writes: never twice
  /cris CreateCrimeReport:
    mode: translator
    writes: true
    on_error: fault
  /eforms SubmitWitnessStatement:
    mode: shadow
    writes: true
    shadow_target: dry-run

#  /geo LocateOfficer:
#    mode: shadow
"""


def write(tmp_path: Path, text: str, name: str = "turnout.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(text: str, path: str = "turnout.yaml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_route_table(text, path)
    return info.value


# --- the file format ---------------------------------------------------------------------------

def test_example_file_reads_as_documented(tmp_path: Path) -> None:
    table = load_route_table(write(tmp_path, EXAMPLE))
    assert [r.key for r in table] == [
        "/pnc VehicleEnquiry", "/pnc PersonEnquiry", "/cris CreateCrimeReport",
        "/eforms SubmitWitnessStatement",
    ]
    assert table.sticky_header == "X-Officer-Id"
    vehicle = table.route_for("/pnc VehicleEnquiry")
    assert (vehicle.mode, vehicle.timeout, vehicle.on_error, vehicle.line) == ("translator", 2.0, "legacy", 10)
    person = table.route_for(OperationName("/pnc", "PersonEnquiry", "urn:police:pnc:v1"))
    assert (person.mode, person.percent, person.timeout) == ("canary", 10.0, 5.0)
    assert person.translator is None and person.translator_name == "pnc/PersonEnquiry"
    crime = table.route_for("/cris CreateCrimeReport")
    assert crime.writes and crime.on_error == "fault"
    statement = table.route_for("/eforms SubmitWitnessStatement")
    assert (statement.mode, statement.shadow_target) == ("shadow", "dry-run")


def test_unlisted_operation_is_legacy_and_other_sections_are_ignored() -> None:
    table = parse_route_table("upstream: http://x\nrecordings: {dir: rec}\n", "t.yaml")
    assert len(table) == 0 and table.sticky_header is None
    assert table.route_for("/geo LocateOfficer") == Route("/geo LocateOfficer", "legacy")
    assert table.route_for("/geo LocateOfficer").mode == "legacy"


def test_on_error_defaults_to_legacy_for_reads_and_fault_for_writes() -> None:
    table = parse_route_table(
        "routes:\n  /pnc A: {mode: translator}\n  /cris B: {mode: translator, writes: true}\n", "t",
    )
    assert table.route_for("/pnc A").on_error == "legacy"
    assert table.route_for("/cris B").on_error == "fault"


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("routes:\n  /pnc A:\n    mode: translator\n    timout: 2\n", 4, "routes./pnc A.timout",
         "unknown field"),
        ("routes:\n  /pnc A:\n    mode: translater\n", 3, "routes./pnc A.mode", "must be one of"),
        ("routes:\n  /pnc A:\n    mode: canary\n", 2, "routes./pnc A", "needs percent"),
        ("routes:\n  /pnc A:\n    mode: canary\n    percent: 101\n", 4, "routes./pnc A.percent",
         "between 0 and 100"),
        ("routes:\n  /pnc A:\n    mode: canary\n    percent: -1\n", 4, "routes./pnc A.percent",
         "between 0 and 100"),
        ("routes:\n  /pnc A:\n    mode: canary\n    percent: ten\n", 4, "routes./pnc A.percent",
         "must be a number"),
        ("routes:\n  /pnc A:\n    mode: translator\n    percent: 10\n", 4,
         "routes./pnc A.percent", "only applies to mode canary"),
        ("routes:\n  /pnc A:\n    timeout: 0\n", 3, "routes./pnc A.timeout", "more than 0"),
        ("routes:\n  /pnc A:\n    timeout: 60.5\n", 3, "routes./pnc A.timeout", "between 0 and 60"),
        ("routes:\n  /pnc A:\n    on_error: retry\n", 3, "routes./pnc A.on_error", "legacy, fault"),
        ("routes:\n  /pnc A:\n    writes: 'yes'\n", 3, "routes./pnc A.writes", "true or false"),
        ("routes:\n  /pnc A:\n    translator: 'pnc VehicleEnquiry'\n", 3,
         "routes./pnc A.translator", "not a translator name"),
        ("routes:\n  /pnc A: translator\n", 2, "routes./pnc A", "must be a mapping"),
        ("routes:\n  /pnc A:\n    mode: legacy\n  pnc B:\n    mode: legacy\n", 4, "routes.pnc B",
         "starts with '/'"),
        ("routes:\n  /pnc/ B:\n    mode: legacy\n", 2, "routes./pnc/ B", "trailing '/'"),
        ("routes:\n  /pnc:\n    mode: legacy\n", 2, "routes./pnc", "one space"),
        ("routes:\n  /pnc B C:\n    mode: legacy\n", 2, "routes./pnc B C", "must look like"),
        ("routes:\n  - /pnc A\n", 1, "routes", "must be a mapping"),
        ("canary:\n  sticky_header: X-Officer-Id\n  stikcy: 1\n", 3, "canary.stikcy",
         "unknown field"),
        ("canary:\n  sticky_header: 'X Officer'\n", 2, "canary.sticky_header", "header name"),
    ],
)
def test_every_mistake_names_its_line_and_field(text: str, line: int, field: str, words: str) -> None:
    error = refused(text, "/etc/turnout/turnout.yaml")
    assert (error.file, error.line, error.field) == ("/etc/turnout/turnout.yaml", line, field)
    assert str(error).startswith(f"/etc/turnout/turnout.yaml:{line}: {field}: ")
    assert words in error.message


def test_duplicate_route_is_refused_with_its_line() -> None:
    error = refused("routes:\n  /pnc A: {mode: legacy}\n  /pnc A: {mode: translator}\n")
    assert error.line == 3 and "duplicate" in error.message


# --- writes are never done twice ---------------------------------------------------------------

@pytest.mark.parametrize("mode", ["translator", "canary"])
def test_write_that_could_fall_back_to_legacy_is_refused_and_says_why(mode: str) -> None:
    percent = "    percent: 5\n" if mode == "canary" else ""
    error = refused(
        f"routes:\n  /cris CreateCrimeReport:\n    mode: {mode}\n{percent}    writes: true\n"
        "    on_error: legacy\n"
    )
    assert error.field == "routes./cris CreateCrimeReport.on_error"
    assert error.line == (6 if mode == "canary" else 5)
    assert "a write cannot fall back to legacy" in error.message
    assert "may already have acted" in error.message and "on_error: fault" in error.message


def test_write_shadowed_without_a_target_is_refused_and_says_why() -> None:
    error = refused("routes:\n  /eforms Submit:\n    mode: shadow\n    writes: true\n")
    assert (error.line, error.field) == (2, "routes./eforms Submit")
    assert "both perform it" in error.message and "shadow_target" in error.message


def test_safe_write_routes_are_accepted() -> None:
    table = parse_route_table(
        "routes:\n"
        "  /cris A: {mode: translator, writes: true}\n"
        "  /cris B: {mode: canary, percent: 5, writes: true, on_error: fault}\n"
        "  /cris C: {mode: shadow, writes: true, shadow_target: dry-run}\n"
        "  /cris D: {mode: legacy, writes: true, on_error: legacy}\n", "t",
    )
    assert [r.on_error for r in table] == ["fault", "fault", "fault", "legacy"]


def test_check_translators_names_the_route_line() -> None:
    table = parse_route_table(EXAMPLE, "turnout.yaml")
    check_translators(table, {"pnc/VehicleEnquiry", "pnc/PersonEnquiry", "cris/CreateCrimeReport",
                              "eforms/SubmitWitnessStatement"})
    with pytest.raises(ConfigError) as info:
        check_translators(table, {"pnc/VehicleEnquiry", "pnc/PersonEnquiry",
                                  "eforms/SubmitWitnessStatement"})
    assert (info.value.line, info.value.field) == (19, "routes./cris CreateCrimeReport")
    assert "'cris/CreateCrimeReport'" in info.value.message
    with pytest.raises(ConfigError) as info:
        check_translators(table, set())
    assert (info.value.line, info.value.field) == (10, "routes./pnc VehicleEnquiry.translator")
    # legacy routes need no translator
    check_translators(parse_route_table("routes:\n  /x Y: {writes: true}\n", "t"), set())


class _Serving:
    """What routing reads of a translator: the keys its `operation:` lists."""

    def __init__(self, *operations: str) -> None:
        self.operation, self.operations = operations[0], operations


FOLDED = ("routes:\n  /merlin/records GetRecord: {mode: shadow}\n"
          "  /merlin/records/soap12 GetRecord: {mode: translator}\n")
BOTH = _Serving("/merlin/records GetRecord", "/merlin/records/soap12 GetRecord")


def test_a_route_for_a_folded_mappings_second_key_finds_it_by_its_operations() -> None:
    table = parse_route_table(FOLDED, "turnout.yaml")
    checked = check_translators(table, {"merlin/records/GetRecord": BOTH})
    assert [r.translator_name for r in checked] == ["merlin/records/GetRecord"] * 2
    second = checked.get("/merlin/records/soap12 GetRecord")
    assert second is not None and second.as_dict()["translator"] == "merlin/records/GetRecord"
    assert checked == table  # what was found is not a change to the file's routes
    # only names known: nothing to fall back to
    with pytest.raises(ConfigError) as info:
        check_translators(table, {"merlin/records/GetRecord"})
    assert (info.value.line, info.value.field) == (3, "routes./merlin/records/soap12 GetRecord")


def test_a_key_two_translators_could_serve_is_refused_with_file_line_and_field() -> None:
    table = parse_route_table(FOLDED, "turnout.yaml")
    with pytest.raises(ConfigError) as info:
        check_translators(table, {
            "merlin/records/GetRecord": BOTH,
            "merlin/v2/GetRecord": _Serving("/merlin/v2 GetRecord", "/merlin/records/soap12 GetRecord"),
        })
    assert (info.value.file, info.value.line) == ("turnout.yaml", 3)
    assert info.value.field == "routes./merlin/records/soap12 GetRecord"
    assert "'merlin/records/GetRecord'" in info.value.message and "'merlin/v2/GetRecord'" in info.value.message
    # one named after the key that serves other keys, and one that lists it: ambiguous too
    with pytest.raises(ConfigError) as info:
        check_translators(table, {
            "merlin/records/GetRecord": BOTH,
            "merlin/records/soap12/GetRecord": _Serving("/merlin/other GetRecord"),
        })
    assert info.value.field == "routes./merlin/records/soap12 GetRecord"
    # naming the translator settles it
    named = parse_route_table(FOLDED.replace(
        "{mode: translator}", "{mode: translator, translator: merlin/records/GetRecord}"), "t")
    check_translators(named, {
        "merlin/records/GetRecord": BOTH,
        "merlin/v2/GetRecord": _Serving("/merlin/v2 GetRecord", "/merlin/records/soap12 GetRecord"),
    })


# --- the table ---------------------------------------------------------------------------------

def test_diff_describes_each_change_for_the_log() -> None:
    old = parse_route_table(EXAMPLE, "t")
    new = parse_route_table(
        EXAMPLE.replace("percent: 10", "percent: 25")
        .replace("    mode: translator              # moved", "    mode: legacy  # moved")
        .replace("#  /geo LocateOfficer:\n#    mode: shadow", "  /geo LocateOfficer:\n    mode: shadow")
        .replace("  sticky_header: X-Officer-Id", "  sticky_header: X-Device-Id"), "t",
    )
    assert old.diff(new) == [
        "canary.sticky_header: X-Officer-Id -> X-Device-Id",
        "/pnc VehicleEnquiry: mode translator -> legacy",
        "/pnc PersonEnquiry: percent 10 -> 25",
        "/geo LocateOfficer: added: shadow",
    ]
    assert new.diff(old)[-1] == "/geo LocateOfficer: removed (was shadow); now legacy"
    assert old.diff(parse_route_table(EXAMPLE.replace("# reads first", "# moved lines"), "t")) == []


def test_table_is_immutable_and_holder_swaps_whole_tables() -> None:
    first = parse_route_table(EXAMPLE, "t")
    with pytest.raises(AttributeError):
        first.salt = "x"  # type: ignore[misc]
    holder = RouteHolder(first)
    in_flight = holder.get()
    second = RouteTable([Route("/pnc VehicleEnquiry")])
    assert holder.swap(second) is first
    assert holder.get() is second
    assert in_flight.route_for("/pnc VehicleEnquiry").mode == "translator"


# --- canary ------------------------------------------------------------------------------------

def canary(percent: float, key: str = "/pnc PersonEnquiry") -> Route:
    return Route(key, "canary", percent=percent)


def test_canary_is_sticky_per_caller() -> None:
    route = canary(50)
    for caller in ("h:PC-1234", "h:PC-9876", "a:10.1.2.3"):
        first = choose_canary(route, caller)
        assert all(choose_canary(route, caller) is first for _ in range(1000))


@pytest.mark.parametrize(("percent", "tolerance"), [(10, 0.01), (50, 0.015)])
def test_canary_share_is_close_to_percent(percent: int, tolerance: float) -> None:
    route = canary(percent)
    callers = [f"h:PC-{n}" for n in range(20_000)]
    share = sum(choose_canary(route, c) for c in callers) / len(callers)
    assert abs(share - percent / 100) < tolerance  # > 4 standard deviations


def test_raising_the_percent_only_adds_callers_and_ends_are_exact() -> None:
    callers = [f"h:PC-{n}" for n in range(5000)]
    at10 = {c for c in callers if choose_canary(canary(10), c)}
    at20 = {c for c in callers if choose_canary(canary(20), c)}
    assert at10 < at20
    assert not any(choose_canary(canary(0), c) for c in callers)
    assert all(choose_canary(canary(100), c) for c in callers)
    assert not choose_canary(Route("/pnc PersonEnquiry", "translator"), callers[0])


def test_operations_and_salts_deal_callers_independently() -> None:
    callers = [f"h:PC-{n}" for n in range(5000)]
    person = {c for c in callers if choose_canary(canary(50), c)}
    vehicle = {c for c in callers if choose_canary(canary(50, "/pnc VehicleEnquiry"), c)}
    salted = {c for c in callers if choose_canary(canary(50), c, salt="2026-11")}
    assert 0.4 < len(person & vehicle) / len(person) < 0.6
    assert 0.4 < len(person & salted) / len(person) < 0.6


def test_caller_id_prefers_the_sticky_header_then_the_address_without_port() -> None:
    headers = {"x-officer-id": " PC-1234 "}
    assert caller_id(headers, "10.0.0.7:51234", "X-Officer-Id") == "h:PC-1234"
    assert caller_id({}, "10.0.0.7:51234", "X-Officer-Id") == "a:10.0.0.7"
    assert caller_id(headers, "10.0.0.7", None) == "a:10.0.0.7"
    assert caller_id({}, "[2001:db8::1]:443", None) == caller_id({}, "2001:db8::1", None)
    assert caller_id({"x-officer-id": ""}, "10.0.0.8", "x-officer-id") == "a:10.0.0.8"


# --- file safety -------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_world_writable_route_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    path.chmod(0o666)
    with pytest.raises(ConfigError) as info:
        load_route_table(path)
    assert info.value.file == str(path) and "world-writable" in info.value.message


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners")
def test_route_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, EXAMPLE)
    if os.getuid() == 0:
        os.chown(path, 4242, -1)
        monkeypatch.setattr(os, "getuid", lambda: 1000)
    else:
        monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(ConfigError) as info:
        load_route_table(path)
    assert info.value.file == str(path) and "owned by uid" in info.value.message


# --- live reload -------------------------------------------------------------------------------

class Events:
    def __init__(self) -> None:
        self.tables: list[RouteTable] = []
        self.errors: list[ConfigError] = []
        self.changed = threading.Event()
        self.failed = threading.Event()

    def on_change(self, table: RouteTable) -> None:
        self.tables.append(table)
        self.changed.set()

    def on_error(self, error: ConfigError) -> None:
        self.errors.append(error)
        self.failed.set()


def save_like_an_editor(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def wait_for(condition: Callable[[], bool], seconds: float = 1.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def watched(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, EXAMPLE)
    events = Events()
    watcher = RouteWatcher(path, events.on_change, events.on_error, interval=0.05)
    watcher.start()
    yield path, watcher, events
    watcher.stop()


def test_watcher_applies_a_valid_edit_within_a_second(watched) -> None:  # type: ignore[no-untyped-def]
    path, watcher, events = watched
    old = watcher.current
    path.write_text(EXAMPLE.replace("percent: 10", "percent: 30"), encoding="utf-8")
    assert events.changed.wait(1.0)
    assert watcher.current is events.tables[-1]
    assert watcher.current.route_for("/pnc PersonEnquiry").percent == 30
    assert old.diff(watcher.current) == ["/pnc PersonEnquiry: percent 10 -> 30"]
    assert events.errors == []


def test_watcher_keeps_the_last_good_table_on_an_invalid_edit(watched) -> None:  # type: ignore[no-untyped-def]
    path, watcher, events = watched
    good = watcher.current
    save_like_an_editor(path, EXAMPLE.replace("    on_error: fault\n", "    on_error: legacy\n"))
    assert events.failed.wait(1.0)
    assert events.errors[0].line == 22 and "cannot fall back" in events.errors[0].message
    time.sleep(0.2)
    assert watcher.current is good and events.tables == []
    assert len(events.errors) == 1  # reported once, not on every poll
    save_like_an_editor(path, EXAMPLE.replace("mode: canary", "mode: legacy").replace(
        "    percent: 10\n", ""))
    assert events.changed.wait(1.0)
    assert watcher.current.route_for("/pnc PersonEnquiry").mode == "legacy"


def test_watcher_ignores_saves_that_change_nothing(watched) -> None:  # type: ignore[no-untyped-def]
    path, watcher, events = watched
    good = watcher.current
    save_like_an_editor(path, EXAMPLE)
    save_like_an_editor(path, EXAMPLE.replace("# reads first", "# reads, first"))
    time.sleep(0.3)
    assert events.tables == [] and events.errors == [] and watcher.current is good


def test_watcher_survives_delete_and_recreate(watched) -> None:  # type: ignore[no-untyped-def]
    path, watcher, events = watched
    path.unlink()
    time.sleep(0.25)  # several polls with no file
    assert events.errors == [] and watcher.current is not None
    path.write_text(EXAMPLE.replace("timeout: 2.0", "timeout: 3.0"), encoding="utf-8")
    assert events.changed.wait(1.0)
    assert watcher.current.route_for("/pnc VehicleEnquiry").timeout == 3.0
    assert events.errors == []


def test_watcher_reports_a_long_missing_file_once_and_keeps_routes(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    events = Events()
    with RouteWatcher(path, events.on_change, events.on_error, interval=0.02,
                      missing_grace=0.1) as watcher:
        path.unlink()
        assert events.failed.wait(1.0)
        time.sleep(0.2)
        assert len(events.errors) == 1 and "missing" in events.errors[0].message
        assert watcher.current is not None and len(watcher.current) == 4


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_watcher_refuses_a_file_made_world_writable(watched) -> None:  # type: ignore[no-untyped-def]
    path, watcher, events = watched
    good = watcher.current
    path.write_text(EXAMPLE.replace("percent: 10", "percent: 90"), encoding="utf-8")
    path.chmod(0o666)
    assert events.failed.wait(1.0)
    assert "world-writable" in events.errors[0].message and watcher.current is good


def test_watcher_validate_hook_and_failing_on_change_keep_the_old_table(tmp_path: Path) -> None:
    path = write(tmp_path, "routes:\n  /pnc A: {mode: translator}\n")
    events = Events()
    watcher = RouteWatcher(path, events.on_change, events.on_error, interval=0.02,
                           validate=lambda table: check_translators(table, {"pnc/A"}))
    with watcher:
        save_like_an_editor(path, "routes:\n  /pnc A: {mode: translator}\n  /pnc B: {mode: shadow}\n")
        assert events.failed.wait(1.0)
        assert events.errors[0].field == "routes./pnc B" and "pnc/B" in events.errors[0].message
        assert "/pnc B" not in watcher.current and events.tables == []

    def exploding(table: RouteTable) -> None:
        raise RuntimeError("proxy not ready")

    errors: list[ConfigError] = []
    with RouteWatcher(path, exploding, errors.append, interval=0.02) as watcher:
        first = watcher.current
        save_like_an_editor(path, "routes:\n  /pnc A: {mode: legacy}\n")
        assert wait_for(lambda: bool(errors))
        assert "proxy not ready" in errors[0].message and watcher.current is first


def test_watcher_start_refuses_an_invalid_file(tmp_path: Path) -> None:
    path = write(tmp_path, "routes:\n  /pnc A: {mode: sideways}\n")
    watcher = RouteWatcher(path, lambda t: None, lambda e: None)
    with pytest.raises(ConfigError) as info:
        watcher.start()
    assert info.value.line == 2


# --- set_route ---------------------------------------------------------------------------------

def test_set_route_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    table = set_route(path, "/pnc PersonEnquiry", "canary", 25)
    assert table.route_for("/pnc PersonEnquiry").percent == 25
    assert path.read_text() == EXAMPLE.replace("percent: 10", "percent: 25")

    set_route(path, "/pnc VehicleEnquiry", "legacy")
    set_route(path, "/geo LocateOfficer", "shadow")
    text = path.read_text()
    assert "    mode: legacy                  # moved 2026-11-20\n" in text
    for comment in ("# Turnout: the proxy and its routes", "# the legacy bus",
                    "# caller identity for canary stickiness", "# reads first",
                    "# writes: never twice"):
        assert comment in text
    # the commented-out block that closed the section still closes it
    assert text.endswith("  /geo LocateOfficer:\n    mode: shadow\n\n"
                         "#  /geo LocateOfficer:\n#    mode: shadow\n")
    assert load_route_table(path).route_for("/geo LocateOfficer").mode == "shadow"


def test_set_route_drops_percent_outside_canary_and_creates_the_section(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    table = set_route(path, "/pnc PersonEnquiry", "translator")
    assert table.route_for("/pnc PersonEnquiry") == Route("/pnc PersonEnquiry", "translator")
    assert "percent" not in path.read_text()

    bare = write(tmp_path, "upstream: http://127.0.0.1:8000  # bus\n", "bare.yaml")
    set_route(bare, "/pnc PersonEnquiry", "canary", 12.5)
    assert bare.read_text() == (
        "upstream: http://127.0.0.1:8000  # bus\n"
        "routes:\n  /pnc PersonEnquiry:\n    mode: canary\n    percent: 12.5\n"
    )


@pytest.mark.parametrize(
    ("key", "mode", "percent", "words"),
    [
        ("/cris CreateCrimeReport", "canary", None, "needs percent"),
        ("/pnc PersonEnquiry", "canary", 200, "between 0 and 100"),
        ("/pnc PersonEnquiry", "translator", 10, "only applies to mode canary"),
        ("/pnc PersonEnquiry", "sideways", None, "must be one of"),
        ("pnc PersonEnquiry", "legacy", None, "must look like"),
    ],
)
def test_set_route_refuses_an_invalid_change_without_touching_the_file(
    tmp_path: Path, key: str, mode: str, percent: float | None, words: str,
) -> None:
    path = write(tmp_path, EXAMPLE)
    before = path.stat()
    with pytest.raises(ConfigError) as info:
        set_route(path, key, mode, percent)
    assert words in info.value.message and info.value.file == str(path)
    assert path.read_text() == EXAMPLE and path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["turnout.yaml"]


def test_set_route_refuses_to_make_a_write_fall_back_to_legacy(tmp_path: Path) -> None:
    text = "routes:\n  /cris CreateCrimeReport:\n    writes: true\n    on_error: legacy\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        set_route(path, "/cris CreateCrimeReport", "translator")
    assert info.value.field == "routes./cris CreateCrimeReport.on_error"
    assert "cannot fall back to legacy" in str(info.value) and "not changed" in str(info.value)
    assert path.read_text() == text


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_set_route_keeps_the_file_mode(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    path.chmod(0o640)
    set_route(path, "/pnc PersonEnquiry", "legacy")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_watcher_sees_an_edit_to_an_old_file_and_not_a_touch(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    long_ago = time.time() - 3600
    os.utime(path, (long_ago, long_ago))  # old enough for its stat signature to be trusted
    events = Events()
    with RouteWatcher(path, events.on_change, events.on_error, interval=0.02) as watcher:
        os.utime(path, (long_ago + 60, long_ago + 60))  # a touch: same bytes
        time.sleep(0.1)
        assert events.tables == []
        set_route(path, "/pnc PersonEnquiry", "canary", 20)  # the CLI, on a running proxy
        assert events.changed.wait(1.0)
        assert watcher.current.route_for("/pnc PersonEnquiry").percent == 20
