"""Pseudonymisation: the same person gets the same token everywhere, in the field's own format."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from lxml import etree

from turnout.config import ConfigError, load_proxy_config
from turnout.demo import DemoStore, ServerThread, make_legacy_app
from turnout.demo.config import demo_proxy_config
from turnout.demo.scenario import run_scenario
from turnout.proxy import ProxyThread
from turnout.recording import Pseudonymiser, RecordingStore, redactor_from_config
from turnout.soap import make_parser

KEY = b"0123456789abcdef0123456789abcdef"
WSDL = Path(__file__).resolve().parents[1] / "turnout" / "demo" / "wsdl"


def test_same_value_same_token_whatever_the_case_or_format() -> None:
    p = Pseudonymiser(KEY)
    assert p("THISTLEWOOD") == p("Thistlewood").upper()
    assert p(" Thistlewood ") == " " + p("Thistlewood") + " "  # surrounding whitespace kept
    born = date(1985, 3, 14)
    legacy, iso, compact = p("14/03/1985"), p("1985-03-14"), p("19850314")
    shifted = datetime.strptime(legacy, "%d/%m/%Y").date()
    assert iso == shifted.isoformat() and compact == shifted.strftime("%Y%m%d")
    assert shifted < born  # shifted back: a date of birth stays in the past
    assert p("12 Larkspur Close, Turnbridge") == ", ".join(p(part) for part in ("12 Larkspur Close", "Turnbridge"))
    assert Pseudonymiser(b"another key of 16+ bytes")("THISTLEWOOD") != p("THISTLEWOOD")


@given(st.text(alphabet=st.characters(categories=["Lu", "Ll", "Nd", "Zs", "Pd", "Po"]), max_size=40))
def test_tokens_keep_the_shape_of_what_they_replace(value: str) -> None:
    token = Pseudonymiser(KEY)(value)
    assert len(token) == len(value)
    for original, replaced in zip(value, token):
        if original.isalpha():
            assert replaced.isalpha() and replaced.isupper() == original.isupper()
        elif original.isdigit():
            assert replaced.isdigit()
        else:
            assert replaced == original


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)))
def test_dates_stay_valid_dates(day: date) -> None:
    token = Pseudonymiser(KEY)(day.strftime("%d/%m/%Y"))
    assert datetime.strptime(token, "%d/%m/%Y").date() < day


def test_key_from_env_or_file_and_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KEY", KEY.decode())
    rules = {"body": ["//surname"]}
    assert isinstance(redactor_from_config({**rules, "key_env": "TEST_KEY"}).replacement, Pseudonymiser)
    with pytest.raises(ValueError, match="not set"):
        redactor_from_config({**rules, "key_env": "NO_SUCH_KEY_VARIABLE"})
    with pytest.raises(ValueError, match="cannot read"):
        redactor_from_config({**rules, "key_file": str(tmp_path / "absent.key")})
    config = tmp_path / "turnout.yaml"
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "k.key").write_bytes(KEY)
    config.write_text("upstream: http://x\nrecordings:\n  dir: rec\n  redaction:\n    key_file: rec/k.key\n")
    with pytest.raises(ConfigError, match="beside the recordings") as info:
        load_proxy_config(config)
    assert info.value.line == 5


def test_pseudonymised_demo_recordings_still_validate_against_the_xsd(tmp_path: Path) -> None:
    with ServerThread(make_legacy_app(DemoStore())) as bus:
        with ProxyThread(demo_proxy_config(bus.url, tmp_path / "rec")) as proxy:
            calls = run_scenario(proxy.url)
    schemas = {name: etree.XMLSchema(etree.parse(str(WSDL / f"{name}.xsd"), make_parser()))
               for name in ("pnc", "cris", "geo", "eforms")}
    checked = 0
    for exchange in RecordingStore(tmp_path / "rec").iter_exchanges():
        if exchange.response is None or exchange.response.status != 200:
            continue
        root = etree.fromstring(exchange.response.body, make_parser())
        payload = root.find("{*}Body")[0]
        schema = schemas[exchange.operation.service.strip("/")]
        assert schema.validate(payload), (exchange.operation.key, schema.error_log)
        checked += 1
    assert checked == sum(1 for c in calls if c.ok)
