"""Credentials: hidden in every recording, whatever the configuration says.

Personal data is hidden by rules a person writes; credentials are not left to anyone's memory.
Whatever `redaction:` holds (nothing at all, with `turnout proxy --unredacted`), these never
reach disk:

- headers: `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`,
  `Api-Key`, `X-Auth-Token`, and any header whose name holds `token`, `secret`, `password`,
  `api-key`, `apikey` (or `api_key`, `passwd`, `credential`); a client certificate a TLS
  terminator forwards (`X-SSL-Client-Cert`, `X-Forwarded-Client-Cert`, `X-SSL-Client-Serial`,
  the issuer...) except its subject;
- query parameters of the request target with such names (`?api_key=`, `?access_token=`);
- WS-Security secrets: `wsse:Password`, `wsse:Nonce`, `wsse:BinarySecurityToken`,
  `ds:SignatureValue`, `xenc:CipherValue`, in their own namespaces anywhere and by local name in
  any namespace inside a `Security` header; elements and attributes anywhere whose name holds
  `password`, `secret` or `apikey`; in a SOAP Header also those (without child elements)
  whose name holds `token` or `credential`;
- keys of the JSON calls and replies that name a password, a secret, an API key or a token
  meant for authentication (`access_token`, `refresh_token`).

Each becomes `REDACTED` (never a pseudonym: a credential has no format worth keeping), and its
value is handed to redaction by value, so the same secret echoed anywhere else in the exchange
(a Fault quoting the header, a body carrying the token) is hidden there too.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import unquote_plus

from lxml import etree

#: what every credential becomes
CREDENTIAL_TOKEN = "REDACTED"

_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
    "x-auth-token",
})
_HEADER_WORDS = ("token", "secret", "password", "passwd", "api-key", "apikey", "api_key",
                 "credential")
#: headers a TLS terminator uses to pass on the client's certificate
_CERT_WORDS = ("cert", "ssl-client", "tls-client", "client-ssl", "client-tls", "client-verify",
               "client-serial", "client-fingerprint", "client-issuer", "client-i-dn")
_SUBJECT = re.compile(r"subject|(?:^|-)s-dn(?:$|-)|(?:^|-)client-dn$|-cn$")
_XFCC = "x-forwarded-client-cert"

#: query parameters that are credentials by their whole name (`?key=`, a signed URL's `sig`)
_PARAMETERS = frozenset({"key", "sig", "signature", "auth", "apikey", "api_key"})

_SECRET_WORDS = ("password", "passwd", "secret", "apikey", "api-key", "api_key")
_HEADER_ONLY_WORDS = ("token", "credential")
_JSON_KEY_WORDS = ("password", "passwd", "secret", "apikey", "api_key", "api-key",
                   "accesstoken", "access_token", "access-token", "refreshtoken",
                   "refresh_token", "refresh-token", "id_token", "idtoken", "authtoken",
                   "auth_token", "auth-token", "bearer", "authorization", "credential",
                   "privatekey", "private_key", "clientsecret", "client_secret")

_WSS_LOCAL = frozenset({"password", "nonce", "binarysecuritytoken", "signaturevalue",
                        "ciphervalue"})
_WSS_NAMESPACES = frozenset({
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd",
    "http://schemas.xmlsoap.org/ws/2002/07/secext",
    "http://schemas.xmlsoap.org/ws/2002/04/secext",
    "http://schemas.xmlsoap.org/ws/2003/06/secext",
    "http://www.w3.org/2000/09/xmldsig#",
    "http://www.w3.org/2001/04/xmlenc#",
})
_SOAP_NAMESPACES = frozenset({
    "http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope",
})


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def is_credential_header(name: str) -> bool:
    """A header whose whole value is a credential."""
    lowered = name.strip().lower()
    if lowered in _HEADERS or any(word in lowered for word in _HEADER_WORDS):
        return True
    normal = _normal(name)
    if normal == _XFCC:
        return False  # its subject stays: see `hide_header`
    return any(word in normal for word in _CERT_WORDS) and not _SUBJECT.search(normal)


@lru_cache(maxsize=1024)
def _header_kind(name: str) -> str | None:
    """"xfcc", "credential" or None for a header name (the same few names in every exchange)."""
    if _normal(name) == _XFCC:
        return "xfcc"
    return "credential" if is_credential_header(name) else None


def hide_header(name: str, value: str) -> tuple[str, list[str]] | None:
    """(what to write instead, the secrets in `value` to hide by value), or None when `name`
    is not a credential header."""
    kind = _header_kind(name)
    if kind is None:
        return None
    if kind == "xfcc":
        return _hide_xfcc(value)
    return CREDENTIAL_TOKEN, list(_secrets_of(name.strip().lower(), value))


def _secrets_of(name: str, value: str) -> Iterator[str]:
    """The whole value, and the parts of it that could be quoted back on their own."""
    yield value
    if name in ("authorization", "proxy-authorization"):
        scheme, _, rest = value.strip().partition(" ")
        rest = rest.strip()
        if rest:
            yield rest
            for part in re.split(r"\s*,\s*", rest):  # Digest: response="...", nonce="..."
                _, eq, quoted = part.partition("=")
                if eq:
                    yield quoted.strip('"')
        if scheme.lower() == "basic" and rest:
            try:
                decoded = base64.b64decode(rest, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                decoded = ""
            user, colon, password = decoded.partition(":")
            if colon:
                yield decoded
                yield password
    elif name in ("cookie", "set-cookie"):
        pairs = value.split(";") if name == "cookie" else value.split(";")[:1]
        for pair in pairs:
            _, eq, cookie = pair.partition("=")
            if eq and cookie.strip():
                yield cookie.strip().strip('"')


def _split_unquoted(text: str, separator: str) -> list[str]:
    """`text` split at `separator`, but not inside "..." (with \\" escapes)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _hide_xfcc(value: str) -> tuple[str, list[str]]:
    """`X-Forwarded-Client-Cert` (Envoy): keep each element's `Subject`, hide the rest."""
    secrets: list[str] = []
    elements = []
    for element in _split_unquoted(value, ","):
        pairs = []
        for pair in _split_unquoted(element, ";"):
            key, eq, item = pair.partition("=")
            if eq and key.strip().lower() != "subject":
                if item.strip().strip('"'):
                    secrets.append(item.strip().strip('"'))
                pairs.append(f"{key}={CREDENTIAL_TOKEN}")
            else:
                pairs.append(pair)
        elements.append(";".join(pairs))
    return ",".join(elements), secrets


def is_credential_parameter(name: str) -> bool:
    """A query parameter (of the request target) that carries a credential."""
    lowered = unquote_plus(name).strip().lower()
    return any(word in lowered for word in _HEADER_WORDS) or lowered in _PARAMETERS


def is_credential_key(key: str) -> bool:
    """A key of a JSON call or reply whose value is a credential."""
    lowered = key.lower()
    return any(word in lowered for word in _JSON_KEY_WORDS)


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _in_security(element: etree._Element) -> bool:
    return any(
        isinstance(a.tag, str) and _local(a.tag)[1].lower() == "security"
        for a in element.iterancestors()
    )


def _in_soap_header(element: etree._Element) -> bool:
    for ancestor in element.iterancestors():
        if not isinstance(ancestor.tag, str):
            continue
        namespace, local = _local(ancestor.tag)
        if local == "Header" and namespace in _SOAP_NAMESPACES:
            return True
    return False


#: Every word a credential's name is recognised by: a document in which none of them appears
#: (in any case) has no element or attribute `credential_nodes` would find.
_NAME_WORDS = (*_SECRET_WORDS, *_HEADER_ONLY_WORDS, *sorted(_WSS_LOCAL))
_NAME_BYTES = tuple(word.encode("ascii") for word in _NAME_WORDS)
#: a lower-cased name with none of the words is no credential's (`credential_nodes`)
_ANY_WORD = re.compile("|".join(re.escape(word) for word in _NAME_WORDS))


def may_hold_credentials(root: etree._Element, raw: bytes | None = None) -> bool:
    """False when no element or attribute of `root`'s document can be a credential: none of
    the words their names are recognised by appears in it at all. One look at the document
    as text, where walking each element in Python cost most of redacting a large answer, and
    an answer seldom names any of them. Every name appears in the text as it is, so
    lower-casing the whole text finds each word a lower-cased name holds.

    The text is `raw`, the bytes `root` was parsed from, when they are plain ASCII in an
    encoding ASCII is a part of, or UTF-8: every name is in them as written (no entity can
    make one); else the document serialised (1.9 ms at 200 KB, against 0.3 ms)."""
    if raw is not None and _plain_ascii_superset(root, raw):
        if raw.isascii():
            lowered = raw.lower()
            return any(word in lowered for word in _NAME_BYTES)
        if (root.getroottree().docinfo.encoding or "").lower() in ("utf-8", "utf8"):
            try:
                text = raw.decode("utf-8").lower()
            except UnicodeDecodeError:
                pass
            else:
                return any(word in text for word in _NAME_WORDS)
    text = etree.tostring(root.getroottree(), encoding="unicode").lower()
    return any(word in text for word in _NAME_WORDS)


#: encodings in which an ASCII character is its own single byte
_ASCII_SUPERSET = re.compile(
    r"utf-?8|(?:us-)?ascii|iso[-_]?8859-\d+|latin-?1|(?:windows|cp)-?125\d", re.IGNORECASE
)


def _plain_ascii_superset(root: etree._Element, raw: bytes) -> bool:
    """Whether `raw` was read one byte per ASCII character: an encoding of that kind (the
    parser says UTF-8 for a UTF-16 document with a byte order mark and no declaration, hence
    the look at the first bytes), and no NUL (no XML text holds one: UTF-16 or UTF-32)."""
    encoding = root.getroottree().docinfo.encoding or ""
    return (_ASCII_SUPERSET.fullmatch(encoding) is not None
            and not raw.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" not in raw)


def credential_nodes(root: etree._Element) -> Iterator[tuple[etree._Element, str | None]]:
    """(element, None) for each element whose text is a credential, (element, attribute name)
    for each such attribute."""
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # comments, processing instructions
        namespace, lowered, worded = _name(tag)
        if worded and _is_secret_element(element, namespace, lowered):
            yield element, None
        for attribute in element.keys():
            _, attr_lowered, attr_worded = _name(attribute)
            if not attr_worded:
                continue
            if any(word in attr_lowered for word in _SECRET_WORDS) or (
                any(word in attr_lowered for word in _HEADER_ONLY_WORDS)
                and _in_soap_header(element)
            ):
                yield element, attribute


@lru_cache(maxsize=4096)
def _name(name: str) -> tuple[str, str, bool]:
    """A name's namespace, its local name lower-cased, and whether that holds one of the
    words a credential's name is recognised by (the same few names in every message)."""
    namespace, local = _local(name)
    lowered = local.lower()
    return namespace, lowered, _ANY_WORD.search(lowered) is not None


def _is_secret_element(element: etree._Element, namespace: str, lowered: str) -> bool:
    if lowered in _WSS_LOCAL and (namespace in _WSS_NAMESPACES or _in_security(element)):
        return True
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    if (any(word in lowered for word in _HEADER_ONLY_WORDS) and len(element) == 0
            and _in_soap_header(element)):
        return True  # a leaf: `UsernameToken` holds a Username (no secret) beside its Password
    return False


#: the same elements found in bytes, for a body no parser can read (kept only when unredacted)
_RAW_SECRET = re.compile(
    rb"(<(?:[\w.-]+:)?(?:Password|Nonce|BinarySecurityToken|SignatureValue|CipherValue"
    rb"|[\w.-]*(?:password|passwd|secret|apikey|api-key|api_key)[\w.-]*)(?:\s[^>]*)?>)([^<]*)",
    re.IGNORECASE,
)


def scrub_raw(body: bytes) -> tuple[bytes, list[str]]:
    """`body` with the text of credential-named elements replaced, and the values replaced."""
    found: list[str] = []

    def hide(match: re.Match[bytes]) -> bytes:
        text = match.group(2)
        if not text.strip():
            return match.group(0)
        found.append(text.decode("utf-8", "replace").strip())
        return match.group(1) + CREDENTIAL_TOKEN.encode()

    return _RAW_SECRET.sub(hide, body), found
