"""The recording file format: one exchange per human-readable YAML document.

```yaml
turnout_exchange: 1
id: 20261125T075301.123Z-1a2b3c4d
started_at: '2026-11-25T07:53:01.123456Z'
operation:
  service: /pnc
  name: PersonEnquiry
  namespace: urn:police:pnc:v1
soap_version: '1.1'
...
request:
  method: POST
  path: /pnc
  headers:
  - [Content-Type, text/xml; charset=utf-8]
  body: |
    <soap:Envelope ...>
```

A body is stored in exactly one of three ways:
- `body`: the text, as a literal block, when it is UTF-8 and provably loads back byte for byte;
  a body whose lines all end in CRLF is written with LF and `body_newline: crlf`;
- `body_base64`: anything else (not UTF-8, stray CRs, characters YAML cannot carry);
- `body_omitted` (a reason), `body_sha256`, `body_length`: redaction could not read it, so the
  text was never written;
- `body_same_as: response`, in `translated` only: the translated envelope is the client's
  answer (translator mode), byte for byte, so it is stored once, under `response`. Files written
  before this form hold the body twice; both load the same.
"""

from __future__ import annotations

FORMAT_VERSION = 1
VERSION_KEY = "turnout_exchange"
CRLF = "crlf"
#: the one value of `body_same_as`: the message whose body this one's is
SAME_AS_RESPONSE = "response"

TOP_KEYS = (
    VERSION_KEY, "id", "started_at", "operation", "soap_version", "action", "route", "outcome",
    "notes", "client", "request_id", "trace_id", "timings", "request", "response", "translated",
    "translation", "extra",
)  # fmt: skip
REQUEST_KEYS = ("method", "path", "headers")
RESPONSE_KEYS = ("status", "reason", "headers")
BODY_KEYS = ("body_newline", "body", "body_base64", "body_omitted", "body_sha256", "body_length")
#: the body keys of `translated`: those of any message, and a reference to the response's
TRANSLATED_BODY_KEYS = (*BODY_KEYS, "body_same_as")
