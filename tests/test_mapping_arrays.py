"""Array wrappers (spyne's stringArray) unwrapped with `items:` on both halves, and a missing
list told from an empty one with `absent:`. Offline, on real envelopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.mappings import NS, envelope, merlin, payload_of
from turnout.config import ConfigError
from turnout.translators import JsonReply, RequestRejected

XSI = "http://www.w3.org/2001/XMLSchema-instance"

REQUEST = """
method: POST
path: /records
body:
  linkedRefs: {xpath: "ms:linkedRefs", items: "ms:string"}
  aliases: {xpath: "ms:aliases", items: "ms:string", absent: omit, case: upper}
  contacts:
    xpath: "ms:contacts"
    items: "ms:Contact"
    item: {name: "ms:name", phone: "ms:phone"}
"""

RESPONSE = """
body:
  ms:GetRecordResponse:
    ms:linkedRefs: {json: linkedRefs, items: ms:string}
    ms:aliases: {json: aliases, items: ms:string, absent: omit}
    ms:tags: {json: tags, items: ms:string, absent: nil}
    ms:notes: {json: notes, items: ms:string, absent: empty}
    ms:contacts:
      json: contacts
      absent: omit
      items:
        ms:Contact:
          ms:name: name
          ms:phone: {json: phone, absent: omit}
"""


def test_wrapped_strings_become_a_plain_json_array(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE)
    call = translator.to_call(envelope(
        "<ms:linkedRefs><ms:string>MP-1</ms:string><ms:string>MP-2</ms:string></ms:linkedRefs>"
        "<ms:aliases><ms:string>annie</ms:string></ms:aliases>"
        "<ms:contacts><ms:Contact><ms:name>Bo</ms:name><ms:phone>01</ms:phone></ms:Contact>"
        "</ms:contacts>"
    ))
    assert call.body == {
        "linkedRefs": ["MP-1", "MP-2"],  # never {"string": [...]}
        "aliases": ["ANNIE"],            # transforms apply per item
        "contacts": [{"name": "Bo", "phone": "01"}],
    }


def test_empty_wrapper_is_an_empty_list_and_no_wrapper_is_absent(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE)
    empty = translator.to_call(envelope("<ms:linkedRefs/><ms:aliases/><ms:contacts/>"))
    assert empty.body == {"linkedRefs": [], "aliases": [], "contacts": []}
    missing = translator.to_call(envelope(""))
    # default absent (null) on the request half; absent: omit leaves the field out
    assert missing.body == {"linkedRefs": None, "contacts": None}


def test_required_wrapper_rejects_a_request_without_it(tmp_path: Path) -> None:
    request = REQUEST.replace(
        'linkedRefs: {xpath: "ms:linkedRefs", items: "ms:string"}',
        'linkedRefs: {xpath: "ms:linkedRefs", items: "ms:string", required: true}')
    translator = merlin(tmp_path, request, RESPONSE)
    with pytest.raises(RequestRejected) as raised:
        translator.to_call(envelope(""))
    assert raised.value.field == "linkedRefs"
    assert str(raised.value).endswith("linkedRefs is required")
    assert translator.to_call(envelope("<ms:linkedRefs/>")).body["linkedRefs"] == []


def test_json_arrays_are_written_inside_their_wrapper(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE)
    reply = translator.to_reply(JsonReply(200, {}, {
        "linkedRefs": ["MP-1", "MP-2"], "aliases": [], "tags": ["a"], "notes": ["n"],
        "contacts": [{"name": "Bo", "phone": None}],
    }), envelope(""))
    response = payload_of(reply.body)
    assert [e.text for e in response.find(f"{{{NS}}}linkedRefs")] == ["MP-1", "MP-2"]
    assert [e.tag for e in response.find(f"{{{NS}}}linkedRefs")] == [f"{{{NS}}}string"] * 2
    aliases = response.find(f"{{{NS}}}aliases")
    assert aliases is not None and len(aliases) == 0  # [] -> an empty wrapper
    contact = response.find(f"{{{NS}}}contacts/{{{NS}}}Contact")
    assert contact is not None and contact.findtext(f"{{{NS}}}name") == "Bo"
    assert contact.find(f"{{{NS}}}phone") is None


def test_absent_json_array_is_omitted_nil_or_empty_as_declared(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE)
    reply = translator.to_reply(JsonReply(200, {}, {"linkedRefs": [], "tags": None}), envelope(""))
    response = payload_of(reply.body)
    assert response.find(f"{{{NS}}}aliases") is None            # absent: omit
    assert response.find(f"{{{NS}}}contacts") is None
    tags = response.find(f"{{{NS}}}tags")
    assert tags is not None and tags.get(f"{{{XSI}}}nil") == "true" and len(tags) == 0
    notes = response.find(f"{{{NS}}}notes")
    assert notes is not None and len(notes) == 0 and notes.get(f"{{{XSI}}}nil") is None


def test_absent_json_array_without_absent_rule_is_an_error(tmp_path: Path) -> None:
    from turnout.translators import TranslationError

    translator = merlin(tmp_path, REQUEST, RESPONSE)
    with pytest.raises(TranslationError, match="linkedRefs is missing from the reply"):
        translator.to_reply(JsonReply(200, {}, {}), envelope(""))


def test_items_without_a_json_array_source_fails_at_load(tmp_path: Path) -> None:
    response = RESPONSE.replace("{json: linkedRefs, items: ms:string}", "{items: ms:string}")
    with pytest.raises(ConfigError, match=r"op.yaml:\d+: .*items: needs json:"):
        merlin(tmp_path, REQUEST, response)


def test_absent_takes_only_its_sides_words(tmp_path: Path) -> None:
    request = REQUEST.replace("absent: omit, case: upper", "absent: nil")
    with pytest.raises(ConfigError, match="must be one of null, omit, required"):
        merlin(tmp_path, request, RESPONSE)


def test_absent_nil_writes_a_nillable_leaf_as_xsi_nil(tmp_path: Path) -> None:
    translator = merlin(tmp_path, "path: /records", """
    body:
      ms:GetRecordResponse:
        ms:dateOfBirth: {json: dateOfBirth, absent: nil}
    """)
    reply = translator.to_reply(JsonReply(200, {}, {"dateOfBirth": None}), envelope(""))
    born = payload_of(reply.body).find(f"{{{NS}}}dateOfBirth")
    assert born is not None and born.get(f"{{{XSI}}}nil") == "true" and born.text is None
    given = translator.to_reply(JsonReply(200, {}, {"dateOfBirth": "1990-01-02"}), envelope(""))
    assert payload_of(given.body).findtext(f"{{{NS}}}dateOfBirth") == "1990-01-02"
