"""The records every interop server serves (records.json): spyne, node-soap and the JSON service.

Fictional data. Each record has a list (tags) and a date (created), so every stack has to carry
an array and a date; one title needs escaping. `MISSING` is an id no server knows (the Fault).
"""

from __future__ import annotations

import json
from pathlib import Path

RECORDS: dict[str, dict[str, object]] = json.loads((Path(__file__).parent / "records.json").read_text())

MISSING = "R-9999"

NAMESPACE = "urn:interop:records:v1"
