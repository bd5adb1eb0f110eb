"""`turnout recordings scan` finds raw personal values; `prune` enforces retention."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.demo.data import personal_values
from turnout.recording import (
    Exchange, RecordingStore, dumps, parse_age, prune, redactor_from_config, scan,
)
from turnout.soap import HttpRequest, HttpResponse, OperationName

FAULT = (
    "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body><s:Fault>"
    "<faultcode>s:Client</faultcode><faultstring>dateOfBirth '{dob}' is not a date</faultstring>"
    "</s:Fault></s:Body></s:Envelope>"
)


def write(store: RecordingStore, body: str, at: datetime | None = None) -> Path:
    return store.write(Exchange(
        request=HttpRequest("POST", "/pnc", [], b"<x/>"),
        response=HttpResponse(500, [], body.encode()),
        client="127.0.0.1",
        started_at=at or datetime.now(timezone.utc),
        operation=OperationName("/pnc", "PersonEnquiry"),
    ))


def test_scan_finds_a_raw_value_and_names_file_and_line_but_not_the_value(tmp_path: Path) -> None:
    person = personal_values()
    dob = next(v for v in person if v.count("-") == 2)
    path = write(RecordingStore(tmp_path), FAULT.format(dob=dob))
    hits = scan(tmp_path, person)
    assert hits and hits[0].path == path and hits[0].kind == "known value"
    result = CliRunner().invoke(main, ["recordings", "scan", str(tmp_path), "--demo"])
    assert result.exit_code == 1
    assert f"{path}:" in result.output and dob not in result.output


def written_before_decoding(root: Path, body: bytes, headers: list[tuple[str, str]]) -> Path:
    """A recording as the store wrote a compressed answer before it decoded them: the bytes as
    sent, base64, beside their Content-Encoding header (`dumps` is the store's serialiser)."""
    exchange = Exchange(
        request=HttpRequest("POST", "/pnc", [], b"<x/>"),
        response=HttpResponse(500, [("Content-Type", "text/xml"), *headers], body),
        client="127.0.0.1",
        operation=OperationName("/pnc", "PersonEnquiry"),
    )
    path = root / "pnc" / "PersonEnquiry" / f"{exchange.id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(exchange))
    return path


def test_scan_finds_raw_values_inside_gzip_bodies_of_older_recordings(tmp_path: Path) -> None:
    person = personal_values()
    dob = next(v for v in person if v.count("-") == 2)
    fault = FAULT.format(dob=dob).replace("<s:Fault>", "<s:Fault>\n")  # the value on line 2
    path = written_before_decoding(tmp_path, gzip.compress(fault.encode()),
                                   [("Content-Encoding", "gzip")])
    text = path.read_text()
    assert "body_base64" in text and dob not in text  # a text search alone cannot see it
    line = next(n for n, t in enumerate(text.split("\n"), start=1) if "body_base64" in t)
    hits = scan(tmp_path, person, ["date"])
    assert [(h.line, h.kind, h.inside) for h in hits] == [
        (line, "known value", "gzip response body, line 2"),
        (line, "date", "gzip response body, line 2"),
    ]
    result = CliRunner().invoke(main, ["recordings", "scan", str(tmp_path), "--demo"])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # rich wraps long lines
    assert f"{path}:{line}: known value (in the gzip response body, line 2)" in output
    assert dob not in result.output


def test_scan_reads_base64_bodies_in_other_charsets_and_flags_what_it_cannot_decode(
    tmp_path: Path,
) -> None:
    latin1 = written_before_decoding(tmp_path, "<a>Zoë MARCHBANK</a>".encode("latin-1"), [])
    broken = written_before_decoding(tmp_path, gzip.compress(b"<a>x</a>")[:-12],
                                     [("Content-Encoding", "gzip")])
    hits = {(h.path, h.kind, h.inside) for h in scan(tmp_path, ["Marchbank"])}
    assert hits == {
        (latin1, "known value", "base64 response body, line 1"),
        (broken, "compressed body not scanned (bad-encoding)", "gzip response body"),
    }
    result = CliRunner().invoke(main, ["recordings", "scan", str(tmp_path), "--known",
                                       str(_file(tmp_path, "Nobody"))])
    assert result.exit_code == 1  # what could not be checked is not called clean
    assert "compressed body not scanned (bad-encoding)" in " ".join(result.output.split())


def test_quoted_rule_hides_what_a_message_quotes_back_of_a_hidden_field(tmp_path: Path) -> None:
    redactor = redactor_from_config({"body": ["//dob"], "quoted": ["//faultstring"]})
    store = RecordingStore(tmp_path, redactor)
    hidden = store.write(Exchange(
        request=HttpRequest("POST", "/pnc", [], b"<r><dob>1965-09-30</dob><ref>CR-2026-17</ref></r>"),
        response=HttpResponse(500, [], FAULT.format(dob="1965-09-30").replace("dateOfBirth", "x").encode()
                              + b""),
        client="127.0.0.1", operation=OperationName("/pnc", "PersonEnquiry"),
    ))
    text = hidden.read_text()
    assert "1965-09-30" not in text and "is not a date" in text
    kept = write(store, FAULT.format(dob="CR-2026-17"))  # quoted, but no field rule hid it
    assert "'CR-2026-17'" in kept.read_text()


def test_scan_patterns_and_clean_exit(tmp_path: Path) -> None:
    write(RecordingStore(tmp_path), "<ok>TB1 4LX</ok>")
    assert [h.kind for h in scan(tmp_path, patterns=["postcode"])] == ["postcode"]
    clean = CliRunner().invoke(main, ["recordings", "scan", str(tmp_path), "--known", str(_file(tmp_path, "Nobody"))])
    assert clean.exit_code == 0 and "clean" in clean.output


def test_prune_deletes_only_what_is_older_than_the_age(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    now = datetime.now(timezone.utc)
    old = write(store, "<old/>", now - timedelta(days=31))
    new = write(store, "<new/>", now - timedelta(days=29))
    assert prune(tmp_path, parse_age("30d"), dry_run=True) == [old] and old.exists()
    result = CliRunner().invoke(main, ["recordings", "prune", str(tmp_path), "--older-than", "30d"])
    assert result.exit_code == 0 and "deleted 1" in result.output
    assert not old.exists() and new.exists()
    bad = CliRunner().invoke(main, ["recordings", "prune", str(tmp_path), "--older-than", "a month"])
    assert bad.exit_code == 2 and "30d" in bad.output


def test_prune_takes_an_age_in_minutes(tmp_path: Path) -> None:
    """`--older-than 2m`: after a fix, an operator drops the last minutes' evidence. `m` is
    minutes; units combine largest first; months are refused (no one length)."""
    store = RecordingStore(tmp_path)
    now = datetime.now(timezone.utc)
    old = write(store, "<old/>", now - timedelta(minutes=3))
    new = write(store, "<new/>", now - timedelta(seconds=30))
    result = CliRunner().invoke(main, ["recordings", "prune", str(tmp_path), "--older-than", "2m"])
    assert result.exit_code == 0, result.output
    assert "deleted 1" in result.output and not old.exists() and new.exists()
    assert parse_age("90m") == timedelta(minutes=90)
    assert parse_age("1d12h") == timedelta(days=1, hours=12)
    assert parse_age("2h30m") == timedelta(hours=2, minutes=30)
    for bad in ("2M", "2mo", "30m1d", "1.5h", "2"):
        with pytest.raises(ValueError, match="90m"):
            parse_age(bad)


def _file(tmp_path: Path, *values: str) -> Path:
    path = tmp_path / "known.txt"
    path.write_text("\n".join(values))
    return path


@pytest.mark.parametrize(("raw", "kind"), [
    ("<victimPncId>98/122459R</victimPncId>", "demo-pnc-id"),
    ("path: /people/98%2F122459R", "demo-pnc-id"),
    ("<officerId>PC5518</officerId>", "demo-officer-id"),
    ("[X-Officer-Id, pcso9001]", "demo-officer-id"),
    ("path: /vehicles/TB19XKF", "demo-vehicle"),
    ("<registrationMark>tb21 qpa</registrationMark>", "demo-vehicle"),
    ("<faultstring>no location found for postcode TB9 4ZQ</faultstring>", "demo-postcode"),
])
def test_scan_demo_finds_the_demos_identifiers_but_not_their_pseudonyms(
    tmp_path: Path, raw: str, kind: str
) -> None:
    """PNC IDs, officer IDs, registrations, postcodes: pseudonyms keep their shape, so
    `--demo` looks for what only raw ones have (force 98, Turnbridge's TB, a rank)."""
    raw_store, pseudonymised = tmp_path / "raw", tmp_path / "pseudonymised"
    write(RecordingStore(raw_store), raw)
    key = Path(__file__).resolve().parents[1] / "turnout" / "demo" / "demo-pseudonym.key"
    redactor = redactor_from_config({"body": ["/*"], "key_file": str(key)})
    write(RecordingStore(pseudonymised, redactor), raw)
    assert kind in {hit.kind for hit in scan(raw_store, patterns=[kind])}
    result = CliRunner().invoke(main, ["recordings", "scan", str(raw_store), "--demo"])
    assert result.exit_code == 1 and kind in result.output
    for value in ("98/122459R", "PC5518", "TB19XKF", "TB9 4ZQ"):
        assert value not in result.output  # the report names the kind, never the value
    clean = CliRunner().invoke(main, ["recordings", "scan", str(pseudonymised), "--demo"])
    assert clean.exit_code == 0, clean.output


def test_committed_golden_set_holds_no_raw_personal_data() -> None:
    """CI's scan of recordings/ against the demo's seeded people (names, dates, addresses) and
    its identifiers (PNC IDs, officer IDs, vehicle registrations, postcodes)."""
    golden = Path(__file__).resolve().parents[1] / "recordings"
    assert list(golden.rglob("*.yaml")), "the golden set should be committed"
    result = CliRunner().invoke(main, ["recordings", "scan", str(golden), "--demo"])
    assert result.exit_code == 0, result.output
    assert "clean" in result.output and "demo-pnc-id" in result.output
