"""Compare rules: ignore, unordered sets, normalisers, and the rules file with its errors."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from turnout.compare import (
    CHANGED,
    EXTRA,
    MISSING,
    Difference,
    Ignore,
    Normalise,
    RuleError,
    Rules,
    Unordered,
    diff,
    load_rules,
    parse_rules,
    rules_for,
)
from turnout.config import ConfigError
from turnout.demo.bus import SERVICES, answer
from turnout.demo.data import DemoStore

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
HDR = "urn:police:pnc:v1"
NS = {"hdr": HDR, "soap": SOAP11}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "compare.md"


def envelope(header: str, body: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:hdr="{HDR}">'
        f"{header}<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def message_header(message_id: str, stamp: str = "25/11/2026 07:53:01") -> str:
    return (
        f"<soap:Header><hdr:MessageHeader><hdr:messageId>{message_id}</hdr:messageId>"
        f"<hdr:timestamp>{stamp}</hdr:timestamp></hdr:MessageHeader></soap:Header>"
    )


# -- ignore -----------------------------------------------------------------------------------


def test_ignore_by_descendant_path_leaves_out_the_volatile_field() -> None:
    legacy = envelope(message_header("m-1"), "<r>1</r>")
    new = envelope(message_header("m-2"), "<r>1</r>")
    assert not diff(legacy, new).equal
    result = diff(legacy, new, Rules(ignore=[Ignore("//hdr:messageId", NS)]))
    assert result.equal and not result.exact


def test_ignore_by_absolute_path_with_wildcard_leaves_out_a_whole_header() -> None:
    legacy = envelope(message_header("m-1"), "<r>1</r>")
    without_header = envelope("", "<r>1</r>")
    rules = Rules(ignore=[Ignore("/*/soap:Header", NS)])
    assert diff(legacy, without_header, rules).equal
    assert diff(without_header, legacy, rules).equal
    # and only the Header: the Body still counts
    assert not diff(legacy, envelope("", "<r>2</r>"), rules).equal


def test_ignore_does_not_reach_what_the_pattern_does_not_name() -> None:
    legacy = envelope(message_header("m-1"), "<r><messageId>1</messageId></r>")
    new = envelope(message_header("m-2"), "<r><messageId>2</messageId></r>")
    result = diff(legacy, new, Rules(ignore=[Ignore("/*/soap:Header//hdr:messageId", NS)]))
    assert result.differences == [
        Difference("/soap:Envelope/soap:Body/r/messageId", CHANGED, "1", "2")
    ]


def test_an_unprefixed_step_matches_the_local_name_in_any_namespace() -> None:
    legacy = envelope(message_header("m-1", "t1"), "<r>1</r>")
    new = envelope(message_header("m-2", "t2"), "<r>1</r>")
    assert diff(legacy, new, Rules(ignore=[Ignore("//MessageHeader/*")])).equal


def test_a_namespace_wildcard_matches_only_that_namespace() -> None:
    legacy = envelope(message_header("m-1", "t1"), "<r>1</r>")
    new = envelope(message_header("m-2", "t2"), "<r>2</r>")
    result = diff(legacy, new, Rules(ignore=[Ignore("//hdr:*", NS)]))
    assert [d.path for d in result.differences] == ["/soap:Envelope/soap:Body/r"]


def test_ignore_an_attribute() -> None:
    legacy = b'<r><p id="1" stamp="a">x</p></r>'
    new = b'<r><p stamp="b" id="1">x</p></r>'
    assert diff(legacy, new, Rules(ignore=[Ignore("//@stamp")])).equal
    assert diff(legacy, new, Rules(ignore=[Ignore("/r/p/@stamp")])).equal
    changed_id = b'<r><p stamp="b" id="2">x</p></r>'
    assert [d.path for d in diff(legacy, changed_id, Rules(ignore=[Ignore("//@stamp")])).differences] == [
        "/r/p/@id"
    ]


# -- unordered --------------------------------------------------------------------------------

PEOPLE = "<r><n>3</n>{}</r>"


def people(*rows: tuple[str, str]) -> bytes:
    return PEOPLE.format("".join(f"<p><id>{i}</id><s>{s}</s></p>" for i, s in rows)).encode()


KEYED = Rules(unordered=[Unordered("//p", "id")])


def test_a_keyed_set_ignores_order_and_reports_missing_and_extra_by_key() -> None:
    legacy = people(("1", "A"), ("2", "B"), ("3", "C"))
    assert diff(legacy, people(("3", "C"), ("1", "A"), ("2", "B")), KEYED).equal
    result = diff(legacy, people(("3", "C"), ("4", "D"), ("1", "A")), KEYED)
    assert result.differences == [
        Difference("/r/p[2]", MISSING, "2", None),
        Difference("/r/p[2]", EXTRA, None, "4"),
    ]
    assert result.differences[0].legacy_element is not None


def test_a_keyed_set_compares_members_with_the_same_key() -> None:
    legacy = people(("1", "A"), ("2", "B"))
    result = diff(legacy, people(("2", "X"), ("1", "A")), KEYED)
    assert result.differences == [Difference("/r/p[2]/s", CHANGED, "B", "X")]


def test_a_keyed_set_reports_by_key_when_one_side_has_none() -> None:
    result = diff(people(("1", "A")), PEOPLE.format("").encode(), KEYED)
    assert result.differences == [Difference("/r/p", MISSING, "1", None)]


def test_a_set_without_key_matches_members_by_content() -> None:
    rules = Rules(unordered=[Unordered("//p")])
    legacy = people(("1", "A"), ("2", "B"))
    assert diff(legacy, people(("2", "B"), ("1", "A")), rules).equal
    result = diff(legacy, people(("2", "B"), ("1", "X")), rules)
    assert [(d.path, d.kind) for d in result.differences] == [("/r/p[1]", MISSING), ("/r/p[2]", EXTRA)]


def test_a_set_key_may_be_an_attribute() -> None:
    rules = Rules(unordered=[Unordered("//p", "@id")])
    assert diff(b'<r><p id="1">a</p><p id="2">b</p></r>', b'<r><p id="2">b</p><p id="1">a</p></r>', rules).equal


def test_sets_inside_a_list_of_lists_are_still_sets() -> None:
    rules = Rules(unordered=[Unordered("//m")])
    legacy = b"<r><p><m>x</m><m>y</m></p><p><m>z</m></p></r>"
    new = b"<r><p><m>y</m><m>x</m></p><p><m>z</m></p></r>"
    assert diff(legacy, new, rules).equal


# -- normalisers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how, legacy, new, different",
    [
        ("number", "1.0", "1", "2"),
        ("number", "0100", "100.00", "1E+3"),
        ("date", "25/12/1949", "1949-12-25", "1949-12-26"),
        ("date", "20260104", "04/01/2026", "2026-04-01"),
        ("date", "25/11/2026 07:53:01", "2026-11-25T08:53:01+01:00", "2026-11-25T08:53:01Z"),
        ("case", "ASHGROVE", "Ashgrove", "Ashgroves"),
        ("trim", "ASHGROVE", "  ASHGROVE\n", "ASH GROVE"),
    ],
)
def test_each_normaliser_makes_spellings_equal_and_keeps_values_apart(
    how: str, legacy: str, new: str, different: str
) -> None:
    rules = Rules(normalise=[Normalise("//v", how)])

    def doc(text: str) -> bytes:
        return f"<r><v>{text}</v></r>".encode()

    assert not diff(doc(legacy), doc(new)).equal
    result = diff(doc(legacy), doc(new), rules)
    assert result.equal and not result.exact
    assert diff(doc(legacy), doc(different), rules).differences == [
        Difference("/r/v", CHANGED, legacy, different)
    ]


def test_normalisers_apply_only_where_the_path_says() -> None:
    rules = Rules(normalise=[Normalise("//v", "case")])
    result = diff(b"<r><v>A</v><w>A</w></r>", b"<r><v>a</v><w>a</w></r>", rules)
    assert [d.path for d in result.differences] == ["/r/w"]


def test_normalisers_chain_in_order_and_apply_to_attributes() -> None:
    rules = Rules(normalise=[Normalise("//v", ("trim", "case")), Normalise("//v/@n", "number")])
    assert diff(b'<r><v n="1.0">ABC</v></r>', b'<r><v n="1">  abc </v></r>', rules).equal


def test_a_normaliser_leaves_what_it_cannot_read_as_written() -> None:
    rules = Rules(normalise=[Normalise("//v", "date")])
    assert not diff(b"<r><v>soon</v></r>", b"<r><v>later</v></r>", rules).equal
    assert diff(b"<r><v>soon</v></r>", b"<r><v>soon</v></r>", rules).exact


def test_rules_in_python_fail_fast_with_rule_errors() -> None:
    with pytest.raises(RuleError, match="unknown namespace prefix 'x'"):
        Ignore("//x:y")
    with pytest.raises(RuleError, match="must start with"):
        Ignore("y")
    with pytest.raises(RuleError, match="predicates"):
        Ignore("//y[1]")
    with pytest.raises(RuleError, match="unknown normaliser"):
        Normalise("//y", "upper")
    with pytest.raises(RuleError, match="not attributes"):
        Unordered("//y/@id")


# -- the rules file ---------------------------------------------------------------------------

RULES_FILE = """\
namespaces:
  hdr: urn:police:pnc:v1
