"""Translators written in Python, for what a mapping file cannot say, and how they are loaded.

A `.py` file in the translators directory defines classes with the two halves and lists
instances in a module-level `TRANSLATORS`:

    from turnout.translators import JsonCall, PythonTranslator

    class SearchCrimeReports(PythonTranslator):
        name = "cris/SearchCrimeReports"
        operation = "/cris SearchCrimeReports"
        service = "cris"
        shared = "_cris.yaml"          # namespaces, value maps, templates, header, faults

        def to_call(self, request, *, dry_run=False): ...
        def to_reply(self, reply, request): ...

    TRANSLATORS = [SearchCrimeReports()]

The file is imported by path (it need not be on sys.path or in a package). An import error, a
missing `TRANSLATORS`, or a translator missing an attribute or a method is a `ConfigError`
naming the file and, where Python knows it, the line.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import itertools
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from ..config import ConfigError, Node
from ..soap import Envelope
from ._attachments import attachments_of
from ._parts import MappingParts, load_parts
from ._protocol import (
    DEFAULT_VOLATILES,
    Answered,
    JsonCall,
    JsonReply,
    RequestRejected,
    SoapReply,
    TranslationError,
    Translator,
    Volatiles,
)
from ._templates import Element, named_template
from ._values import Declarations, Scope
from ._writer import ReplyWriter, reply_errors

_module_numbers = itertools.count(1)


class PythonTranslator:
    """A base class with the helpers a hand-written translator needs: reading request values by
    XPath, rejecting a request with the legacy fault, writing the envelope with the service's
    header, building named templates, and applying the shared fault rules to an error reply.

    Subclasses set `name`, `operation`, `service`, `writes` (and `shared`), implement `to_call`
    and `to_reply`, and may override `prepare()` to compile what they need once, at load.
    """

    name: str = ""
    operation: str = ""
    service: str = ""
    writes: bool = False
    #: a shared mapping file, relative to the .py file (namespaces, templates, header, faults)
    shared: str | None = None

    def __init__(self) -> None:
        self.volatiles: Volatiles = DEFAULT_VOLATILES
        self.parts = MappingParts(Declarations({}), ReplyWriter())
        self._xpaths: dict[str, etree.XPath] = {}

    # -- set up by the loader ---------------------------------------------------------------

    def bind(self, parts: MappingParts) -> None:
        """Take the compiled shared parts, then `prepare()`. Called once, by the loader."""
        self.parts = parts
        self._xpaths = {}
        self.prepare()

    def prepare(self) -> None:
        """Compile XPaths (`self.xpath(...)`) and look up templates here, so a mistake in them
        fails when the translator loads rather than on the first request."""

    def with_volatiles(self, volatiles: Volatiles) -> PythonTranslator:
        twin = copy.copy(self)
        twin.volatiles = volatiles
        return twin

    # -- the request ------------------------------------------------------------------------

    def xpath(self, expression: str) -> etree.XPath:
        """`expression` compiled over the shared namespaces (cached)."""
        compiled = self._xpaths.get(expression)
        if compiled is None:
            compiled = etree.XPath(
                expression, namespaces=self.parts.decl.namespaces, smart_strings=False
            )
            self._xpaths[expression] = compiled
        return compiled

    def text(self, request: Envelope, expression: str) -> str | None:
        """The trimmed text the XPath selects in the request payload; None when absent/empty."""
        result = self.xpath(expression)(request.payload)
        if isinstance(result, list):
            if not result:
                return None
            first = result[0]
            result = (
                "".join(first.itertext()) if isinstance(first, etree._Element) else str(first)
            )
        text = str(result).strip()
        return text or None

    def reject(self, request: Envelope, field: str, message: str) -> RequestRejected:
        """The error to raise for an invalid request, carrying the legacy-shaped Fault when the
        shared file declares `request.invalid`."""
        reply = None
        if self.parts.writer.invalid is not None:
            about = {"field": field, "message": message, "kind": "invalid"}
            reply = self.parts.writer.fault(
                request, self.scope(request, about), self.parts.writer.invalid
            )
        return RequestRejected(message, field=field, reply=reply, translator=self.name)

    def answered(self, reply: SoapReply, reason: str) -> Answered:
        """The error to raise from `to_call` when this translator answers by itself."""
        return Answered(reply, reason=reason, translator=self.name)

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> JsonCall:
        """A JsonCall to this translator's service; None query values are left out."""
        pairs = tuple(
            (key, _query_text(value)) for key, value in (query or {}).items() if value is not None
        )
        return JsonCall(self.service, method, path, pairs, (), body)

    # -- the reply --------------------------------------------------------------------------

    def scope(self, request: Envelope, json: Any = None) -> Scope:
        """An evaluation scope for templates and value specs, over `json`."""
        return Scope(request.payload, json, json, self.volatiles, attachments_of(request))

    def qname(self, name: str) -> str:
        """`cris:crimeReport` in Clark notation, with the shared namespaces."""
        prefix, _, local = name.rpartition(":")
        namespace = self.parts.decl.namespaces.get(prefix, "") if prefix else ""
        return f"{{{namespace}}}{local}" if namespace else local

    def add(self, parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        """Append element `name` (`prefix:local`) to `parent`, with `text` if given."""
        child = etree.SubElement(parent, self.qname(name))
        if text is not None:
            child.text = text
        return child

    def template(self, name: str) -> tuple[Element, ...]:
        """The children of the named template from the shared file."""
        node = Node(name, self.shared or "<python>", f"templates.{name}", None)
        return named_template(node, self.parts.decl)

    def build(self, parent: etree._Element, children: tuple[Element, ...], scope: Scope) -> None:
        """Build template `children` into `parent` (errors become TranslationError)."""
        with reply_errors():
            for child in children:
                child.build(parent, scope)

    def respond(
        self, request: Envelope, body: Callable[[etree._Element], None], json: Any = None
    ) -> SoapReply:
        """A 200 envelope with the shared header; `body` appends the payload to the Body."""
        return self.parts.writer.respond(request, self.scope(request, json), body)

    def fault_for(self, reply: JsonReply, request: Envelope) -> SoapReply:
        """The Fault the shared rules give for an error reply, or TranslationError."""
        rule = self.parts.writer.rule_for(reply)
        if rule is None:
            raise TranslationError(
                f"service {self.service} answered HTTP {reply.status}, which no fault rule "
                "covers", translator=self.name,
            )
        return self.parts.writer.fault(request, self.scope(request, reply.body), rule)

    def to_call(self, request: Envelope, *, dry_run: bool = False) -> JsonCall:
        raise NotImplementedError

    def to_reply(self, reply: JsonReply, request: Envelope) -> SoapReply:
        raise NotImplementedError


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- loading ----------------------------------------------------------------------------------

_REQUIRED_ATTRIBUTES = (("name", str), ("operation", str), ("service", str), ("writes", bool))


def load_python(path: Path) -> list[Translator]:
    """Import the translator file at `path` and return its `TRANSLATORS`, checked and bound."""
    module = _import(path)
    try:
        return _translators(module, path)
    finally:
        # registered only while loading (inspect needs it to find class lines); a reload
        # imports the file afresh under a new name, so nothing accumulates
        sys.modules.pop(module.__name__, None)


def _translators(module: Any, path: Path) -> list[Translator]:
    found = getattr(module, "TRANSLATORS", None)
    if found is None:
        raise ConfigError(
            "defines no TRANSLATORS (a module-level list of translator instances)", file=path
        )
    if not isinstance(found, (list, tuple)) or not found:
        raise ConfigError("TRANSLATORS must be a non-empty list of translator instances", file=path)
    translators: list[Translator] = []
    for index, translator in enumerate(found):
        _check(translator, path, index)
        if isinstance(translator, PythonTranslator):
            _bind(translator, path)
        translators.append(translator)
    return translators


def _import(path: Path) -> Any:
    module_name = f"turnout_translators_{path.stem}_{next(_module_numbers)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError("cannot be imported as Python", file=path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and typing look the module up while it runs
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise ConfigError(
            f"cannot import: SyntaxError: {exc.msg}", file=path, line=exc.lineno
        ) from None
    except Exception as exc:  # noqa: BLE001 - whatever the file raises is the file's error
        sys.modules.pop(module_name, None)
        raise ConfigError(
            f"cannot import: {type(exc).__name__}: {exc}", file=path, line=_line_in(exc, path)
        ) from None
    return module


def _line_in(exc: BaseException, path: Path) -> int | None:
    """The last line of `path` in the traceback of `exc`, if it passed through it."""
    line = None
    resolved = str(path.resolve())
    for frame in traceback.extract_tb(exc.__traceback__):
        if str(Path(frame.filename).resolve()) == resolved:
            line = frame.lineno
    return line


def _class_line(obj: Any) -> int | None:
    try:
        return inspect.getsourcelines(type(obj))[1]
    except (OSError, TypeError):
        return None


def _check(translator: Any, path: Path, index: int) -> None:
    where = f"TRANSLATORS[{index}]"
    line = _class_line(translator)
    kind = type(translator).__name__
    for attribute, wanted in _REQUIRED_ATTRIBUTES:
        value = getattr(translator, attribute, None)
        if not isinstance(value, wanted) or (wanted is str and not value):
            what = "true or false" if wanted is bool else "a non-empty string"
            raise ConfigError(
                f"{kind} needs {attribute} ({what}), has {value!r}", file=path, line=line,
                field=where,
            )
    for method in ("to_call", "to_reply"):
        function = getattr(type(translator), method, None)
        if not callable(function) or function in (
            PythonTranslator.to_call, PythonTranslator.to_reply
        ):
            raise ConfigError(
                f"{kind} does not implement {method}()", file=path, line=line, field=where
            )
    operation = translator.operation
    if " " not in operation or not operation.startswith("/"):
        raise ConfigError(
            f"{kind}.operation {operation!r} is not an operation key like '/pnc VehicleEnquiry'",
            file=path, line=line, field=where,
        )


def _bind(translator: PythonTranslator, path: Path) -> None:
    parts = None
    if translator.shared:
        shared = (path.parent / translator.shared).resolve()
        if not shared.is_file():
            raise ConfigError(
                f"{type(translator).__name__}.shared names {translator.shared!r}, which is not "
                f"a file next to it", file=path, line=_class_line(translator),
            )
        parts = load_parts(shared)
    try:
        translator.bind(parts or translator.parts)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - a failing prepare() is the file's error
        raise ConfigError(
            f"{type(translator).__name__}.prepare() failed: {type(exc).__name__}: {exc}",
            file=path, line=_line_in(exc, path) or _class_line(translator),
        ) from None

