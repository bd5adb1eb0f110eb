"""Translators: one SOAP operation moved to one modern JSON service, as two pure halves.

`to_call(request envelope) -> JsonCall` and `to_reply(JsonReply, request) -> SoapReply`. Most
operations are declared in mapping files (YAML, see docs/translators.md); the hard ones are
Python classes with the same halves. A fan-out translator (`to_calls` / `to_replies`) names
several calls made at once, each with its own timeout (`_fanout.py`). `load_translators(directory)` reads both kinds.

Imports only `turnout.soap` and `turnout.config`: no HTTP, no proxy. The proxy does the call.
"""

from ._attachments import AttachedEnvelope, attachments_of, with_attachments
from ._fanout import (
    FanOutTranslator,
    JsonCalls,
    JsonReplies,
    NamedCall,
    NoAnswer,
    fans_out,
    reply_document,
    reply_from_document,
)
from ._jsonpath import MISSING, JsonPath, compile_json_path
from ._loader import TranslatorSet, load_translator_file, load_translators, translator_files
from ._mapping import MappingTranslator, load_mapping
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
from ._python import PythonTranslator, load_python
from ._values import Scope

__all__ = [
    "AttachedEnvelope",
    "attachments_of",
    "with_attachments",
    "DEFAULT_VOLATILES",
    "FanOutTranslator",
    "JsonCalls",
    "JsonReplies",
    "NamedCall",
    "NoAnswer",
    "fans_out",
    "reply_document",
    "reply_from_document",
    "MISSING",
    "Answered",
    "JsonCall",
    "JsonPath",
    "JsonReply",
    "MappingParts",
    "MappingTranslator",
    "PythonTranslator",
    "RequestRejected",
    "Scope",
    "SoapReply",
    "TranslationError",
    "Translator",
    "TranslatorSet",
    "Volatiles",
    "compile_json_path",
    "load_mapping",
    "load_parts",
    "load_python",
    "load_translator_file",
    "load_translators",
    "translator_files",
]
