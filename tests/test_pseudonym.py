"""Pseudonymisation: the same person gets the same token everywhere, in the field's own format."""

from __future__ import annotations

import hmac
import random
import re
from datetime import date, datetime, timedelta
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
    schemas = {path.stem: etree.XMLSchema(etree.parse(str(path), make_parser()))
               for path in sorted(WSDL.glob("*.xsd"))}  # one per service the bus serves
    checked = 0
    services: set[str] = set()
    for exchange in RecordingStore(tmp_path / "rec").iter_exchanges():
        if exchange.response is None or exchange.response.status != 200:
            continue
        root = etree.fromstring(exchange.response.body, make_parser())
        payload = root.find("{*}Body")[0]
        schema = schemas[exchange.operation.service.strip("/")]
        assert schema.validate(payload), (exchange.operation.key, schema.error_log)
        checked += 1
        services.add(exchange.operation.service.strip("/"))
    assert checked == sum(1 for c in calls if c.ok)
    assert services == set(schemas)  # every service answered and was checked


# -- the same tokens as before tokens got cheaper ----------------------------------------------


class _Before:
    """`Pseudonymiser` as it was before it was made cheaper (commit b3ff40e), verbatim but for
    the names: the reference the faster one must agree with, token for token."""

    _RUN = re.compile(r"[^\W\d_]+|\d+")
    _DATE_FORMATS = (
        (re.compile(r"\d{2}/\d{2}/\d{4}"), "%d/%m/%Y"),
        (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
        (re.compile(r"\d{8}"), "%Y%m%d"),
    )
    _ISO_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)")
    _DIGITS = bytes(ord("0") + b % 10 for b in range(256))
    _LETTERS = bytes(ord("a") + b % 26 for b in range(256))

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str, rule: object = None) -> str:
        core = value.strip()
        if not core:
            return value
        start = value.index(core[0])
        return value[:start] + self._token(core) + value[start + len(core):]

    def digest_key(self) -> bytes:
        return self._mac(b"digest-key", b"")

    def _token(self, text: str) -> str:
        shifted = self._date(text)
        if shifted is not None:
            return shifted
        return self._RUN.sub(lambda m: self._run(m.group(0)), text)

    def _date(self, text: str) -> str | None:
        match = self._ISO_DATETIME.fullmatch(text)
        if match:
            day = self._date(match.group(1))
            return None if day is None else day + match.group(2)
        for pattern, fmt in self._DATE_FORMATS:
            if pattern.fullmatch(text):
                try:
                    parsed = datetime.strptime(text, fmt).date()
                except ValueError:
                    return None
                if not 1800 <= parsed.year <= 2200:
                    return None
                return self._shift(parsed).strftime(fmt)
        return None

    def _shift(self, day: date) -> date:
        digest = self._mac(b"date", day.isoformat().encode())
        days = 1 + int.from_bytes(digest[:4], "big") % 3650
        return day - timedelta(days=days)

    def _run(self, run: str) -> str:
        if run.isdigit():
            return self._stream(b"digits", run.encode(), len(run)).translate(self._DIGITS).decode("ascii")
        letters = self._stream(b"letters", run.lower().encode("utf-8"), len(run))
        token = letters.translate(self._LETTERS).decode("ascii")
        if run.isascii():
            if run.isupper():
                return token.upper()
            if run.islower():
                return token
        return "".join(c.upper() if o.isupper() else c for c, o in zip(token, run, strict=True))

    def _mac(self, kind: bytes, data: bytes) -> bytes:
        return hmac.digest(self._key, kind + b"\x00" + data, "sha256")

    def _stream(self, kind: bytes, data: bytes, length: int) -> bytes:
        blocks, have, counter = [], 0, 0
        while have < length:
            block = self._mac(kind, data + counter.to_bytes(4, "big"))
            blocks.append(block)
            have += len(block)
            counter += 1
        return b"".join(blocks)[:length]


