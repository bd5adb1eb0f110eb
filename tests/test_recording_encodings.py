"""Compressed bodies are recorded decoded: redacted, readable, comparable and resent plainly.

A bus behind mod_deflate gzips every answer to a client that accepts it (zeep and node-soap
do), and some clients compress what they send. The store decodes each body before redaction,
drops the headers that described the encoded bytes, and notes what it decoded.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard

from turnout.compare import TranslatorAnswers, compare_recordings, load_rules
from turnout.config import load_proxy_config
from turnout.demo.config import DEMO_CONFIG
from turnout.recording import (
    REDACTED,
    Exchange,
    RecordingStore,
    dumps,
    plan_replay,
    read_exchange,
    read_recordings,
    redactor_from_config,
    replay,
    SendOptions,
)
from turnout.soap import HttpResponse, parse_xml
from turnout.translators import load_translators

from .support.bus import Reply, ScriptedBus
from .test_recording import CONFIG, ENQUIRY, REPLY, make_exchange

GOLDEN = Path(__file__).resolve().parents[1] / "recordings"


def raw_deflate(data: bytes) -> bytes:
    encoder = zlib.compressobj(wbits=-15)
    return encoder.compress(data) + encoder.flush()


CODINGS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


def gzip_response(body: bytes = REPLY, coding: str = "gzip") -> HttpResponse:
    encoded = CODINGS[coding](body)
    return HttpResponse(200, [
        ("Content-Type", "text/xml; charset=utf-8"),
        ("Content-Encoding", coding),
        ("Content-Length", str(len(encoded))),
        ("X-Officer-Id", "PC 4711"),
    ], encoded, "OK")


def names(headers: list[tuple[str, str]]) -> set[str]:
    return {name.lower() for name, _ in headers}


# -- the store decodes, then redacts --------------------------------------------------------


@pytest.mark.parametrize("coding", sorted(CODINGS))
def test_a_compressed_answer_is_stored_decoded_redacted_and_noted(
    tmp_path: Path, coding: str
) -> None:
    exchange = make_exchange()
    exchange.response = gzip_response(coding=coding)
    encoded_length = len(exchange.response.body)
    path = RecordingStore(tmp_path, redactor_from_config(CONFIG)).write(exchange)
    text = path.read_text()
    assert "body_base64" not in text and "body_omitted" not in text
    assert "SMITHERINGTON" not in text and "P-77" not in text  # redacted, as a plain body is
    assert "<pnc:forename>Alice</pnc:forename>" in text  # readable where no rule applies
    stored = read_exchange(path)
    assert stored.response is not None
    assert names(stored.response.headers) == {"content-type", "x-officer-id"}
    assert parse_xml(stored.response.body).findtext(".//{urn:police:pnc:v1}surname") == REDACTED
    assert f"response: decoded {coding} from {encoded_length} bytes" in stored.notes
    # the request was not compressed: untouched but for redaction, and no note about it
    assert not any(note.startswith("request:") for note in stored.notes)
    # the caller's exchange is as it was: the store decoded a copy
    assert exchange.response.body == CODINGS[coding](REPLY)
    assert "content-encoding" in names(exchange.response.headers)


def test_a_request_compressed_twice_is_undone_in_reverse_order(tmp_path: Path) -> None:
    """`Content-Encoding: deflate, br`: deflated first, then brotli; brotli is undone first."""
    encoded = brotli.compress(raw_deflate(ENQUIRY))
    exchange = make_exchange()
    exchange.request.headers += [("Content-Encoding", "deflate, br"),
                                 ("Content-Length", str(len(encoded)))]
    exchange.request.body = encoded
    stored = read_exchange(RecordingStore(tmp_path, redactor_from_config(CONFIG)).write(exchange))
    assert "content-encoding" not in names(stored.request.headers)
    assert "content-length" not in names(stored.request.headers)
    assert b"1980-02-29" not in stored.request.body
    assert parse_xml(stored.request.body).findtext(".//{urn:police:pnc:v1}dateOfBirth") == REDACTED
    assert f"request: decoded deflate, br from {len(encoded)} bytes" in stored.notes


def test_without_redaction_a_compressed_body_is_still_stored_readable(tmp_path: Path) -> None:
    exchange = make_exchange()
    exchange.response = gzip_response()
    path = RecordingStore(tmp_path).write(exchange)
    assert "<pnc:forename>Alice</pnc:forename>" in path.read_text()
    stored = read_exchange(path)
    assert stored.response is not None and stored.response.body == REPLY


def test_a_translated_envelope_is_decoded_like_the_others(tmp_path: Path) -> None:
    exchange = make_exchange()
    exchange.translated = gzip_response(coding="br")
    stored = read_exchange(RecordingStore(tmp_path, redactor_from_config(CONFIG)).write(exchange))
    assert stored.translated is not None and b"SMITHERINGTON" not in stored.translated.body
    assert b"Alice" in stored.translated.body
    assert any(note.startswith("translated: decoded br from ") for note in stored.notes)


BOMB = gzip.compress(b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>")


@pytest.mark.parametrize(
    ("coding", "body", "reason"),
    [
        ("gzip", gzip.compress(REPLY)[:-12], "bad-encoding"),  # truncated
        ("gzip", REPLY, "bad-encoding"),  # says gzip, is not
        ("compress", b"\x1f\x9d\x90<", "unsupported-encoding"),
        ("gzip", BOMB, "compression-ratio"),  # 20 MB from about 20 KB
    ],
    ids=["truncated", "not-gzip", "unknown-coding", "bomb"],
)
def test_a_body_that_cannot_be_decoded_is_omitted_with_the_reason(
    tmp_path: Path, coding: str, body: bytes, reason: str
) -> None:
    exchange = make_exchange()
    exchange.response = HttpResponse(200, [("Content-Encoding", coding)], body)
    path = RecordingStore(tmp_path, redactor_from_config(CONFIG)).write(exchange)
    stored = read_exchange(path)
    omitted = stored.omitted_bodies["response"]
    assert (omitted.reason, omitted.length) == (reason, len(body))
    assert omitted.sha256 == hashlib.sha256(body).hexdigest()
    assert stored.response is not None and stored.response.body == b""
    assert f"response: could not decode {coding} ({reason})" in stored.notes
    assert "SMITHERINGTON" not in path.read_text()
    assert stored.request.body and "request" not in stored.omitted_bodies  # the rest is kept


def test_the_store_bounds_what_a_body_may_decode_to(tmp_path: Path) -> None:
    exchange = make_exchange()
    exchange.response = gzip_response()
    stored = read_exchange(RecordingStore(tmp_path, max_decoded_bytes=100).write(exchange))
    assert stored.omitted_bodies["response"].reason == "too-large"
    roomy = read_exchange(RecordingStore(tmp_path / "roomy", max_decoded_bytes=len(REPLY))
                          .write(exchange))
    assert roomy.response is not None and roomy.response.body == REPLY


# -- replay sends what was stored -----------------------------------------------------------


def test_a_request_recorded_compressed_is_replayed_plain_and_the_answer_stored_plain(
    tmp_path: Path
) -> None:
    exchange = make_exchange()
    exchange.request.headers.append(("Content-Encoding", "gzip"))
    exchange.request.body = gzip.compress(ENQUIRY)
    RecordingStore(tmp_path / "recs").write(exchange)
    recorded, errors = read_recordings(tmp_path / "recs")
    assert not errors
    out = RecordingStore(tmp_path / "out")
    with ScriptedBus() as bus:
        bus.reply = Reply(headers=[("Content-Type", "text/xml"), ("Content-Encoding", "gzip")],
                          body=gzip.compress(REPLY))
        summary = replay(plan_replay(recorded), out, bus.url, SendOptions(rate=None))
        [received] = bus.received
    assert summary.sent == 1 and summary.statuses == {200: 1}
    assert received.body == ENQUIRY
    assert "content-encoding" not in names(received.headers)
    assert dict((k.lower(), v) for k, v in received.headers)["content-length"] == str(len(ENQUIRY))
    [answer] = out.iter_exchanges()
    assert answer.response is not None and answer.response.body == REPLY
    assert "content-encoding" not in names(answer.response.headers)
    assert any(note.startswith("response: decoded gzip from ") for note in answer.notes)


# -- compare reads them as XML --------------------------------------------------------------


def test_a_shadow_recording_with_a_gzip_legacy_answer_compares_equal(tmp_path: Path) -> None:
    """What `turnout compare` does (offline, the demo's translators and rules) on a shadowed
    ResolveLocation whose legacy answer came gzip-encoded, recorded through the demo's
    redaction: the legacy answer is read, and it matches the translator's."""
    demo = load_proxy_config(DEMO_CONFIG)
    assert demo.translators_dir is not None and demo.compare_rules is not None
    golden = read_exchange(sorted((GOLDEN / "geo" / "ResolveLocation").glob("*.yaml"))[0])
    assert golden.route == "shadow" and golden.response is not None
    legacy = gzip.compress(golden.response.body)
    exchange = Exchange(
        request=golden.request, client=golden.client, started_at=golden.started_at,
        operation=golden.operation, soap_version=golden.soap_version, action=golden.action,
        route="shadow",
        response=HttpResponse(200, [("Content-Type", "text/xml; charset=utf-8"),
                                    ("Content-Encoding", "gzip"),
                                    ("Content-Length", str(len(legacy)))], legacy, "OK"),
        translated=golden.translated, translation=golden.translation,
    )
    redactor = redactor_from_config(demo.redaction)
    path = RecordingStore(tmp_path, redactor).write(exchange)
    assert "body_base64" not in path.read_text() and "body_omitted" not in path.read_text()
    report = compare_recordings(
        tmp_path, TranslatorAnswers(load_translators(demo.translators_dir)),
        load_rules(demo.compare_rules),
    )
    [operation] = report.operations
    assert operation.operation == "/geo ResolveLocation"
    assert operation.not_compared == []
    [sample] = operation.samples
    assert sample.matches, sample.differences
    assert operation.parity == 100.0


def test_before_this_change_such_a_recording_was_unreadable_to_compare(tmp_path: Path) -> None:
    """The same exchange written as the store used to write it (gzip bytes, base64): compare
    counts it as different, with an unreadable legacy answer. What the change is for."""
    demo = load_proxy_config(DEMO_CONFIG)
    assert demo.translators_dir is not None and demo.compare_rules is not None
    golden = read_exchange(sorted((GOLDEN / "geo" / "ResolveLocation").glob("*.yaml"))[0])
    assert golden.response is not None
    golden.response.headers.append(("Content-Encoding", "gzip"))
    golden.response.body = gzip.compress(golden.response.body)
    (tmp_path / f"{golden.id}.yaml").write_text(dumps(golden))
    report = compare_recordings(
        tmp_path, TranslatorAnswers(load_translators(demo.translators_dir)),
        load_rules(demo.compare_rules),
    )
    [sample] = report.samples
    assert not sample.matches
    assert [d.kind for d in sample.differences] == ["unreadable"]
