"""Redaction before anything reaches disk: small rules, composed by configuration, then by value.

A `BodyRule` names XML to hide with an XPath; a `HeaderRule` names a header; a `JsonRule` a
path in the JSON calls and replies. The `Redactor` applies them to a copy of an exchange; body
rules that select by name alone (`//*[local-name()='surname']`, `//pnc:surname`) are found in
one walk of each body for all of them (`_redact_plan`), each still applied at its turn. What
replaces a value is a separate callable: the fixed token `REDACTED`, or keyed, format-preserving
pseudonyms (`_pseudonym`).

Then, in every exchange, whatever the configuration:
- credentials are hidden (`_redact_credentials`): authorization and cookie headers, API keys,
  WS-Security secrets, a forwarded client certificate beyond its subject. `rules` can add to
  them; nothing turns them off;
- every value a rule (or the credential check) hid is hidden wherever else it appears in the
  exchange (`_redact_value`): the request target's path and query, every header, every text and
  attribute of every body, the JSON calls' path, query and body and the replies, translation
  errors, notes, the diff, in any escaping and any case. So a rule names a field once and the
  bus's Fault text, a translator's error message and the JSON call's path quoting that value
  follow it.

Diagnostics stay readable: a diff's kinds and paths, a parse error, a note are searched for
hidden values and otherwise left as written. A diff's values (what differed) are hidden
whenever there are rules, since which rule would cover them is not known here (fail closed);
in an element rendered into a diff only the text and attribute values are, not its names.

Fail closed: a body the rules cannot be applied to (not XML, hostile, a rule that errs) is not
written at all; the exchange keeps only its hash and length.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast
from urllib.parse import unquote_plus

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
from ._redact_credentials import (
    CREDENTIAL_TOKEN,
    credential_nodes,
    hide_header,
    is_credential_key,
    is_credential_parameter,
    may_hold_credentials,
    scrub_raw,
)
from ._redact_json import JsonRule, compile_json_rule, redact_json
from ._redact_plan import NameSelector, Selected, Selections, compile_names
from ._redact_value import ValueHider

log = logging.getLogger("turnout.recording")

REDACTED = "REDACTED"


@dataclass(frozen=True)
class BodyRule:
    """Hide the text of every element (whole subtree, attributes included) and attribute the
    XPath selects.

    With `quoted`, the rule names texts that quote values back (`dateOfBirth '1965-09-30' is
    not a date`). Redaction by value now hides a hidden value wherever it is quoted, or not
    quoted, in any text of the exchange, with exactly its field's token; a quoted rule is kept
    so configurations that name one stay valid, and hides nothing a field rule did not.
    """

    xpath: str
    namespaces: Mapping[str, str] = field(default_factory=dict)
    quoted: bool = False


@dataclass(frozen=True)
class HeaderRule:
    """Hide the value of every header of this name (case-insensitive), in requests and responses."""

    name: str


Rule = BodyRule | HeaderRule | JsonRule

#: the rule named when a shadow diff's values are hidden (they may hold any field)
DIFF_VALUES = BodyRule("(values of a recorded diff)")
#: the rule named when another spelling of a hidden value gets its token (a date's formats)
SAME_VALUE = BodyRule("(another spelling of a hidden value)")

#: What a value becomes: `(original value, the rule that matched it) -> replacement`.
Replacement = Callable[[str, Rule], str]

#: diff kinds whose `legacy` and `new` are values from the envelopes (others are diagnostics)
_VALUE_KINDS = frozenset({"missing", "extra", "changed"})
#: a root element's name in a diff (`{urn:police:pnc:v1}PersonEnquiryResponse`): a diagnostic
_CLARK = re.compile(r"\{[^{}\s]*\}[^\W\d][\w.-]*")
#: text and attribute values inside an element rendered into a diff
_FRAGMENT_VALUES = re.compile(r'(="[^"]*")|(>)([^<]+)')
#: attributes whose values say how to read an element, not what it holds
_TYPE_NAMESPACES = frozenset({
    "http://www.w3.org/2001/XMLSchema-instance", "http://www.w3.org/XML/1998/namespace",
})
_TYPE_PREFIXES = tuple(f"{{{ns}}}" for ns in sorted(_TYPE_NAMESPACES))


def fixed_token(value: str, rule: Rule) -> str:
    """The replacement without a key: every value becomes `REDACTED`."""
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


@dataclass
class _Body:
    """One body between the two passes: parsed (`root`), or kept as bytes (`raw`)."""

    original: bytes
    root: etree._Element | None = None
    raw: bytes | None = None
    changed: bool = False


class _Pass:
    """One exchange's redaction: the values hidden so far, and how they become tokens."""

    def __init__(self, replacement: Replacement) -> None:
        self.replacement = replacement
        self.values = ValueHider(variant=lambda value: replacement(value, SAME_VALUE))
        #: this exchange's tokens so far: a value met again (the registration mark asked for
        #: and answered) is not worked out again
        self._tokens: dict[tuple[str, int], str] = {}  # (value, id of its rule) -> token

    def token(self, value: str, rule: Rule) -> str:
        """`value`'s replacement under `rule`, remembered to be hidden everywhere else."""
        new = self._tokens.get((value, id(rule)))
        if new is None:
            new = self._tokens[value, id(rule)] = self.replacement(value, rule)
            self.values.add(value, new)
        return new

    def secret(self, value: str) -> str:
        self.values.add(value, CREDENTIAL_TOKEN)
        return CREDENTIAL_TOKEN