default:
  ignore:
    - //hdr:messageId
"/pnc PersonEnquiry":
  unordered:
    - {path: //p, key: id}
  normalise:
    - {path: //s, as: [trim, case]}
  fault_detail: true
"/pnc VehicleEnquiry":
  ignore: [//hdr:timestamp]
"""


def test_the_default_section_is_merged_into_every_operation(tmp_path: Path) -> None:
    path = tmp_path / "compare.yaml"
    path.write_text(RULES_FILE, encoding="utf-8")
    table = load_rules(path)
    assert set(table) == {"default", "/pnc PersonEnquiry", "/pnc VehicleEnquiry"}
    person = table["/pnc PersonEnquiry"]
    assert [i.path for i in person.ignore] == ["//hdr:messageId"]
    assert person.compares_fault_detail and not table["default"].compares_fault_detail
    assert [i.path for i in table["/pnc VehicleEnquiry"].ignore] == [
        "//hdr:messageId",
        "//hdr:timestamp",
    ]
    assert rules_for(table, "/geo ResolveLocation") is table["default"]
    legacy = envelope(message_header("m-1"), "<r><p><id>1</id><s>A</s></p><p><id>2</id><s>B</s></p></r>")
    new = envelope(message_header("m-2"), "<r><p><id>2</id><s> b</s></p><p><id>1</id><s>a</s></p></r>")
    assert diff(legacy, new, person).equal
    assert not diff(legacy, new, table["default"]).equal


@pytest.mark.parametrize(
    "old, new, line, field, message",
    [
        ("  ignore:\n", "  ignores:\n", 4, "default.ignores", "unknown field"),
        ("//hdr:messageId", "//hrd:messageId", 5, "default.ignore[0]", "unknown namespace prefix 'hrd'"),
        ("//hdr:messageId", "hdr:messageId", 5, "default.ignore[0]", "must start with / or //"),
        ("key: id", "key: /id", 8, "/pnc PersonEnquiry.unordered[0].key", "child path"),
        ("{path: //p, key: id}", "{key: id}", 8, "/pnc PersonEnquiry.unordered[0]", "missing field: path"),
        ("[trim, case]", "[trim, upper]", 10, "/pnc PersonEnquiry.normalise[0].as", "unknown normaliser 'upper'"),
        ("{path: //s, as:", '{path: "//s[2]", as:', 10, "/pnc PersonEnquiry.normalise[0].path", "predicates"),
        ("fault_detail: true", "fault_detail: sometimes", 11, "/pnc PersonEnquiry.fault_detail", "true or false"),
        ('"/pnc VehicleEnquiry":', "VehicleEnquiry:", 12, "VehicleEnquiry", "unknown section"),
        ("  hdr: urn:police:pnc:v1", "  hdr: [urn]", 2, "namespaces.hdr", "non-empty string"),
        ("ignore: [//hdr:timestamp]", "ignore: //hdr:timestamp", 13, "/pnc VehicleEnquiry.ignore", "must be a list"),
    ],
)
def test_rules_file_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in RULES_FILE
    path = tmp_path / "compare.yaml"
    path.write_text(RULES_FILE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    error = caught.value
    assert (error.file, error.line, error.field) == (str(path), line, field)
    assert message in error.message
    assert str(error).startswith(f"{path}:{line}: {field}: ")


def test_a_missing_rules_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_rules(tmp_path / "absent.yaml")


def test_an_empty_rules_file_means_default_semantics() -> None:
    assert parse_rules("") == {"default": Rules()}


# -- the documented example, on the demo bus's own answers -----------------------------------


def documented_rules() -> dict[str, Rules]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### For the demo bus", 1)[-1]
    block = re.search(r"```ya?ml\n(.*?)```", section, re.S)
    assert block, "docs/compare.md has no rules example for the demo bus"
    return parse_rules(block.group(1), DOCS)


def bus(service: str, store: DemoStore, body: str, namespace: str) -> bytes:
    found = next(s for s in SERVICES if s.name == service)
    soap = found.version.namespace
    request = (
        f'<s:Envelope xmlns:s="{soap}" xmlns:x="{namespace}"><s:Body>{body}</s:Body></s:Envelope>'
    ).encode()
    reply = answer(found, store, request, {})
    return reply.body


def test_the_documented_rules_make_two_answers_of_the_demo_bus_equal() -> None:
    table = documented_rules()
    store = DemoStore()
    request = "<x:PersonEnquiry><x:surname>Ashgrove</x:surname></x:PersonEnquiry>"
    first = bus("pnc", store, request, "urn:police:pnc:v1")
    second = bus("pnc", store, request, "urn:police:pnc:v1")
    assert not diff(first, second).equal  # a fresh message id each time
    result = diff(first, second, rules_for(table, "/pnc PersonEnquiry"))
    assert result.equal and not result.exact


def test_the_documented_rules_ignore_the_eforms_receipt_time() -> None:
    table = documented_rules()
    early = datetime(2026, 11, 25, 7, 53, 1, tzinfo=timezone.utc)
    late = datetime(2026, 11, 25, 9, 12, 44, tzinfo=timezone.utc)
    store, store_two = DemoStore(clock=lambda: early), DemoStore(clock=lambda: late)
    statement = (
        "<x:SubmitWitnessStatement><x:witness><x:surname>Okafor</x:surname>"
        "<x:forenames>Ada</x:forenames><x:dateOfBirth>01/02/1990</x:dateOfBirth>"
        "<x:addressLine>1 High Street</x:addressLine><x:postcode>TB1 1AA</x:postcode></x:witness>"
        "<x:statementText>I saw it.</x:statementText><x:officerId>PC1234</x:officerId>"
        "<x:crimeReference>CR/2026/000101</x:crimeReference></x:SubmitWitnessStatement>"
    )
    first = bus("eforms", store, statement, "urn:police:eforms:v1")
    second = bus("eforms", store_two, statement, "urn:police:eforms:v1")
    assert b"receivedAt" in first and b"Fault" not in first
    plain = {d.path.rsplit("/", 1)[-1] for d in diff(first, second).differences}
    assert "ef:receivedAt" in plain  # the bus's own prefix for urn:police:eforms:v1
    assert diff(first, second, rules_for(table, "/eforms SubmitWitnessStatement")).equal