def _values(count: int) -> list[str]:
    """`count` values of every kind a field holds, and of kinds that test the edges: dates in
    each format (valid, impossible, out of range, with other digits), datetimes, names in any
    case and script, long runs (more than one MAC), whitespace around, nothing at all."""
    rng = random.Random(20_000)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    odd_letters = "éÉëËøØßẞςΣσİıKﬁǅŉÅåÆæЖжΩ"  # K is KELVIN SIGN; ǅ a titlecase letter
    odd_digits = "٣٤۵३३৭０１２３²³½"  # Arabic-Indic, Devanagari, fullwidth; ², ½ are no \d
    separators = " -/.,'&:_\t"

    def word(alphabet: str, low: int, high: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))

    def a_date() -> str:
        year = rng.choice([rng.randint(1800, 2200), rng.randint(1000, 1799), rng.randint(2201, 9999),
                           0, 1, 1799, 1800, 2200, 2201])
        month, day = rng.randint(0, 13), rng.randint(0, 32)
        layout = rng.choice(["{d:02d}/{m:02d}/{y:04d}", "{y:04d}-{m:02d}-{d:02d}", "{y:04d}{m:02d}{d:02d}"])
        text = layout.format(y=year, m=month, d=day)
        if rng.random() < 0.1:
            text = "".join(rng.choice(odd_digits[:11]) if c.isdigit() and rng.random() < 0.3 else c
                           for c in text)
        if rng.random() < 0.15 and "-" in text:
            text += rng.choice(["T12:00:00Z", "T08:15:30.5+01:00", "T23:59", "T1", "T12:00:00+0100"])
        return text

    kinds = [
        lambda: word(letters, 1, 14),
        lambda: word(letters, 1, 8).upper() + " " + word(letters, 1, 8).lower(),
        lambda: word(letters, 1, 8).title() + rng.choice(separators) + word(letters, 1, 8),
        lambda: word(letters + odd_letters, 1, 12),
        lambda: word("0123456789", 1, 12),
        lambda: word("0123456789" + odd_digits, 1, 10),
        lambda: word(letters, 33, 80),  # a run of more than one MAC's worth
        lambda: word("0123456789", 33, 70),
        a_date,
        a_date,
        lambda: f"TB{rng.randint(1, 99)} {word(letters, 3, 3).upper()}",
        lambda: f"{rng.randint(10, 99)}/{rng.randint(100000, 999999)}{rng.choice(letters).upper()}",
        lambda: f"{rng.randint(1, 999)} {word(letters, 4, 10).title()} Close, {word(letters, 5, 10).upper()}",
        lambda: word(letters + "0123456789" + separators + odd_letters + odd_digits, 0, 30),
        lambda: "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(0, 12))),
        lambda: rng.choice(["", " ", "\t\n", "  x  ", "-", "--", "_", "__init__", "a_b", " 12 "]),
    ]
    values = []
    for _ in range(count):
        value = rng.choice(kinds)()
        if rng.random() < 0.1:
            value = rng.choice([" ", "\n  ", "\t"]) + value + rng.choice(["", " ", "\r\n"])
        values.append(value)
    return values


def test_tokens_are_those_of_the_implementation_before_it_was_made_cheaper() -> None:
    values = _values(20_000)
    before = _Before(KEY)
    after = Pseudonymiser(KEY)
    assert after.digest_key() == before.digest_key()
    expected = [before(value) for value in values]
    assert [after(value) for value in values] == expected  # worked out
    assert [after(value) for value in values] == expected  # and remembered
    assert [after(value) for value in reversed(values)] == expected[::-1]
    dates = sum(1 for value, token in zip(values, expected, strict=True) if "/" in value and value != token
                and len(value.strip()) == 10 and value.strip()[2] == "/" and token.strip()[2] == "/")
    assert dates > 100  # the dates were dates, not only runs of digits