class Redactor:
    """Applies rules to exchanges. Build once, call per exchange: XPaths are compiled here.

    Bodies are parsed with the hardened parser under `limits`; a body over them is omitted
    when there are rules (without rules it is kept: there is nothing to apply to it but the
    credential check, which also reads it as bytes).
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        replacement: Replacement = fixed_token,
        limits: XmlLimits = DEFAULT_LIMITS,
        *,
        by_name: bool = True,
    ) -> None:
        """`by_name`: body rules that select by name alone (`_redact_plan`) are found in one
        walk of each body for all of them; False evaluates every rule's own XPath (the
        reference the tests compare the walk with)."""
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.replacement = replacement
        self.limits = limits
        self._body: list[tuple[BodyRule, etree.XPath]] = []
        self._headers: dict[str, HeaderRule] = {}
        self._json: list[tuple[JsonRule, re.Pattern[str]]] = []
        for rule in self.rules:
            if isinstance(rule, BodyRule):
                compiled = compile_body_rule(rule)
                if not rule.quoted:  # by value covers what a quoted rule named, and more
                    self._body.append((rule, compiled))
            elif isinstance(rule, HeaderRule):
                self._headers.setdefault(rule.name.lower(), rule)
            elif isinstance(rule, JsonRule):
                self._json.append((rule, compile_json_rule(rule)))
            else:
                raise TypeError(f"not a redaction rule: {rule!r}")
        # each body rule in order, with where its nodes are among the name rules' (or None:
        # its XPath is evaluated at its turn)
        self._steps: list[tuple[BodyRule, etree.XPath, int | None]] = []
        selectors: list[NameSelector] = []
        for rule, xpath in self._body:
            selector = compile_names(rule.xpath, rule.namespaces) if by_name else None
            self._steps.append((rule, xpath, None if selector is None else len(selectors)))
            if selector is not None:
                selectors.append(selector)
        self._selections = Selections(selectors) if selectors else None

    @property
    def has_rules(self) -> bool:
        """Whether any rule hides a field. Without one, only credentials are hidden: personal
        data is written in clear (`turnout proxy` refuses that unless told `--unredacted`).
        Quoted rules alone do not count: they hide only what a field rule hid."""
        return bool(self._body or self._headers or self._json)

    def redact(self, exchange: Exchange) -> Exchange:
        """A redacted copy of `exchange`; the original is not changed.

        Each body is parsed once. A translated envelope that is the client's answer byte for
        byte (translator mode) is not parsed again: it is redacted as the response is, so it
        gets the response's redacted bytes (or is omitted with it)."""
        run = _Pass(self.replacement)
        result = _copy(exchange)
        omitted = result.omitted_bodies
        # 1. field rules and credentials, remembering every value they hid
        result.request.path = self._target(result.request.path, run)
        messages: list[tuple[str, HttpRequest | HttpResponse]] = [("request", result.request)]
        if result.response is not None:
            messages.append(("response", result.response))
        same_as_response = _translated_is_response(result)
        if result.translated is not None:
            messages.append(("translated", result.translated))
        bodies: dict[str, _Body | None] = {}
        for which, message in messages:
            message.headers = self._field_headers(message.headers, run)
            if which == "translated" and same_as_response:
                bodies[which] = None  # the response's, below
                continue
            bodies[which] = self._first_pass(message.body, which, omitted, run)
            if which in omitted:
                message.body = b""
        if result.translation:
            self._json_fields(result.translation, run)
        # 2. every value hidden above, wherever else it appears
        hide = run.values.hide
        # one look at the target, the headers and the notes together says when no value is
        # in any of them (the usual case): 15-25 headers are then not searched one by one
        plain = [result.request.path, *result.notes, result.action or "",
                 result.operation.service if result.operation is not None else ""]
        plain += [value for _, message in messages for _, value in message.headers]
        in_plain = run.values.might_hide("\n".join(plain))
        if in_plain:
            result.request.path = hide(result.request.path)
        for which, message in messages:
            if in_plain:
                message.headers = [(name, hide(value)) for name, value in message.headers]
            body = bodies[which]
            if body is not None:
                message.body = self._second_pass(body, run)
        if same_as_response:
            assert result.translated is not None and result.response is not None
            result.translated.body = result.response.body
            if "response" in omitted:
                omitted["translated"] = omitted["response"]
        if result.translation:
            result.translation = self._translation(result.translation, run)
        if in_plain:
            result.notes = [hide(note) for note in result.notes]
            result.action = hide(result.action) if result.action else result.action
            if result.operation is not None:
                result.operation = replace(result.operation, service=hide(result.operation.service))
        result.extra = _everywhere(result.extra, hide)
        return result

    def redact_body(self, body: bytes) -> bytes:
        """`body` with every rule applied; unchanged bytes when nothing matched.

        Raises ValueError (with a reason token as message) when it cannot be redacted.
        """
        run = _Pass(self.replacement)
        omitted: dict[str, OmittedBody] = {}
        parsed = self._first_pass(body, "response", omitted, run)
        if "response" in omitted:
            raise ValueError(omitted["response"].reason)
        return body if parsed is None else self._second_pass(parsed, run)

    # -- the request target and headers

    def _target(self, target: str, run: _Pass) -> str:
        """The target with credential query parameters (`?api_key=...`) hidden."""
        path, question, query = target.partition("?")
        if not question:
            return target
        pairs = []
        for pair in re.split(r"([&;])", query):
            name, eq, value = pair.partition("=")
            if eq and value and is_credential_parameter(name):
                run.secret(unquote_plus(value))
                run.secret(value)
                pair = f"{name}={CREDENTIAL_TOKEN}"
            pairs.append(pair)
        return f"{path}?{''.join(pairs)}"

    def _field_headers(self, headers: list[tuple[str, str]], run: _Pass) -> list[tuple[str, str]]:
        result = []
        for name, value in headers:
            credential = hide_header(name, value)
            if credential is not None:
                shown, secrets = credential
                for secret in secrets:
                    run.secret(secret)
                result.append((name, shown))
                continue
            rule = self._headers.get(name.lower())
            result.append((name, value if rule is None else run.token(value, rule)))
        return result

    # -- JSON calls and replies

    def _json_fields(self, translation: dict[str, Any], run: _Pass) -> None:
        """JSON rules and credential keys on the calls' query and the JSON bodies (a fan-out
        translator's too: `calls` and `replies`, each a mapping of call name -> message)."""
        messages = [translation.get(part) for part in ("call", "reply", "dry_run_call")]
        for part in ("calls", "replies"):
            several = translation.get(part)
            if isinstance(several, dict):
                messages.extend(several.values())
        for message in messages:
            if not isinstance(message, dict):
                continue
            for key in ("query", "body"):
                if key not in message:
                    continue
                value = message[key]
                if self._json:
                    value = redact_json(value, self._json, run.token)
                message[key] = _json_credentials(value, run)
            if "headers" in message:  # a call's headers (a service token), should one be kept
                message["headers"] = self._call_headers(message["headers"], run)

    def _call_headers(self, headers: Any, run: _Pass) -> Any:
        """Headers of a JSON call, as pairs or as a mapping, through the header rules."""
        if isinstance(headers, Mapping):
            pairs = [(str(k), str(v)) for k, v in headers.items()]
            return dict(self._field_headers(pairs, run))
        if isinstance(headers, (list, tuple)) and all(
            isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in headers
        ):
            pairs = [(str(k), str(v)) for k, v in headers]
            return [list(pair) for pair in self._field_headers(pairs, run)]
        return _json_credentials(headers, run)

    def _translation(self, translation: dict[str, Any], run: _Pass) -> dict[str, Any]:
        """Every string hidden by value; a diff's values hidden whatever they are."""
        hide = run.values.hide
        result: dict[str, Any] = {}
        for key, value in translation.items():
            if key == "diff" and isinstance(value, list):
                result[key] = [self._diff_entry(entry, run) for entry in value]
            else:
                result[key] = _everywhere(value, hide)
        return result

    def _diff_entry(self, entry: Any, run: _Pass) -> Any:
        """Kind and path (and a parse error) are diagnostics: hidden by value only. The
        values that differed are hidden whenever there are rules (fail closed)."""
        hide = run.values.hide
        if not isinstance(entry, dict):
            return _everywhere(entry, hide)
        kind = entry.get("kind")
        result = {}
        for key, value in entry.items():
            if key in ("legacy", "new") and value is not None:
                result[key] = self._diff_value(str(value), kind, run)
            else:
                result[key] = _everywhere(value, hide)
        return result

    def _diff_value(self, value: str, kind: Any, run: _Pass) -> str:
        hide = run.values.hide
        if kind not in _VALUE_KINDS or not self.has_rules or _CLARK.fullmatch(value):
            return hide(value)
        if value.startswith("<"):  # an element rendered: hide its values, keep its names
            def inside(match: re.Match[str]) -> str:
                if match.group(1):
                    return f'="{self.replacement(match.group(1)[2:-1], DIFF_VALUES)}"'
                return ">" + self.replacement(match.group(3), DIFF_VALUES)

            return _FRAGMENT_VALUES.sub(inside, value)
        return self.replacement(value, DIFF_VALUES)

    # -- bodies

    def _first_pass(
        self, body: bytes, which: str, omitted: dict[str, OmittedBody], run: _Pass
    ) -> _Body | None:
        """Parse `body` and apply the field rules and the credential check to it.

        None when there is nothing to do (no body, or it was omitted as unredactable).
        """
        if not body:
            return None
        try:
            root = self._parse(body)
        except _Unredactable as exc:
            if self._body or self._json:
                log.info("%s body not recorded: cannot redact it (%s)", which, exc.reason)
                omitted[which] = OmittedBody(
                    reason=exc.reason, sha256=hashlib.sha256(body).hexdigest(), length=len(body)
                )
                return None
            # No rules: kept as it came (the configuration asked for no redaction), but no
            # credential it holds reaches disk.
            scrubbed, secrets = scrub_raw(body)
            for secret in secrets:
                run.secret(secret)
            return _Body(body, raw=scrubbed, changed=scrubbed != body)
        parsed = _Body(body, root=root)
        by_name = self._selections.find(root) if self._selections is not None else []
        for rule, xpath, index in self._steps:
            if index is not None:
                assert self._selections is not None
                try:  # a condition, if the rule has one, is asked now, as its XPath's would be
                    named = self._selections.selectors[index].keep(by_name[index])
                except etree.XPathError:
                    omitted[which] = OmittedBody(
                        reason="redaction-failed", sha256=hashlib.sha256(body).hexdigest(),
                        length=len(body),
                    )
                    return None
                parsed.changed |= self._replace_named(named, rule, run)
                continue
            try:
                selected = xpath(root)
            except etree.XPathError:
                omitted[which] = OmittedBody(
                    reason="redaction-failed", sha256=hashlib.sha256(body).hexdigest(),
                    length=len(body),
                )
                return None
            if not isinstance(selected, list):
                omitted[which] = OmittedBody(
                    reason="redaction-failed", sha256=hashlib.sha256(body).hexdigest(),
                    length=len(body),
                )
                return None
            for item in selected:
                try:
                    parsed.changed |= self._replace(item, rule, run)
                except _Unredactable as exc:
                    omitted[which] = OmittedBody(
                        reason=exc.reason, sha256=hashlib.sha256(body).hexdigest(),
                        length=len(body),
                    )
                    return None
        for element, attribute in list(credential_nodes(root) if may_hold_credentials(root, body)
                                     else ()):
            if attribute is not None:
                if element.get(attribute):
                    run.secret(element.get(attribute) or "")
                    element.set(attribute, CREDENTIAL_TOKEN)
                    parsed.changed = True
                continue
            for node in element.iter():
                if node.text and not node.text.isspace():
                    node.text = _keep_space(node.text, run.secret(node.text.strip()))
                    parsed.changed = True
                if node is not element and node.tail and not node.tail.isspace():
                    node.tail = _keep_space(node.tail, run.secret(node.tail.strip()))
                    parsed.changed = True
        return parsed

    def _second_pass(self, body: _Body, run: _Pass) -> bytes:
        """The body with every hidden value hidden wherever it is, serialised once."""
        values = run.values
        if body.raw is not None:
            data = values.hide_bytes(body.raw) if values else body.raw
            return data if data != body.original else body.original
        assert body.root is not None
        changed = body.changed
        if not values:
            return _serialise(body.root, body.original) if changed else body.original
        # Walking every node in Python is what a large body costs (7.7 ms at 200 KB); after the
        # first pass the hidden values are rarely anywhere else, and one look at the whole
        # document as text (serialised in C: every letter and digit of every text, attribute,
        # comment and instruction appears in it as it is) says when none can be. A body that
        # changed is written anyway: in UTF-8 without CRLFs, what is written is that text (and
        # the declaration and outer whitespace around it), so it is serialised once, not twice.
        written = None
        if changed and _written_as_text(body.root, body.original):
            written = _serialise(body.root, body.original)
            text = written.decode("utf-8")
        else:
            text = etree.tostring(body.root.getroottree(), encoding="unicode")
        walked = False
        if values.could_occur(text):
            # the root's tree, and the comments and processing instructions beside it
            for node in (*body.root.itersiblings(preceding=True), *body.root.iter(),
                         *body.root.itersiblings()):
                walked |= _hide_node(node, values.hide)
        if written is not None and not walked:
            return written
        return _serialise(body.root, body.original) if changed or walked else body.original

    def _parse(self, body: bytes) -> etree._Element:
        try:
            return parse_xml(body, self.limits)
        except XmlThreat as exc:
            raise _Unredactable(f"xml-threat:{exc.kind}") from None
        except XmlUnreadable:
            raise _Unredactable("not-xml") from None

    def _replace(self, item: Any, rule: BodyRule, run: _Pass) -> bool:
        """Replace what one XPath result stands for; True when something changed."""
        if isinstance(item, etree._Element):
            return self._replace_subtree(item, rule, run)
        parent = item.getparent() if hasattr(item, "getparent") else None
        if parent is None or not isinstance(item, str):
            # a namespace node, or a computed string that points nowhere
            raise _Unredactable("redaction-failed")
        if not item:
            return False
        new = self._text(str(item), rule, run)
        smart: Any = item  # lxml's "smart string": knows where in the tree it came from
        if smart.is_attribute:
            parent.set(smart.attrname, new)
        elif smart.is_tail:
            parent.tail = new
        else:
            parent.text = new
        return True

    def _replace_named(self, selected: Selected, rule: BodyRule, run: _Pass) -> bool:
        """`_replace` for what a name rule selected: elements, or (element, attribute name)
        pairs, whose value is read now, as the XPath's string would be at this rule's turn."""
        changed = False
        for item in selected:
            if isinstance(item, tuple):
                element, name = item
                value = element.get(name)
                if value:
                    element.set(name, self._text(value, rule, run))
                    changed = True
            else:
                changed |= self._replace_subtree(item, rule, run)
        return changed

    def _text(self, text: str, rule: BodyRule, run: _Pass) -> str:
        return run.token(text, rule)

    def _replace_subtree(self, element: etree._Element, rule: BodyRule, run: _Pass) -> bool:
        """Every text and attribute value inside `element`, however deep, so a container hides
        all it holds (`<pnc:person pncId="...">`). Whitespace-only text (indentation) is kept,
        and so are `xsi:` and `xml:` attributes: they say how to read the element."""
        changed = False
        for node in element.iter():
            if not isinstance(node.tag, str):
                continue  # a comment inside: hidden by value in the second pass
            if node.text and not node.text.isspace():
                node.text = self._text(node.text, rule, run)
                changed = True
            if node is not element and node.tail and not node.tail.isspace():
                node.tail = self._text(node.tail, rule, run)
                changed = True
            for name, value in node.attrib.items():
                if value and not value.isspace() and not name.startswith(_TYPE_PREFIXES):
                    node.set(name, self._text(value, rule, run))
                    changed = True
        return changed


