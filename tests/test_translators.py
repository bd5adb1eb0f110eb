"""The translator engine on small mapping files: each transform, arrays, optional elements, fault
rules, dates both ways, SOAP 1.1 and 1.2, and every load-time error naming file, line and field.

All offline: a translator's halves are pure, so a test gives `to_call` an envelope and
`to_reply` a `JsonReply`, and compares what comes out exactly.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from turnout.config import ConfigError
from turnout.soap import SOAP11_NS, SOAP12_NS, parse_xml, read_envelope
from turnout.translators import (
    JsonCall,
    JsonReply,
    MappingTranslator,
    RequestRejected,
    TranslationError,
    Volatiles,
    load_mapping,
    load_translators,
)

NS = "urn:test:v1"
FIXED = Volatiles(
    clock=lambda: datetime(2026, 11, 25, 7, 53, 1, tzinfo=UTC),
    message_id=lambda: "00000000-0000-4000-8000-000000000001",
)

HEADER = """
header:
  t:MessageHeader:
    t:messageId: {generate: message_id}
    t:timestamp: {generate: now, date: {from: iso, to: "%d/%m/%Y %H:%M:%S", utc: true}}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def mapping(tmp_path: Path, request: str, response: str, extra: str = "") -> MappingTranslator:
    """A mapping for `/svc Op` in namespace `t`, with the given request and response sections."""
    text = (
        "operation: /svc Op\nservice: svc\nnamespaces: {t: 'urn:test:v1'}\n"
        + textwrap.dedent(extra)
        + "request:\n"
        + textwrap.indent(textwrap.dedent(request).strip("\n"), "  ")
        + "\nresponse:\n"
        + textwrap.indent(textwrap.dedent(response).strip("\n"), "  ")
        + "\n"
    )
    translator = load_mapping(write(tmp_path, "op.yaml", text))
    return translator.with_volatiles(FIXED)


def envelope(payload: str = "", version: str = SOAP11_NS, operation: str = "Op") -> Any:
    data = (
        f'<e:Envelope xmlns:e="{version}"><e:Body><x:{operation} xmlns:x="{NS}">{payload}'
        f"</x:{operation}></e:Body></e:Envelope>"
    ).encode()
    return read_envelope(data, "/svc")


def body_of(data: bytes) -> etree._Element:
    root = parse_xml(data)
    return root.find("{*}Body")[0]


def text(data: bytes, path: str) -> str | None:
    found: str | None = body_of(data).findtext(path, namespaces={"t": NS})
    return found


def plain(element: etree._Element) -> str:
    """An element as compact XML with the test namespace written as `t:`."""
    alone = parse_xml(etree.tostring(element))  # with the namespaces it inherits
    return str(etree.tostring(alone, method="c14n2", strip_text=True).decode()).replace(
        f' xmlns:t="{NS}"', ""
    )


MINIMAL_RESPONSE = """
body:
  t:OpResponse:
    t:ok: {value: "yes"}
"""


# --- the request half ------------------------------------------------------------------------


def test_path_values_are_percent_encoded(tmp_path: Path) -> None:
    translator = mapping(
        tmp_path,
        """
        path: /things/{ref}/parts
        path_params:
          ref: {xpath: "t:ref", trim: true}
        """,
        MINIMAL_RESPONSE,
    )
    call = translator.to_call(envelope("<x:ref> CR/2026 000 ?&amp;</x:ref>"))
    assert call == JsonCall("svc", "GET", "/things/CR%2F2026%20000%20%3F%26/parts")


def test_query_leaves_out_absent_values_and_repeats_lists(tmp_path: Path) -> None:
    translator = mapping(
        tmp_path,
        """
        path: /things
        query:
          a: "t:a"
          b: {xpath: "t:b", trim: true}
          tag: {xpath: "t:tags/t:tag", list: true, case: lower}
          flag: {value: true}
        """,
        MINIMAL_RESPONSE,
    )
    call = translator.to_call(
        envelope("<x:a>1</x:a><x:b>  </x:b><x:tags><x:tag>X</x:tag><x:tag>Y</x:tag></x:tags>")
    )
    assert call.query == (("a", "1"), ("tag", "x"), ("tag", "y"), ("flag", "true"))


