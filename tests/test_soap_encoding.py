"""Content-Encoding decoded within bounds (`turnout/soap/_encoding.py`) and the request target
normalised once (`turnout/soap/_target.py`): what the guard inspects is what the bus executes."""

from __future__ import annotations

import gzip
import random
import zlib
from collections.abc import Callable

import brotli
import pytest
import zstandard

from turnout.soap import (
    DEFAULT_MAX_RATIO,
    BadTarget,
    Target,
    XmlThreat,
    content_codings,
    decode_content,
    is_encoded,
    normalise_target,
)

ENVELOPE = (
    b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soap:Body><pnc:PersonEnquiry xmlns:pnc="urn:police:pnc:v1"><pnc:surname>SMITH</pnc:surname>'
    b"<pnc:forename>JOHN</pnc:forename><pnc:dateOfBirth>1980-01-01</pnc:dateOfBirth></pnc:PersonEnquiry>"
    b"</soap:Body></soap:Envelope>"
)
MIB = 1024 * 1024


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


#: name -> (Content-Encoding value, encoder)
CODINGS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "deflate (zlib, RFC 9110)": ("deflate", zlib.compress),
    "deflate (raw, as IE sent)": ("deflate", raw_deflate),
    "br": ("br", brotli.compress),
    "zstd": ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
}


# --- what Content-Encoding says ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "codings"),
    [(None, []), ("", []), ("identity", []), ("GZIP", ["gzip"]), ("gzip, br", ["gzip", "br"]),
     (" gzip ,identity, ZSTD ,", ["gzip", "zstd"])],
)
def test_content_codings(value: str | None, codings: list[str]) -> None:
    assert content_codings(value) == codings
    assert is_encoded(value) is bool(codings)


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_round_trip(coding: str) -> None:
    label, encode = CODINGS[coding]
    encoded = encode(ENVELOPE)
    assert encoded != ENVELOPE
    assert decode_content(encoded, label, MIB) == ENVELOPE
    assert decode_content(encoded, label.upper(), MIB) == ENVELOPE


def test_identity_and_no_coding_return_the_body_as_it_is() -> None:
    assert decode_content(ENVELOPE, None, MIB) is ENVELOPE
    assert decode_content(ENVELOPE, "identity", MIB) is ENVELOPE


def test_stacked_codings_are_undone_last_applied_first() -> None:
    """`Content-Encoding: gzip, br` means gzip was applied, then br."""
    encoded = brotli.compress(gzip.compress(ENVELOPE))
    assert decode_content(encoded, "gzip, br", MIB) == ENVELOPE
    with pytest.raises(XmlThreat) as info:
        decode_content(encoded, "br, gzip", MIB)  # the wrong order is not silently tolerated
    assert info.value.kind == "bad-encoding"
    assert decode_content(gzip.compress(zlib.compress(ENVELOPE)), "deflate, identity, gzip", MIB) == ENVELOPE


# --- bombs ---------------------------------------------------------------------------------------

ZEROS = b"\0" * (20 * MIB)


@pytest.mark.parametrize("coding", CODINGS)
def test_a_bomb_is_refused_by_ratio_when_the_size_bound_is_far(coding: str) -> None:
    label, encode = CODINGS[coding]
    bomb = encode(ZEROS)
    assert len(ZEROS) / len(bomb) > DEFAULT_MAX_RATIO
    with pytest.raises(XmlThreat) as info:
        decode_content(bomb, label, max_bytes=1024 * MIB)
    assert info.value.kind == "compression-ratio"


@pytest.mark.parametrize("coding", ["gzip", "deflate (zlib, RFC 9110)", "deflate (raw, as IE sent)"])
def test_a_bomb_is_refused_by_size_when_the_size_bound_comes_first(coding: str) -> None:
    """20 MiB of zeros deflate to ~20 KB: 200x that is 4 MB, so the 1 MiB bound is met first."""
    label, encode = CODINGS[coding]
    with pytest.raises(XmlThreat) as info:
        decode_content(encode(ZEROS), label, max_bytes=MIB)
    assert info.value.kind == "too-large"