def _copy(exchange: Exchange) -> Exchange:
    """A copy of `exchange` that `redact` may change: the messages and every container it
    assigns into are new, the values (strings, bytes) are shared. A deep copy cost 100-240 µs
    per exchange, mostly spent copying what is never changed."""
    result = copy.copy(exchange)
    request = exchange.request
    result.request = HttpRequest(request.method, request.path, list(request.headers), request.body)
    for which in ("response", "translated"):
        message: HttpResponse | None = getattr(exchange, which)
        if message is not None:
            setattr(result, which, HttpResponse(message.status, list(message.headers),
                                                message.body, message.reason))
    result.notes = list(exchange.notes)
    result.timings = dict(exchange.timings)
    result.omitted_bodies = dict(exchange.omitted_bodies)
    # `_json_fields` assigns into the call's and the reply's mappings, a fan-out translator's
    # too (`calls` and `replies`: name -> message, one level further down); everything else in
    # the translation and in `extra` is rebuilt, not changed, by `_everywhere` and `_translation`
    result.translation = {
        key: _copy_messages(value) if key in ("calls", "replies")
        else dict(value) if isinstance(value, dict) else value
        for key, value in exchange.translation.items()
    }
    return result


def _copy_messages(value: Any) -> Any:
    """A fan-out translator's `calls` or `replies` (name -> message) with each message new."""
    if not isinstance(value, dict):
        return value
    return {name: dict(message) if isinstance(message, dict) else message
            for name, message in value.items()}


