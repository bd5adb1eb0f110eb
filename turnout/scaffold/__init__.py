"""Scaffolding: from a WSDL to a starting point for moving each operation.

Tooling, not runtime: `turnout scaffold` writes mapping files, example envelopes, golden-test
stubs and compare rules, and an OpenAPI document for the JSON facade, all from one `Plan` per
operation, so the contract the modern team builds against is the one the translator calls.
The proxy never imports this package; it reads WSDLs through `turnout.wsdl` and writes every
file through `turnout.config.write_atomically`.
"""

from ._check import CheckReport, Example, Finding, check_translators
from ._example_note import read_example_note, with_example_note
from ._example_reply import example_reply
from ._openapi import openapi_document
from ._plan import Plan, Slot, plans_for
from ._state import STATE_FILE, Change, WsdlRecord
from ._state import load_state as scaffold_records
from ._write import OperationReport, ScaffoldReport, scaffold, scaffold_wsdl

__all__ = [
    "STATE_FILE",
    "Change",
    "CheckReport",
    "Example",
    "Finding",
    "OperationReport",
    "Plan",
    "ScaffoldReport",
    "Slot",
    "WsdlRecord",
    "example_reply",
    "check_translators",
    "openapi_document",
    "plans_for",
    "read_example_note",
    "scaffold",
    "scaffold_records",
    "scaffold_wsdl",
    "with_example_note",
]