def test_ratio_and_size_are_the_bounds_not_less() -> None:
    """Exactly at the size bound decodes; a small body may compress absurdly well (under 64 KiB
    decoded, the ratio is not applied); a stream just under the ratio decodes."""
    noise = random.Random(7).randbytes(MIB + 1)  # barely compressible: only the size bound applies
    assert len(decode_content(gzip.compress(noise[:MIB]), "gzip", max_bytes=MIB)) == MIB
    with pytest.raises(XmlThreat) as info:
        decode_content(gzip.compress(noise), "gzip", max_bytes=MIB)
    assert info.value.kind == "too-large"
    tiny = gzip.compress(b"\0" * 60_000)
    assert 60_000 / len(tiny) > DEFAULT_MAX_RATIO
    assert decode_content(tiny, "gzip", MIB) == b"\0" * 60_000
    with pytest.raises(XmlThreat) as info:
        decode_content(gzip.compress(b"\0" * 200_000), "gzip", MIB, max_ratio=2)
    assert info.value.kind == "compression-ratio"
    assert len(decode_content(gzip.compress(b"\0" * 200_000), "gzip", MIB, max_ratio=1000)) == 200_000


def test_stacked_bombs_are_bounded_at_each_layer() -> None:
    bomb = gzip.compress(gzip.compress(ZEROS))
    with pytest.raises(XmlThreat) as info:
        decode_content(bomb, "gzip, gzip", max_bytes=1024 * MIB)
    assert info.value.kind == "compression-ratio"


# --- broken streams ------------------------------------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize(
    "damage",
    [lambda e: e[:-4], lambda e: e[: len(e) // 2], lambda e: e + b"junk", lambda e: e + e],
    ids=["truncated-end", "truncated-half", "trailing-junk", "second-stream"],
)
def test_broken_streams_are_bad_encoding(coding: str, damage: Callable[[bytes], bytes]) -> None:
    """A bus's decoder may ignore what follows the stream, or read a second member: either way
    not what the guard inspected."""
    label, encode = CODINGS[coding]
    with pytest.raises(XmlThreat) as info:
        decode_content(damage(encode(ENVELOPE)), label, MIB)
    assert info.value.kind == "bad-encoding"


@pytest.mark.parametrize("label", ["gzip", "deflate", "br", "zstd"])
def test_not_compressed_at_all_is_bad_encoding(label: str) -> None:
    with pytest.raises(XmlThreat) as info:
        decode_content(ENVELOPE, label, MIB)
    assert info.value.kind == "bad-encoding"


@pytest.mark.parametrize("label", ["compress", "x-compress", "pack200-gzip", "exi", "gzip;q=1", "br, lzma"])
def test_unknown_codings_are_refused(label: str) -> None:
    with pytest.raises(XmlThreat) as info:
        decode_content(brotli.compress(ENVELOPE), label, MIB)
    assert info.value.kind == "unsupported-encoding"


# --- the request target ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/cris", "/cris"),
        ("/%63ris", "/cris"),
        ("/./cris", "/cris"),
        ("/%2E/cris", "/cris"),
        ("/pnc/../cris", "/cris"),
        ("/%2e%2e/cris", "/cris"),
        ("/../../cris", "/cris"),  # clamped at the root, as servers do
        ("//cris", "/cris"),
        ("///pnc//vehicle", "/pnc/vehicle"),
        ("/cris/", "/cris/"),
        ("/cris/.", "/cris/"),
        ("/cris/..", "/"),
        ("/a/./b/../../c//d/", "/c/d/"),
        ("/", "/"),
        ("/a%20b", "/a%20b"),
        ("/%C3%A9", "/%C3%A9"),
        ("/CRIS", "/CRIS"),  # case kept unless the bus is case-insensitive
    ],
)
def test_spellings_of_one_path_normalise_to_it(raw: str, path: str) -> None:
    assert normalise_target(raw) == Target(path, "")