def _translated_is_response(exchange: Exchange) -> bool:
    """Whether the translated envelope is the client's answer, byte for byte (translator mode)."""
    translated, response = exchange.translated, exchange.response
    return (
        translated is not None and response is not None and bool(translated.body)
        and translated.body == response.body
        and "translated" not in exchange.omitted_bodies and "response" not in exchange.omitted_bodies
    )


def _keep_space(text: str, token: str) -> str:
    """`token` in place of `text`'s content, its surrounding whitespace kept."""
    stripped = text.strip()
    start = text.index(stripped[0]) if stripped else 0
    return text[:start] + token + text[start + len(stripped):]


def _hide_node(node: Any, hide: Callable[[str], str]) -> bool:
    """Hide values in one node's text, tail and attribute values; True when any changed."""
    changed = False
    for slot in ("text", "tail"):
        old = getattr(node, slot)
        if old and not old.isspace():
            new = hide(old)
            if new != old:
                setattr(node, slot, new)
                changed = True
    if isinstance(node.tag, str):
        for name, old in node.attrib.items():
            new = hide(old)
            if new != old:
                node.set(name, new)
                changed = True
    return changed


def _everywhere(value: Any, hide: Callable[[str], str]) -> Any:
    """A copy of a JSON-like value with `hide` applied to every string, keys included."""
    if isinstance(value, str):
        return hide(value)
    if isinstance(value, dict):
        return {(hide(k) if isinstance(k, str) else k): _everywhere(v, hide) for k, v in value.items()}
    if isinstance(value, list):
        return [_everywhere(v, hide) for v in value]
    if isinstance(value, tuple):
        return tuple(_everywhere(v, hide) for v in value)
    return value


