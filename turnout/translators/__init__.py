"""Translators: one SOAP operation moved to one modern JSON service, as two pure halves.

`to_call(request envelope) -> JsonCall` and `to_reply(JsonReply, request) -> SoapReply`. Most
operations are declared in mapping files (YAML, see docs/translators.md); the hard ones are
Python classes with the same halves. `load_translators(directory)` reads both kinds.

Imports only `turnout.soap` and `turnout.config`: no HTTP, no proxy. The proxy does the call.
"""

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
from ._openapi import openapi_document
from ._scaffold import OperationReport, ScaffoldReport, scaffold, scaffold_wsdl
from ._scaffold_plan import Plan, Slot, plans_for
from ._scaffold_state import Change

__all__ = [
    "DEFAULT_VOLATILES",
    "MISSING",
    "Answered",
    "Change",
    "JsonCall",
    "JsonPath",
    "JsonReply",
    "MappingParts",
    "MappingTranslator",
    "OperationReport",
    "Plan",
    "PythonTranslator",
    "RequestRejected",
    "ScaffoldReport",
    "Scope",
    "Slot",
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
    "openapi_document",
    "plans_for",
    "scaffold",
    "scaffold_wsdl",
    "translator_files",
]