def test_body_template_nests_objects_and_builds_arrays(tmp_path: Path) -> None:
    translator = mapping(
        tmp_path,
        """
        method: POST
        path: /things
        body:
          name: {xpath: "t:name", trim: true, case: title}
          count: {xpath: "t:count", type: int}
          active: {xpath: "t:active", type: bool}
          missing: "t:nothing"
          gone: {xpath: "t:nothing", omit_if_empty: true}
          fixed: {value: {kind: demo, tags: [a, b]}}
          address:
            lines: {xpath: "t:address", split: ", "}
          items:
            each: "t:item"
            item: {code: "t:code", qty: {xpath: "t:qty", type: number}}
          literals: [1, "t:name", {value: x}]
        """,
        MINIMAL_RESPONSE,
    )
    call = translator.to_call(
        envelope(
            "<x:name> ada LOVELACE </x:name><x:count>042</x:count><x:active>1</x:active>"
            "<x:address>1 Main St, Town</x:address>"
            "<x:item><x:code>A</x:code><x:qty>2</x:qty></x:item>"
            "<x:item><x:code>B</x:code><x:qty>2.5</x:qty></x:item>"
        )
    )
    assert call.method == "POST" and call.path == "/things"
    assert call.body == {
        "name": "Ada Lovelace",
        "count": 42,
        "active": True,
        "missing": None,
        "fixed": {"kind": "demo", "tags": ["a", "b"]},
        "address": {"lines": ["1 Main St", "Town"]},
        "items": [{"code": "A", "qty": 2}, {"code": "B", "qty": 2.5}],
        "literals": [1, " ada LOVELACE ", "x"],
    }


def test_legacy_date_becomes_iso_and_bad_dates_are_rejected_in_legacy_words(
    tmp_path: Path,
) -> None:
    translator = mapping(
        tmp_path,
        """
        path: /people
        query:
          dob: {xpath: "t:dateOfBirth", trim: true, date: {from: "%d/%m/%Y", to: iso}}
          day: {xpath: "t:day", date: {from: "%Y%m%d", to: iso}}
          at: {xpath: "t:time", date: {from: "%H%M", to: "%H:%M"}}
        """,
        MINIMAL_RESPONSE,
    )
    call = translator.to_call(
        envelope("<x:dateOfBirth>29/02/1968</x:dateOfBirth><x:day>20260104</x:day>"
                 "<x:time>0215</x:time>")
    )
    assert call.query == (("dob", "1968-02-29"), ("day", "2026-01-04"), ("at", "02:15"))
    for value, message in [
        ("1965-09-30", "dateOfBirth '1965-09-30' is not a date in the form DD/MM/YYYY"),
        ("6/1/1958", "dateOfBirth '6/1/1958' is not a date in the form DD/MM/YYYY"),
        ("31/02/1958", "dateOfBirth '31/02/1958' is not a calendar date"),
    ]:
        with pytest.raises(RequestRejected) as raised:
            translator.to_call(envelope(f"<x:dateOfBirth>{value}</x:dateOfBirth>"))
        assert (raised.value.field, raised.value.message) == ("dateOfBirth", message)
    with pytest.raises(RequestRejected, match="time '2561' is not a time in the form HHMM"):
        translator.to_call(envelope("<x:time>2561</x:time>"))


def test_checks_run_first_and_invalid_messages_can_be_chosen_per_problem(
    tmp_path: Path,
) -> None:
    translator = mapping(
        tmp_path,
        """
        path: /things
        checks:
          - {xpath: "concat(t:a, t:b)", required: true, field: a, invalid: "give an a or a b"}
        query:
          a: {xpath: "t:a", max_length: 3}
          code:
            xpath: "t:code"
            required: true
            pattern: {regex: "[A-Z]{4}", example: BURG}
            map: {BURG: burglary}
            invalid: {map: "unknown code {value!r}"}
        """,
        MINIMAL_RESPONSE,
    )
    cases = [
        ("", "a", "give an a or a b"),
        ("<x:a>abcd</x:a>", "a", "a is longer than 3 characters"),
        ("<x:a>a</x:a>", "code", "code is required"),
        ("<x:b>b</x:b><x:code>bu</x:code>", "code", "code 'bu' is not in the form BURG"),
        ("<x:b>b</x:b><x:code>ZZZZ</x:code>", "code", "unknown code 'ZZZZ'"),
    ]
    for payload, field, message in cases:
        with pytest.raises(RequestRejected) as raised:
            translator.to_call(envelope(payload))
        assert (raised.value.field, raised.value.message) == (field, message)
        assert raised.value.reply is None  # no request.invalid rule declared
    assert translator.to_call(envelope("<x:b>b</x:b><x:code>BURG</x:code>")).query == (
        ("code", "burglary"),
    )