def _json_credentials(value: Any, run: _Pass) -> Any:
    """A copy of `value` with the values of credential keys (`password`, `apiKey`) hidden."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if isinstance(key, str) and is_credential_key(key):
                result[key] = _all_secret(item, run)
            else:
                result[key] = _json_credentials(item, run)
        return result
    if isinstance(value, list):
        return [_json_credentials(item, run) for item in value]
    return value


def _all_secret(value: Any, run: _Pass) -> Any:
    if isinstance(value, dict):
        return {key: _all_secret(item, run) for key, item in value.items()}
    if isinstance(value, list):
        return [_all_secret(item, run) for item in value]
    if value is None or isinstance(value, bool) or value == "":
        return value
    return run.secret(str(value))


# Declaration and the whitespace after it, in any ASCII-compatible encoding, after a UTF-8 BOM.
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml[^>]*\?>[ \t\r\n]*")


def _written_as_text(root: etree._Element, original: bytes) -> bool:
    """Whether `_serialise` writes `root`'s document as UTF-8 with no line ending changed, so
    that its output, decoded, is the document serialised to text with the original's
    declaration and outer whitespace around it."""
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper()
    return encoding in ("UTF-8", "UTF8") and b"\r" not in original \
        and not original.startswith((b"\xff\xfe", b"\xfe\xff")) and original[:1] != b"\x00"


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
