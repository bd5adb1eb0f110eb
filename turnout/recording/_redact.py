"""Redaction before anything reaches disk: small rules, composed by configuration.

A `BodyRule` names XML to hide with an XPath; a `HeaderRule` names a header. The `Redactor`
applies them to a copy of an exchange. What replaces a value is a separate callable, so a later
slice can swap the fixed token for keyed, format-preserving pseudonyms without touching rules.

Fail closed: a body the rules cannot be applied to (not XML, hostile, a rule that errs) is not
written at all; the exchange keeps only its hash and length.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, cast

from lxml import etree

from turnout.soap import (
    DEFAULT_LIMITS,
    HttpRequest,
    HttpResponse,
    XmlLimits,
    XmlThreat,
    XmlUnreadable,
    parse_xml,
)

from ._exchange import Exchange, OmittedBody
from ._redact_json import JsonRule, compile_json_rule, redact_json

log = logging.getLogger("turnout.recording")

REDACTED = "REDACTED"


@dataclass(frozen=True)
class BodyRule:
    """Hide the text of every element (whole subtree) and attribute the XPath selects.

    With `quoted`, hide only what the text quotes ('...' or "...") and only when that value was
    hidden by a field rule elsewhere in the same exchange: legacy systems echo the caller's
    values in their messages (`dateOfBirth '1965-09-30' is not a date`), the quoted value then
    gets exactly the token its field got, and the rest of the message (a quoted crime
    reference, say) stays as readable and comparable as its own field.
    """

    xpath: str
    namespaces: Mapping[str, str] = field(default_factory=dict)
    quoted: bool = False


_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


@dataclass(frozen=True)
class HeaderRule:
    """Hide the value of every header of this name (case-insensitive), in requests and responses."""

    name: str


Rule = BodyRule | HeaderRule | JsonRule

#: the rule named when a shadow diff's values are hidden (they may hold any field)
DIFF_VALUES = BodyRule("(values of a recorded diff)")

#: What a value becomes: `(original value, the rule that matched it) -> replacement`.
Replacement = Callable[[str, Rule], str]


def fixed_token(value: str, rule: Rule) -> str:
    """The replacement of this slice: every value becomes `REDACTED`."""
    return REDACTED


def compile_body_rule(rule: BodyRule) -> etree.XPath:
    """Compile and try out `rule`'s XPath, or raise ValueError naming it.

    Trying it on a tiny document surfaces what compiling alone does not: undefined namespace
    prefixes, unknown functions, and expressions that select a value instead of nodes.
    """
    try:
        xpath = etree.XPath(rule.xpath, namespaces=dict(rule.namespaces))
    except (etree.XPathSyntaxError, TypeError, ValueError) as exc:
        raise ValueError(f"bad XPath {rule.xpath!r}: {exc}") from exc
    try:
        probe = xpath(etree.fromstring(b"<probe/>"))
    except etree.XPathError as exc:
        raise ValueError(f"bad XPath {rule.xpath!r}: {exc}") from exc
    if not isinstance(probe, list):
        raise ValueError(f"bad XPath {rule.xpath!r}: selects a value, not elements or attributes")
    return xpath


class _Unredactable(Exception):
    """A body the rules cannot be applied to; `reason` is a stable token safe to write down."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Redactor:
    """Applies rules to exchanges. Build once, call per exchange: XPaths are compiled here.

    Bodies are parsed with the hardened parser under `limits`; a body over them is omitted.
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        replacement: Replacement = fixed_token,
        limits: XmlLimits = DEFAULT_LIMITS,
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.replacement = replacement
        self.limits = limits
        self._local = threading.local()
        self._body: list[tuple[BodyRule, etree.XPath]] = []
        self._headers: dict[str, HeaderRule] = {}
        self._json: list[tuple[JsonRule, re.Pattern[str]]] = []
        for rule in self.rules:
            if isinstance(rule, BodyRule):
                self._body.append((rule, compile_body_rule(rule)))
            elif isinstance(rule, HeaderRule):
                self._headers.setdefault(rule.name.lower(), rule)
            elif isinstance(rule, JsonRule):
                self._json.append((rule, compile_json_rule(rule)))
            else:
                raise TypeError(f"not a redaction rule: {rule!r}")

    def redact(self, exchange: Exchange) -> Exchange:
        """A redacted copy of `exchange`; the original is not changed."""
        self._local.hidden = set()  # values field rules hid in this exchange (for quoted rules)
        result = copy.deepcopy(exchange)
        result.request = self._redact_request(result.request, result.omitted_bodies)
        if result.response is not None:
            result.response = self._redact_response(result.response, result.omitted_bodies)
        if result.translated is not None:
            result.translated = self._redact_response(
                result.translated, result.omitted_bodies, "translated"
            )
        if result.translation:
            result.translation = self._redact_translation(result.translation)
        return result

    def redact_body(self, body: bytes) -> bytes:
        """`body` with every rule applied; unchanged bytes when nothing matched.

        Raises ValueError (with a reason token as message) when it cannot be redacted.
        """
        try:
            return self._body_or_raise(body)
        except _Unredactable as exc:
            raise ValueError(exc.reason) from None

    # -- messages

    def _redact_request(self, request: HttpRequest, omitted: dict[str, OmittedBody]) -> HttpRequest:
        request.headers = self._redact_headers(request.headers)
        request.body = self._body_or_omit(request.body, "request", omitted)
        return request

    def _redact_response(
        self, response: HttpResponse, omitted: dict[str, OmittedBody], which: str = "response"
    ) -> HttpResponse:
        response.headers = self._redact_headers(response.headers)
        response.body = self._body_or_omit(response.body, which, omitted)
        return response

    def _redact_translation(self, translation: dict[str, Any]) -> dict[str, Any]:
        """JSON rules on the calls' query and the JSON bodies; diff values always hidden.

        A diff's values can come from any field, personal or not, and which XPath rule would
        have covered them is not known here: fail closed. The path and kind stay, and the
        redacted envelopes beside them show every value that is not personal.
        """
        for part in ("call", "reply", "dry_run_call"):
            message = translation.get(part)
            if not isinstance(message, dict):
                continue
            for key in ("query", "body"):
                if key in message and self._json:
                    message[key] = redact_json(message[key], self._json, self.replacement)
        has_rules = bool(self._body or self._json)
        for entry in translation.get("diff") or []:
            if has_rules and isinstance(entry, dict):
                for side in ("legacy", "new"):
                    if entry.get(side) is not None:
                        entry[side] = self.replacement(str(entry[side]), DIFF_VALUES)
        return translation

    def _redact_headers(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if not self._headers:
            return headers
        result = []
        for name, value in headers:
            rule = self._headers.get(name.lower())
            result.append((name, value if rule is None else self.replacement(value, rule)))
        return result

    def _body_or_omit(self, body: bytes, which: str, omitted: dict[str, OmittedBody]) -> bytes:
        try:
            return self._body_or_raise(body)
        except _Unredactable as exc:
            log.info("%s body not recorded: cannot redact it (%s)", which, exc.reason)
            omitted[which] = OmittedBody(
                reason=exc.reason, sha256=hashlib.sha256(body).hexdigest(), length=len(body)
            )
            return b""

    # -- bodies

    def _body_or_raise(self, body: bytes) -> bytes:
        if not self._body or not body:
            return body
        try:
            root = parse_xml(body, self.limits)
        except XmlThreat as exc:
            raise _Unredactable(f"xml-threat:{exc.kind}") from None
        except XmlUnreadable:
            raise _Unredactable("not-xml") from None
        changed = False
        for rule, xpath in self._body:
            try:
                selected = xpath(root)
            except etree.XPathError:
                raise _Unredactable("redaction-failed") from None
            if not isinstance(selected, list):
                raise _Unredactable("redaction-failed")
            for item in selected:
                changed |= self._replace(item, rule)
        return _serialise(root, body) if changed else body

    def _replace(self, item: Any, rule: BodyRule) -> bool:
        """Replace what one XPath result stands for; True when something changed."""
        if isinstance(item, etree._Element):
            return self._replace_subtree(item, rule)
        parent = item.getparent() if hasattr(item, "getparent") else None
        if parent is None or not isinstance(item, str):
            # a namespace node, or a computed string that points nowhere
            raise _Unredactable("redaction-failed")
        if not item:
            return False
        new = self._text(str(item), rule)
        smart: Any = item  # lxml's "smart string": knows where in the tree it came from
        if smart.is_attribute:
            parent.set(smart.attrname, new)
        elif smart.is_tail:
            parent.tail = new
        else:
            parent.text = new
        return True

    def _text(self, text: str, rule: BodyRule) -> str:
        hidden: set[str] = getattr(self._local, "hidden", set())
        if not rule.quoted:
            hidden.add(text.strip())
            return self.replacement(text, rule)

        def hide(match: re.Match[str]) -> str:
            quote, inner = match.group(0)[0], match.group(1) if match.group(1) is not None else match.group(2)
            if inner.strip() not in hidden:
                return match.group(0)
            return quote + self.replacement(inner, rule) + quote

        return _QUOTED.sub(hide, text)

    def _replace_subtree(self, element: etree._Element, rule: BodyRule) -> bool:
        """Every text inside `element`, however deep, so a container hides all it holds.

        Whitespace-only text (indentation) is kept; attributes need their own XPath.
        """
        changed = False
        for node in element.iter():
            if node.text and not node.text.isspace():
                node.text = self._text(node.text, rule)
                changed = True
            if node is not element and node.tail and not node.tail.isspace():
                node.tail = self._text(node.tail, rule)
                changed = True
        return changed


# Declaration and the whitespace after it, in any ASCII-compatible encoding, after a UTF-8 BOM.
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml[^>]*\?>[ \t\r\n]*")


def _serialise(root: etree._Element, original: bytes) -> bytes:
    """Write the tree back, keeping the original's declaration, encoding and outer whitespace.

    Keeping them byte for byte keeps a redacted recording's diff down to the redacted values.
    """
    tree = root.getroottree()
    encoding = tree.docinfo.encoding or "UTF-8"
    if original.startswith((b"\xff\xfe", b"\xfe\xff")) or original[:1] == b"\x00":
        # UTF-16 or UTF-32: let lxml write the declaration and byte order mark itself
        return cast(bytes, etree.tostring(tree, encoding=encoding, xml_declaration=True))
    match = _DECLARATION.match(original)
    if match:
        head = match.group(0)
    else:
        head = b"\xef\xbb\xbf" if original.startswith(b"\xef\xbb\xbf") else b""
    tail = original[len(original.rstrip(b" \t\r\n")) :]
    serialised = cast(bytes, etree.tostring(tree, encoding=encoding, xml_declaration=False))
    if b"\r\n" in original and original.count(b"\n") == original.count(b"\r\n"):
        # the parser turned every CRLF into LF (XML end-of-line handling); turn them back
        serialised = serialised.replace(b"\n", b"\r\n")
    return head + serialised + tail