def test_value_transforms_apply_in_the_order_written(tmp_path: Path) -> None:
    translator = mapping(
        tmp_path,
        """
        method: POST
        path: /x
        body:
          id: {xpath: "t:ref", replace: {"/": "-", " ": ""}, case: lower}
          word: {xpath: "t:colour", case: upper, map: colours}
          kept: {xpath: "t:colour2", map: colours, unmapped: keep}
          number: {xpath: "t:n", type: float, format: ".2f"}
          sentence: {xpath: "t:n", template: "n is {value}"}
          fallback: {xpath: "t:nothing", default: none given}
        """,
        MINIMAL_RESPONSE,
        extra="value_maps:\n  colours: {BLU: blue, RED: red}\n",
    )
    call = translator.to_call(
        envelope("<x:ref>CR/2026 01</x:ref><x:colour>blu</x:colour>"
                 "<x:colour2>PNK</x:colour2><x:n>3.14159</x:n>")
    )
    assert call.body == {
        "id": "cr-202601", "word": "blue", "kept": "PNK", "number": "3.14",
        "sentence": "n is 3.14159", "fallback": "none given",
    }


def test_dry_run_calls_the_dry_run_endpoint(tmp_path: Path) -> None:
    translator = mapping(
        tmp_path,
        """
        method: POST
        path: /crimes
        body: {summary: "t:summary"}
        dry_run: {path: /crimes/validate, reply: wouldCreate}
        """,
        """
        body:
          t:OpResponse:
            t:ref: reference
        """,
        extra="writes: true\n",
    )
    request = envelope("<x:summary>s</x:summary>")
    assert translator.to_call(request).path == "/crimes"
    dry = translator.to_call(request, dry_run=True)
    assert (dry.method, dry.path, dry.body) == ("POST", "/crimes/validate", {"summary": "s"})
    wrapped = JsonReply(200, body={"dryRun": True, "wouldCreate": {"reference": "R1"}})
    assert text(translator.to_reply(wrapped, request).body, "t:ref") == "R1"
    assert text(translator.to_reply(JsonReply(201, body={"reference": "R2"}), request).body,
                "t:ref") == "R2"


