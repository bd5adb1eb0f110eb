"""The demo's modern JSON services: what the legacy bus's operations move to.

Starlette apps over the same `DemoStore` as the legacy bus, designed as a modern team would:
resource paths, camelCase, ISO 8601, words for codes, problem+json errors, dry-run twins for
writes. The contract is docs/modern-services.md. With a token key they check Turnout's bearer
JWT on every call (`_auth.py`).
"""

from ._app import SERVICE_ROUTES, make_modern_app, make_modern_apps
from ._auth import ENDPOINT_OPERATIONS, ISSUER
from ._body import MAX_BODY_BYTES
from ._problem import PROBLEM_BASE, PROBLEM_JSON
from ._run import run_services

__all__ = [
    "ENDPOINT_OPERATIONS",
    "ISSUER",
    "MAX_BODY_BYTES",
    "PROBLEM_BASE",
    "PROBLEM_JSON",
    "SERVICE_ROUTES",
    "make_modern_app",
    "make_modern_apps",
    "run_services",
]
