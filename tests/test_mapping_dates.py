"""xs:dateTime between the bus's and the service's spellings: `Z` against `+00:00`, and whole
seconds, milliseconds or microseconds, both ways; `generate: now` with the same options."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.mappings import NS, envelope, merlin, parsed, payload_of
from turnout.config import ConfigError
from turnout.translators import JsonReply

REQUEST = """
method: POST
path: /records
body:
  reportedAt: {xpath: "ms:reportedAt", date: {from: iso, to: iso, offset: "+00:00", precision: milliseconds}}
  seenAt: {xpath: "ms:seenAt", date: {from: iso, to: iso, precision: microseconds}}
  localTime: {xpath: "ms:localTime", date: {from: iso, to: iso, offset: Z, precision: seconds}}
"""

RESPONSE = """
header:
  ms:MessageHeader:
    ms:timestamp: {generate: now, precision: seconds, offset: Z}
    ms:raw: {generate: now}
body:
  ms:GetRecordResponse:
    ms:reportedAt: {json: reportedAt, date: {from: iso, to: iso, offset: Z, precision: seconds}}
    ms:updatedAt: {json: updatedAt, date: {from: iso, to: iso, offset: Z, precision: milliseconds, utc: true}}
"""


def test_request_z_becomes_offset_with_the_services_precision(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE)
    call = translator.to_call(envelope(
        "<ms:reportedAt>2026-03-01T09:30:00Z</ms:reportedAt>"
        "<ms:seenAt>2026-03-01T09:30:00.5Z</ms:seenAt>"
        "<ms:localTime>2026-03-01T09:30:00.999</ms:localTime>"
    ))
    assert call.body == {
        "reportedAt": "2026-03-01T09:30:00.000+00:00",
        "seenAt": "2026-03-01T09:30:00.500000+00:00",
        "localTime": "2026-03-01T09:30:00",  # no offset stays without one; cut, not rounded
    }


def test_reply_offset_becomes_z_in_whole_seconds(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE)
    reply = translator.to_reply(JsonReply(200, {}, {
        "reportedAt": "2026-03-01T09:30:00.123456+00:00",
        "updatedAt": "2026-03-01T10:30:00.25+01:00",
    }), envelope(""))
    response = payload_of(reply.body)
    assert response.findtext(f"{{{NS}}}reportedAt") == "2026-03-01T09:30:00Z"
    assert response.findtext(f"{{{NS}}}updatedAt") == "2026-03-01T09:30:00.250Z"


def test_generate_now_takes_precision_and_offset(tmp_path: Path) -> None:
    translator = merlin(tmp_path, REQUEST, RESPONSE)
    reply = translator.to_reply(JsonReply(200, {}, {
        "reportedAt": "2026-03-01T09:30:00Z", "updatedAt": "2026-03-01T09:30:00Z",
    }), envelope(""))
    header = parsed(reply.body).find("{*}Header")
    assert header is not None
    assert header.findtext(f"{{{NS}}}MessageHeader/{{{NS}}}timestamp") == "2026-11-25T07:53:01Z"
    # without options, what it always wrote
    assert header.findtext(f"{{{NS}}}MessageHeader/{{{NS}}}raw") == (
        "2026-11-25T07:53:01.123456+00:00"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{generate: now, precision: seconds, offset: Z}", "{value: x, precision: seconds}",
         "precision: and offset: apply to date: {to: iso} or generate: now"),
        ('offset: "+00:00", precision: milliseconds}', 'offset: "+01:00"}', "must be one of keep"),
        ("to: iso, precision: microseconds}", 'to: "%d/%m/%Y", precision: microseconds}',
         "precision: and offset: apply"),
    ],
)
def test_bad_date_options_fail_at_load(tmp_path: Path, old: str, new: str, message: str) -> None:
    request, response = REQUEST.replace(old, new), RESPONSE.replace(old, new)
    with pytest.raises(ConfigError) as raised:
        merlin(tmp_path, request, response)
    assert message in str(raised.value) and "op.yaml:" in str(raised.value)