def test_a_request_for_another_operation_is_refused(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /x", MINIMAL_RESPONSE)
    with pytest.raises(TranslationError, match="translates /svc Op, not /svc Other"):
        translator.to_call(envelope(operation="Other"))


# --- the reply half ----------------------------------------------------------------------------

PERSON_RESPONSE = """
body:
  t:PersonResponse:
    t:count: {json: people, type: length}
    t:person:
      each: people
      t:surname: {json: name.family, case: upper}
      t:born: {json: dateOfBirth, date: {from: iso, to: "%d/%m/%Y"}}
      t:sex: {json: sex, unmap: sex}
      t:address: {json: address.lines, default: "", join: ", "}
      t:markers:
        t:marker: {each: markers, json: ., unmap: markers}
      t:wanted: {json: wanted, unmap: yes_no}
      t:firstMarker: {json: "markers[0]", optional: true}
      t:nickname: {json: nickname, optional: true}
      t:car:
        from: car
        optional: true
        t:reg: registration
    t:total: $.total
"""
PEOPLE: dict[str, Any] = {
    "total": 2,
    "people": [
        {
            "name": {"family": "Thistlewood"}, "dateOfBirth": "1961-03-14", "sex": "female",
            "address": {"lines": ["14 Larkspur Close", "Turnbridge"]},
            "markers": [], "wanted": False, "nickname": None, "car": None,
        },
        {
            "name": {"family": "Blackthorn"}, "dateOfBirth": "1992-04-04", "sex": "male",
            "address": None, "markers": ["weapons", "violent"], "wanted": True,
            "nickname": "Cas", "car": {"registration": "TB64 KTB"},
        },
    ],
}
PERSON_MAPS = """
value_maps:
  sex: {"M": male, "F": female}
  markers: {WE: weapons, VI: violent}
  yes_no: {"Y": true, "N": false}
"""


def test_reply_fills_the_legacy_shape_with_arrays_optionals_and_reversed_transforms(
    tmp_path: Path,
) -> None:
    translator = mapping(tmp_path, "path: /people", PERSON_RESPONSE, extra=PERSON_MAPS)
    reply = translator.to_reply(JsonReply(200, body=PEOPLE), envelope())
    assert reply.status == 200
    assert plain(body_of(reply.body)) == (
        "<t:PersonResponse><t:count>2</t:count>"
        "<t:person><t:surname>THISTLEWOOD</t:surname><t:born>14/03/1961</t:born><t:sex>F</t:sex>"
        "<t:address>14 Larkspur Close, Turnbridge</t:address><t:markers></t:markers>"
        "<t:wanted>N</t:wanted></t:person>"
        "<t:person><t:surname>BLACKTHORN</t:surname><t:born>04/04/1992</t:born><t:sex>M</t:sex>"
        "<t:address></t:address><t:markers><t:marker>WE</t:marker><t:marker>VI</t:marker>"
        "</t:markers><t:wanted>Y</t:wanted><t:firstMarker>weapons</t:firstMarker>"
        "<t:nickname>Cas</t:nickname><t:car><t:reg>TB64 KTB</t:reg></t:car></t:person>"
        "<t:total>2</t:total></t:PersonResponse>"
    )


def test_reply_envelope_carries_the_generated_header(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /x", MINIMAL_RESPONSE + HEADER)
    reply = translator.to_reply(JsonReply(200, body={}), envelope())
    assert reply.body == (
        b"<?xml version='1.0' encoding='utf-8'?>\n"
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:t="urn:test:v1"><soap:Header><t:MessageHeader>'
        b"<t:messageId>00000000-0000-4000-8000-000000000001</t:messageId>"
        b"<t:timestamp>25/11/2026 07:53:01</t:timestamp></t:MessageHeader></soap:Header>"
        b"<soap:Body><t:OpResponse><t:ok>yes</t:ok></t:OpResponse></soap:Body></soap:Envelope>"
    )
    assert reply.content_type == "text/xml; charset=utf-8"


def test_reply_uses_the_request_soap_version(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /x", MINIMAL_RESPONSE)
    reply = translator.to_reply(JsonReply(200, body={}), envelope(version=SOAP12_NS))
    assert parse_xml(reply.body).tag == f"{{{SOAP12_NS}}}Envelope"
    assert reply.content_type == "application/soap+xml; charset=utf-8"


def test_iso_timestamps_become_legacy_utc_timestamps(tmp_path: Path) -> None:
    translator = mapping(
        tmp_path,
        "path: /x",
        """
        body:
          t:R:
            t:utc: {json: a, date: {from: iso, to: "%d/%m/%Y %H:%M:%S", utc: true}}
            t:local: {json: b, date: {from: iso, to: "%d/%m/%Y %H:%M:%S", utc: true}}
            t:day: {json: c, date: {from: iso, to: "%Y%m%d"}}
            t:time: {json: d, date: {from: iso, to: "%H%M"}}
            t:lat: {json: e, format: ".6f"}
        """,
    )
    body = {"a": "2026-03-10T09:15:02Z", "b": "2026-03-10T10:15:02+01:00", "c": "2026-01-04",
            "d": "02:15", "e": 51.0612}
    reply = translator.to_reply(JsonReply(200, body=body), envelope())
    assert plain(body_of(reply.body)) == (
        "<t:R><t:utc>10/03/2026 09:15:02</t:utc><t:local>10/03/2026 09:15:02</t:local>"
        "<t:day>20260104</t:day><t:time>0215</t:time><t:lat>51.061200</t:lat></t:R>"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"people": [{"name": {}}]}, "name.family is missing from the reply"),
        ({"people": "nobody"}, "JSON people is a string, not an array"),
        ({}, "people is missing from the reply"),
        ({"people": [{"name": ["x"]}]}, "expected an object before .family, got an array"),
    ],
)
def test_an_unusable_reply_is_a_translation_error(
    tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    translator = mapping(tmp_path, "path: /people", PERSON_RESPONSE, extra=PERSON_MAPS)
    with pytest.raises(TranslationError, match=message) as raised:
        translator.to_reply(JsonReply(200, body=body), envelope())
    assert raised.value.translator == "svc/Op"


def test_an_unknown_word_in_the_reply_is_a_translation_error(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /people", PERSON_RESPONSE, extra=PERSON_MAPS)
    person = {**PEOPLE["people"][0], "sex": "other"}
    with pytest.raises(TranslationError, match=r"sex 'other' is not one of .*op.yaml:\d+"):
        translator.to_reply(JsonReply(200, body={"people": [person], "total": 1}), envelope())


# --- faults --------------------------------------------------------------------------------------

FAULTS = """
body:
  t:OpResponse:
    t:ok: {value: "yes"}
faults:
  - status: 404
    fault: client
    reason: {json: detail}
    detail:
      t:ServiceFault:
        t:errorCode: {value: NOREC}
        t:errorText: {json: detail}
        t:field: {xpath: "local-name(t:ref)", default: reference}
  - status: 422
    when: {"invalidParams[0].name": beat}
    reason: {value: unknown beat}
  - status: [400, 422]
    reason: {json: "invalidParams[0].reason"}
    detail:
      t:ServiceFault:
        t:errorCode: {value: INVAL}
        t:errorText: {json: "invalidParams[0].reason"}
        t:field: {json: "invalidParams[0].name", map: {dob: dateOfBirth}, unmapped: keep}
  - status: 5xx
    fault: server
    reason: {value: the service failed to process the request}
"""


def test_not_found_becomes_a_client_fault_with_the_legacy_detail(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /x", FAULTS + HEADER)
    reply = translator.to_reply(JsonReply(404, body={"detail": "no such thing"}), envelope())
    assert reply.status == 500
    fault = body_of(reply.body)
    assert fault.findtext("faultcode") == "soap:Client"
    assert fault.findtext("faultstring") == "no such thing"
    assert plain(fault.find("detail")[0]) == (
        "<t:ServiceFault><t:errorCode>NOREC</t:errorCode><t:errorText>no such thing"
        "</t:errorText><t:field>reference</t:field></t:ServiceFault>"
    )
    assert parse_xml(reply.body).find(".//{urn:test:v1}MessageHeader") is not None


def test_fault_rules_match_in_order_with_when_conditions(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /x", FAULTS)
    beat = {"invalidParams": [{"name": "beat", "reason": "bad"}]}
    dob = {"invalidParams": [{"name": "dob", "reason": "not a date"}]}
    assert body_of(translator.to_reply(JsonReply(422, body=beat), envelope()).body).findtext(
        "faultstring") == "unknown beat"
    fault = body_of(translator.to_reply(JsonReply(400, body=dob), envelope()).body)
    assert fault.findtext("faultstring") == "not a date"
    assert fault.findtext(".//{urn:test:v1}field") == "dateOfBirth"


def test_server_errors_become_receiver_faults_in_soap_12(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /x", FAULTS)
    reply = translator.to_reply(JsonReply(503, body=None), envelope(version=SOAP12_NS))
    fault = body_of(reply.body)
    assert fault.tag == f"{{{SOAP12_NS}}}Fault"
    assert fault.findtext(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Value") == "soap:Receiver"
    assert fault.findtext(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") == (
        "the service failed to process the request"
    )
    assert reply.content_type.startswith("application/soap+xml")


def test_a_status_no_rule_covers_is_a_translation_error(tmp_path: Path) -> None:
    translator = mapping(tmp_path, "path: /x", FAULTS)
    with pytest.raises(TranslationError, match="answered HTTP 409, which no fault rule"):
        translator.to_reply(JsonReply(409, body={}), envelope())


def test_an_invalid_request_carries_the_fault_the_legacy_bus_would_send(tmp_path: Path) -> None:
    translator = mapping(
        tmp_path,
        """
        path: /x
        query:
          dob: {xpath: "t:dateOfBirth", date: {from: "%d/%m/%Y", to: iso}}
        invalid:
          fault: client
          reason: {json: message}
          detail:
            t:ServiceFault:
              t:errorCode: {value: INVAL}
              t:field: {json: field}
        """,
        MINIMAL_RESPONSE + HEADER,
    )
    with pytest.raises(RequestRejected) as raised:
        translator.to_call(envelope("<x:dateOfBirth>yesterday</x:dateOfBirth>", SOAP12_NS))
    reply = raised.value.reply
    assert reply is not None and reply.status == 500
    fault = body_of(reply.body)
    assert fault.findtext(f".//{{{SOAP12_NS}}}Value") == "soap:Sender"
    assert fault.findtext(f".//{{{SOAP12_NS}}}Text") == (
        "dateOfBirth 'yesterday' is not a date in the form DD/MM/YYYY"
    )
    assert fault.findtext(".//{urn:test:v1}field") == "dateOfBirth"


# --- includes and templates ---------------------------------------------------------------------


def test_included_parts_and_named_templates_are_shared(tmp_path: Path) -> None:
    write(
        tmp_path,
        "_shared.yaml",
        """
        namespaces: {t: "urn:test:v1"}
        value_maps: {yes_no: {"Y": true, "N": false}}
        templates:
          thing:
            t:id: id
            t:on: {json: on, unmap: yes_no}
        response:
          faults:
            - {status: 404, reason: {value: shared rule}}
            - {status: 500, reason: {value: shared 500}}
        """,
    )
    path = write(
        tmp_path,
        "op.yaml",
        """
        operation: /svc Op
        service: svc
        include: _shared.yaml
        request: {path: /things}
        response:
          body:
            t:OpResponse:
              t:thing: {each: items, use: thing}
          faults:
            - {status: 404, reason: {value: own rule}}
        """,
    )
    translator = load_mapping(path)
    reply = translator.to_reply(
        JsonReply(200, body={"items": [{"id": "a", "on": True}, {"id": "b", "on": False}]}),
        envelope(),
    )
    assert plain(body_of(reply.body)) == (
        "<t:OpResponse><t:thing><t:id>a</t:id><t:on>Y</t:on></t:thing>"
        "<t:thing><t:id>b</t:id><t:on>N</t:on></t:thing></t:OpResponse>"
    )
    own = body_of(translator.to_reply(JsonReply(404), envelope()).body)
    assert own.findtext("faultstring") == "own rule"
    shared = body_of(translator.to_reply(JsonReply(500), envelope()).body)
    assert shared.findtext("faultstring") == "shared 500"


# --- load-time errors ---------------------------------------------------------------------------


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_mapping(path)
    return raised.value


GOOD = """
operation: /svc Op
service: svc
namespaces: {t: "urn:test:v1"}
value_maps: {colours: {BLU: blue}}
request:
  path: /x/{id}
  path_params: {id: "t:id"}
  query:
    colour: {xpath: "t:colour", map: colours}
response:
  body:
    t:OpResponse:
      t:colour: {json: colour, unmap: colours}
"""


def test_the_good_mapping_used_below_loads(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", GOOD)
    assert load_mapping(tmp_path / "good.yaml").name == "svc/Op"


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("service: svc", "service: svc\nsevrice: x", 3, "sevrice", "unknown field"),
        ('{xpath: "t:colour", map: colours}', '{xpath: "t:colour", mapp: colours}', 9,
         "request.query.colour.mapp", "unknown field"),
        ('{xpath: "t:colour", map: colours}', '{xpath: "t:colour[", map: colours}', 9,
         "request.query.colour.xpath", "bad XPath 't:colour[': Invalid expression"),
        ('{xpath: "t:colour", map: colours}', '{xpath: "q:colour", map: colours}', 9,
         "request.query.colour.xpath", "Undefined namespace prefix"),
        ('{xpath: "t:colour", map: colours}', '{xpath: "t:colour", map: colors}', 9,
         "request.query.colour.map", "unknown value map 'colors' (declared: colours)"),
        ("t:colour: {json: colour, unmap: colours}", "q:colour: {json: colour}", 13,
         "response.body.t:OpResponse.q:colour", "undeclared namespace prefix 'q'"),
        ("t:colour: {json: colour, unmap: colours}", "colour: {json: colour}", 13,
         "response.body.t:OpResponse.colour", "is neither an element"),
        ("t:colour: {json: colour, unmap: colours}", "t:colour: {json: 'a..b'}", 13,
         "response.body.t:OpResponse.t:colour.json", "bad JSON path"),
        ("t:colour: {json: colour, unmap: colours}",
         "t:colour: {json: d, date: {from: iso, to: '%d/%q'}}", 13,
         "response.body.t:OpResponse.t:colour.date.to", "unknown directive %q"),
        ("path: /x/{id}", "path: /x/{ident}", 6, "request.path",
         "path placeholder {ident} has no value"),
        ("t:colour: {json: colour, unmap: colours}",
         "t:colour: {json: colour, case: shouty}", 13,
         "response.body.t:OpResponse.t:colour.case", "must be one of upper, lower, title"),
        ("t:colour: {json: colour, unmap: colours}", "t:colour: {use: nothing}", 13,
         "response.body.t:OpResponse.t:colour.use", "unknown template 'nothing'"),
        ("service: svc", "service: svc\nwrites: true", 6, "request",
         "needs request.dry_run"),
    ],
    ids=["unknown-top-level", "unknown-value-key", "xpath-syntax", "xpath-prefix",
         "unknown-value-map", "element-prefix", "bare-element", "json-path", "date-format",
         "path-placeholder", "bad-case", "unknown-template", "write-without-dry-run"],
)
def test_a_broken_mapping_is_reported_by_file_line_and_field_at_load(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in GOOD
    error = load_error(tmp_path, GOOD.replace(old, new, 1))
    assert error.file == str(tmp_path / "bad.yaml")
    assert (error.line, error.field) == (line, field)
    assert message in error.message
    assert str(error).startswith(f"{tmp_path / 'bad.yaml'}:{line}: {field}: ")


def test_an_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "_shared.yaml", "namespaces: {t: urn:x}\nvalue_maps:\n  m: []\n")
    text = GOOD.replace("value_maps: {colours: {BLU: blue}}\n", "include: _shared.yaml\n")
    text = text.replace("urn:test:v1", "urn:x").replace("colours", "m")
    error = load_error(tmp_path, text)
    assert (error.file, error.line, error.field) == (str(tmp_path / "_shared.yaml"), 3, "value_maps.m")


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, "operation: /svc Op\nrequest: [\n")
    assert error.line is not None and "not valid YAML" in error.message


# --- loading a directory and Python translators ---------------------------------------------

PY_TRANSLATOR = '''
from turnout.translators import JsonCall, PythonTranslator


class Echo(PythonTranslator):
    name = "svc/Echo"
    operation = "/svc Echo"
    service = "svc"
    shared = "_svc.yaml"

    def prepare(self):
        self.thing = self.template("thing")

    def to_call(self, request, *, dry_run=False):
        ref = self.text(request, "t:ref")
        if ref is None:
            raise self.reject(request, "ref", "ref is required")
        return self.call("GET", f"/echo/{ref}", query={"loud": True, "skip": None})

    def to_reply(self, reply, request):
        if reply.status != 200:
            return self.fault_for(reply, request)
        scope = self.scope(request, reply.body)
        return self.respond(
            request, lambda body: self.build(self.add(body, "t:EchoResponse"), self.thing, scope)
        )


TRANSLATORS = [Echo()]
'''
SHARED = """
namespaces: {t: "urn:test:v1"}
templates:
  thing:
    t:said: said
request:
  invalid:
    reason: {json: message}
response:
  header:
    t:MessageHeader:
      t:messageId: {generate: message_id}
  faults:
    - {status: 404, reason: {json: detail}}
"""


def test_a_directory_loads_mappings_and_python_translators(tmp_path: Path) -> None:
    write(tmp_path, "svc/_svc.yaml", SHARED)
    write(tmp_path, "svc/echo.py", PY_TRANSLATOR)
    write(tmp_path, "svc/op.yaml", GOOD)
    write(tmp_path, "svc/__init__.py", "raise RuntimeError('never imported')\n")
    translators = load_translators(tmp_path, volatiles=FIXED)
    assert sorted(translators) == ["svc/Echo", "svc/Op"]
    assert translators.source("svc/Echo") == tmp_path / "svc/echo.py"
    echo = translators.for_operation("/svc Echo")
    assert echo is not None
    request = envelope("<x:ref>abc</x:ref>", operation="Echo")
    assert echo.to_call(request) == JsonCall("svc", "GET", "/echo/abc", (("loud", "true"),))
    reply = echo.to_reply(JsonReply(200, body={"said": "hi"}), request)
    root = parse_xml(reply.body)
    assert root.findtext(".//{urn:test:v1}messageId") == "00000000-0000-4000-8000-000000000001"
    assert root.findtext(".//{urn:test:v1}said") == "hi"
    fault = echo.to_reply(JsonReply(404, body={"detail": "gone"}), request)
    assert body_of(fault.body).findtext("faultstring") == "gone"
    with pytest.raises(RequestRejected) as raised:
        echo.to_call(envelope(operation="Echo"))
    assert raised.value.reply is not None
    assert body_of(raised.value.reply.body).findtext("faultstring") == "ref is required"


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("x = 1\ndef broken(:\n", 2, "SyntaxError"),
        ("import os\nraise ValueError('boom')\n", 2, "ValueError: boom"),
        ("import no_such_module_anywhere\n", 1, "ModuleNotFoundError"),
        ("X = 1\n", None, "defines no TRANSLATORS"),
        (
            (
                "from turnout.translators import PythonTranslator\n\n"
                "class Half(PythonTranslator):\n"
                "    name = 'svc/Half'\n    operation = '/svc Half'\n    service = 'svc'\n\n"
                "    def to_call(self, request, *, dry_run=False):\n        return None\n\n"
                "TRANSLATORS = [Half()]\n"
            ),
            3,
            "Half does not implement to_reply()",
        ),
        (
            (
                "class Nameless:\n    operation = '/svc X'\n    service = 'svc'\n"
                "    writes = False\n"
                "    def to_call(self, request, *, dry_run=False): ...\n"
                "    def to_reply(self, reply, request): ...\n\n"
                "TRANSLATORS = [Nameless()]\n"
            ),
            1,
            "Nameless needs name",
        ),
    ],
    ids=["syntax", "raises", "import", "no-list", "missing-method", "missing-name"],
)
def test_a_broken_python_translator_is_reported_by_file_and_line(
    tmp_path: Path, source: str, line: int | None, message: str
) -> None:
    path = write(tmp_path, "broken.py", source)
    with pytest.raises(ConfigError) as raised:
        load_translators(tmp_path)
    assert raised.value.file == str(path)
    assert raised.value.line == line
    assert message in raised.value.message


def test_a_python_translator_with_a_broken_shared_file_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "_svc.yaml", SHARED.replace("t:said: said", "t:said: {jsn: said}"))
    write(tmp_path, "echo.py", PY_TRANSLATOR)
    with pytest.raises(ConfigError) as raised:
        load_translators(tmp_path)
    assert raised.value.file == str(tmp_path / "_svc.yaml")
    assert raised.value.field == "templates.thing.t:said.jsn"


def test_two_translators_for_one_operation_name_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("service: svc", "service: svc\nname: svc/Other"))
    with pytest.raises(ConfigError) as raised:
        load_translators(tmp_path)
    assert raised.value.file == str(tmp_path / "b.yaml")
    assert str(tmp_path / "a.yaml") in raised.value.message
    assert "operation '/svc Op' already has translator 'svc/Op'" in raised.value.message


def test_two_translators_with_one_name_name_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("/svc Op", "/svc Op2").replace(
        "service: svc", "service: svc\nname: svc/Op"))
    with pytest.raises(ConfigError, match=r"translator name 'svc/Op' is also defined in .*a\.yaml"):
        load_translators(tmp_path)


def test_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="translators directory not found"):
        load_translators(tmp_path / "nope")
