"""Translator exchanges on disk: the translated envelope and the JSON call/reply, redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnout.recording import RecordingStore, loads, dumps, redactor_from_config, Exchange
from turnout.soap import HttpRequest, HttpResponse, OperationName

NS = "urn:police:pnc:v1"
REQUEST = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><p:PersonEnquiry xmlns:p="{NS}"><p:surname>Thistlewood</p:surname></p:PersonEnquiry></s:Body></s:Envelope>'.encode()
TRANSLATED = REQUEST.replace(b"PersonEnquiry", b"PersonEnquiryResponse")
RULES = {
    "namespaces": {"p": NS},
    "body": ["//p:surname"],
    "json": ["**.surname", "people.*.name.family", "dob"],
}


def exchange() -> Exchange:
    return Exchange(
        request=HttpRequest("POST", "/pnc", [("Content-Type", "text/xml")], REQUEST),
        response=HttpResponse(200, [("Content-Type", "text/xml")], TRANSLATED),
        translated=HttpResponse(200, [("Content-Type", "text/xml")], TRANSLATED),
        client="127.0.0.1",
        operation=OperationName("/pnc", "PersonEnquiry", NS),
        route="translator",
        outcome="translated",
        translation={
            "call": {"service": "pnc", "method": "GET", "path": "/people",
                     "query": {"surname": "Thistlewood", "dob": "1980-01-01"}, "body": None},
            "reply": {"status": 200, "body": {"people": [{"name": {"family": "Thistlewood", "given": "Barnaby"},
                                                           "wanted": True}]}},
            "diff": [{"path": "/s:Envelope/s:Body/p:x/p:surname", "kind": "changed",
                      "legacy": "THISTLEWOOD", "new": "Thistlewood"}],
        },
    )


def test_translation_round_trips_with_the_translated_body_as_text() -> None:
    original = exchange()
    text = dumps(original)
    assert "translated:" in text and "<p:PersonEnquiryResponse" in text  # a readable block
    back = loads(text, "x.yaml")
    assert back.translated == original.translated
    assert back.translation == original.translation


def test_personal_values_in_json_and_diff_never_reach_disk(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path, redactor_from_config(RULES))
    path = store.write(exchange())
    raw = path.read_text()
    assert "Thistlewood" not in raw and "THISTLEWOOD" not in raw
    assert "1980-01-01" not in raw
    back = loads(raw, str(path))
    assert back.translation["reply"]["body"]["people"][0]["name"]["given"] == "Barnaby"  # not a rule
    assert back.translation["reply"]["body"]["people"][0]["wanted"] is True
    assert back.translation["diff"][0]["path"].endswith("p:surname")  # path and kind stay
    assert back.translation["diff"][0]["kind"] == "changed"


@pytest.mark.parametrize("pattern", ["", "a..b", "a.b c"])
def test_bad_json_rule_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="redaction.json"):
        redactor_from_config({"json": [pattern]})


def test_a_translator_mode_file_holds_the_clients_answer_once(tmp_path: Path) -> None:
    original = exchange()  # route translator: the client's answer is the translated envelope
    path = RecordingStore(tmp_path, redactor_from_config(RULES)).write(original)
    raw = path.read_text()
    assert raw.count("PersonEnquiryResponse") == 2  # the response's start and end tags: once
    assert "body_same_as: response" in raw
    back = loads(raw, str(path))
    assert back.translated is not None and back.response is not None
    assert back.translated.body == back.response.body
    assert b"Thistlewood" not in back.translated.body  # redacted, as the response is
    assert back.translated.headers == original.translated.headers  # its own head is kept


def test_a_translated_envelope_that_differs_keeps_its_own_body() -> None:
    shadowed = exchange()
    shadowed.route = "shadow"
    assert shadowed.response is not None
    shadowed.response.body = TRANSLATED.replace(b"Thistlewood", b"THISTLEWOOD")
    text = dumps(shadowed, verify=False)
    assert "body_same_as" not in text and text.count("PersonEnquiryResponse") == 4
    assert loads(text, "x.yaml").translated == shadowed.translated


def test_files_that_hold_the_translated_body_twice_still_load() -> None:
    """Recordings written before `body_same_as` carry the body in both messages."""
    original = exchange()
    text = dumps(original)
    assert "  body_same_as: response\n" in text
    old = text.replace("  body_same_as: response\n", f"  body: |-\n    {TRANSLATED.decode()}\n")
    back = loads(old, "old.yaml")
    assert back == loads(text, "new.yaml") == original


@pytest.mark.parametrize(("change", "problem"), [
    ("body_same_as: request", "the only message it can name is response"),
    ("body_same_as: response\n  body_base64: PGEvPg==", "needs exactly one of"),
])
def test_a_bad_reference_names_file_line_and_field(change: str, problem: str) -> None:
    from turnout.recording import RecordingError

    text = dumps(exchange()).replace("body_same_as: response", change)
    with pytest.raises(RecordingError, match=problem) as info:
        loads(text, "bad.yaml")
    assert info.value.source == "bad.yaml" and info.value.line is not None
    assert info.value.field is not None and info.value.field.startswith("translated")