@pytest.mark.parametrize(("raw", "path"), [("/CRIS", "/cris"), ("/%43ris", "/cris"), ("/Pnc/../CRIS/", "/cris/")])
def test_case_insensitive_bus_lower_cases(raw: str, path: str) -> None:
    assert normalise_target(raw, case_insensitive=True).path == path


@pytest.mark.parametrize(
    ("raw", "query"),
    [("/cris?wsdl", "wsdl"), ("/cris?x=%2F&y=a;b\\c", "x=%2F&y=a;b\\c"), ("/%63ris?WSDL", "WSDL"), ("/cris?", "")],
)
def test_query_passes_unchanged(raw: str, query: str) -> None:
    target = normalise_target(raw, case_insensitive=True)
    assert (target.path, target.query) == ("/cris", query)
    assert target.request_target == ("/cris?" + query if query else "/cris")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("*", "asterisk"),
        ("", "not a path"),
        ("http://bus/cris", "not a path"),
        ("cris", "not a path"),
        ("/a%2Fb", "slash or backslash"),
        ("/a%2fb", "slash or backslash"),
        ("/a%5Cb", "slash or backslash"),
        ("/a\\b", "backslash"),
        ("/cris;jsessionid=1", "';' parameters"),
        ("/cris%3Bx", "';' parameters"),
        ("/cris%00", "control character"),
        ("/cris\x00", "control character"),
        ("/cris%0d%0aX-Injected:%201", "control character"),
        ("/cris%7F", "control character"),
        ("/%ff", "not UTF-8"),
        ("/cris#frag", "fragment"),
    ],
)
def test_targets_with_no_one_meaning_are_refused(raw: str, why: str) -> None:
    with pytest.raises(BadTarget, match=why) as info:
        normalise_target(raw)
    assert info.value.kind == "target"


@pytest.mark.parametrize("raw", ["/%2563ris", "/a%252Fb", "/a%252e%252e/cris"])
def test_a_path_encoded_twice_is_refused(raw: str) -> None:
    """A bus that decodes twice would run `/%2563ris` as `/cris`, which we would route as
    `/%63ris`: no one meaning, so refused."""
    with pytest.raises(BadTarget, match="twice"):
        normalise_target(raw)


def test_a_plain_path_is_taken_as_it_is_only_when_normalising_would_give_it_back() -> None:
    """`/pnc` needs no decoding, collapsing or quoting; the shortcut that takes it as it is must
    give exactly what the whole normalisation gives, for every path it takes."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from turnout.soap._target import _PLAIN_PATH, _normalise_path

    pieces = st.sampled_from(["/", "//", ".", "..", "/.", "/..", "a", "Z", "0", "-", "_", "~", "%2e", "%41",
                              "%2F", ";", "\\", "#", "\n", "é", " ", "+", "@", ":", "...", ".a"])

    @settings(max_examples=2000, deadline=None, database=None)
    @given(st.lists(pieces, max_size=8), st.booleans())
    def agree(parts: list[str], insensitive: bool) -> None:
        raw = "/" + "".join(parts)
        if _PLAIN_PATH.fullmatch(raw):
            assert normalise_target(raw, insensitive).path == _normalise_path(raw, insensitive), raw
            assert normalise_target(raw + "?q=1", insensitive) == Target(_normalise_path(raw, insensitive), "q=1")

    agree()
    for plain in ("/", "/pnc", "/pnc/", "/merlin/MerlinService", "/a.b/~c-d_e", "/...", "/.well-known"):
        assert _PLAIN_PATH.fullmatch(plain), plain
    for not_plain in ("//pnc", "/./pnc", "/pnc/..", "/pnc/.", "/%63ris", "/a;b", "/a b", "/é", "/pnc\n"):
        assert not _PLAIN_PATH.fullmatch(not_plain), not_plain
