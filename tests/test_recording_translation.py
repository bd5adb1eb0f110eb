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
