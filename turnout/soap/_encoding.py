"""Content-Encoding: what a compressed body really says, decoded within bounds.

A bus behind us (CXF, WCF, IIS, node-soap) decodes `Content-Encoding: gzip` before it parses, so
the guard, the router and the recorder must see the decoded bytes too, or a DOCTYPE, a deep
envelope or a moved write travels past them inside a gzip stream. Decoding is bounded twice: the
decoded size may not pass the body limit, and the ratio of decoded to encoded size may not pass
`max_ratio` (a 190 KB stream that expands to 200 MB is refused after the first few MB, never
held). An encoding we cannot decode, or a stream that is corrupt or truncated, is a threat: we
cannot know what the bus would make of it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from ._errors import XmlThreat

#: decoded size / encoded size above which a body is refused as a compression bomb. Real SOAP
#: compresses 5-20x; a deliberately repetitive envelope may reach 100x; bombs reach 1000x.
DEFAULT_MAX_RATIO = 200

#: the part of a decoded body that is allowed whatever the ratio (a tiny body compresses badly
#: or absurdly well; neither is a threat below this size)
_RATIO_FLOOR = 64 * 1024

#: input bytes per step for decoders that cannot bound their output (worst case a few MB a step)
_BROTLI_STEP = 8
_ZSTD_STEP = 64


def content_codings(value: str | None) -> list[str]:
    """The codings named by a Content-Encoding value, in the order they were applied, lower
    case, without `identity`."""
    if not value:
        return []
    return [c.strip().lower() for c in value.split(",") if c.strip() and c.strip().lower() != "identity"]


def is_encoded(content_encoding: str | None) -> bool:
    return bool(content_codings(content_encoding))


def decode_content(
    body: bytes,
    content_encoding: str | None,
    max_bytes: int,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> bytes:
    """`body` with every coding in `content_encoding` undone (last applied, first undone).

    Raises `XmlThreat` with kind `unsupported-encoding`, `bad-encoding` (corrupt, truncated or
    followed by junk), `too-large` (decoded size over `max_bytes`) or `compression-ratio`.
    """
    codings = content_codings(content_encoding)
    data = body
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise XmlThreat(
                "unsupported-encoding",
                f"Content-Encoding {coding!r} is not one Turnout can read "
                f"(it reads {', '.join(sorted(_DECODERS))})",
            )
        limit = min(max_bytes, max(_RATIO_FLOOR, len(data) * max_ratio))
        decoded = decoder(data, limit)
        if len(decoded) > limit:
            if limit == max_bytes:
                raise XmlThreat(
                    "too-large", f"decoded body is over the limit of {max_bytes} bytes"
                )
            raise XmlThreat(
                "compression-ratio",
                f"{coding} body of {len(data)} bytes expands more than {max_ratio} times",
            )
        data = decoded
    return data


def _zlib_stream(wbits: int) -> Callable[[bytes, int], bytes]:
    def decode(data: bytes, limit: int) -> bytes:
        decoder = zlib.decompressobj(wbits)
        out = bytearray()
        pending = data
        try:
            while pending:
                out += decoder.decompress(pending, limit + 1 - len(out))
                if len(out) > limit:
                    return bytes(out)  # the caller names the bound that was passed
                pending = decoder.unconsumed_tail
            out += decoder.flush()
        except zlib.error as exc:
            raise XmlThreat("bad-encoding", f"body is not valid {_NAMES[wbits]}: {exc}") from None
        if not decoder.eof:
            raise XmlThreat("bad-encoding", f"{_NAMES[wbits]} body is truncated")
        if decoder.unused_data:
            # A bus's decoder may ignore what follows the stream, or read it as a second member:
            # either way it is not what we inspected.
            raise XmlThreat("bad-encoding", f"{_NAMES[wbits]} body has data after its end")
        return bytes(out)

    return decode


_NAMES = {31: "gzip", 15: "deflate", -15: "deflate"}
_gzip = _zlib_stream(31)
_zlib = _zlib_stream(15)
_raw_deflate = _zlib_stream(-15)


def _deflate(data: bytes, limit: int) -> bytes:
    """`deflate` is zlib-wrapped by RFC 9110, but some clients send a raw stream (as IE did)."""
    if data[:1] and (data[0] & 0x0F) == 8 and int.from_bytes(data[:2], "big") % 31 == 0:
        return _zlib(data, limit)
    return _raw_deflate(data, limit)


def _brotli(data: bytes, limit: int) -> bytes:
    import brotli  # a dependency of mitmproxy's

    decoder = brotli.Decompressor()
    out = bytearray()
    try:
        # No output bound in the brotli binding: a few hundred bytes can expand to 150 MB in one
        # call, so the stream is fed a few bytes at a time and the bound checked after each.
        for start in range(0, len(data), _BROTLI_STEP):
            out += decoder.process(data[start:start + _BROTLI_STEP])
            if len(out) > limit:
                return bytes(out)
        finished = decoder.is_finished()
    except brotli.error as exc:
        raise XmlThreat("bad-encoding", f"body is not valid br: {exc}") from None
    if not finished:
        raise XmlThreat("bad-encoding", "br body is truncated")
    return bytes(out)


def _zstd(data: bytes, limit: int) -> bytes:
    import zstandard  # a dependency of mitmproxy's

    decoder = zstandard.ZstdDecompressor().decompressobj()
    out = bytearray()
    try:
        # RLE blocks give about 32,000:1 per input byte; small steps keep each one bounded.
        for start in range(0, len(data), _ZSTD_STEP):
            out += decoder.decompress(data[start:start + _ZSTD_STEP])
            if len(out) > limit:
                return bytes(out)
    except zstandard.ZstdError as exc:
        raise XmlThreat("bad-encoding", f"body is not valid zstd: {exc}") from None
    if not decoder.eof:
        raise XmlThreat("bad-encoding", "zstd body is truncated")
    if decoder.unused_data:
        raise XmlThreat("bad-encoding", "zstd body has data after its end")
    return bytes(out)


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
