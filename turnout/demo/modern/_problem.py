"""RFC 9457 problem details: the one error shape of every modern service.

Endpoints raise `Problem`; `EXCEPTION_HANDLERS` turns it, Starlette's own 404/405 and any bug into
an `application/problem+json` response.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_log = logging.getLogger(__name__)

PROBLEM_BASE = "https://turnout.invalid/problems/"
PROBLEM_JSON = "application/problem+json"

NOT_FOUND = "not-found"
INVALID_PARAMETERS = "invalid-parameters"
MALFORMED_JSON = "malformed-json"
INVALID_BODY = "invalid-body"
UNKNOWN_REFERENCE = "unknown-reference"
METHOD_NOT_ALLOWED = "method-not-allowed"
PAYLOAD_TOO_LARGE = "payload-too-large"
UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
SERVER_ERROR = "server-error"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"

#: slug -> (status, title)
_KINDS: dict[str, tuple[int, str]] = {
    NOT_FOUND: (404, "No such record"),
    INVALID_PARAMETERS: (400, "The request parameters are not valid"),
    MALFORMED_JSON: (400, "The request body is not a JSON object"),
    INVALID_BODY: (422, "The request body is not valid"),
    UNKNOWN_REFERENCE: (422, "The request body refers to a record that does not exist"),
    METHOD_NOT_ALLOWED: (405, "Method not allowed"),
    PAYLOAD_TOO_LARGE: (413, "The request body is too large"),
    UNSUPPORTED_MEDIA_TYPE: (415, "The request body must be JSON"),
    SERVER_ERROR: (500, "The service failed to process the request"),
    UNAUTHORIZED: (401, "A valid bearer token is required"),
    FORBIDDEN: (403, "The token does not grant this operation"),
}


@dataclass(frozen=True)
class InvalidParam:
    name: str  # a query or path parameter, or a dotted path into the body
    reason: str


class Problem(Exception):
    """An error answer: `kind` is one of the slugs above."""

    def __init__(
        self,
        kind: str,
        detail: str,
        invalid: list[InvalidParam] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status, self.title = _KINDS[kind]
        self.detail = detail
        self.invalid = invalid or []
        self.headers = headers or {}

    @classmethod
    def of(cls, kind: str, invalid: list[InvalidParam]) -> Problem:
        """A problem whose detail summarises `invalid` ("name: reason; ...")."""
        detail = "; ".join(f"{p.name}: {p.reason}" for p in invalid)
        return cls(kind, detail, invalid)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.invalid:
            body["invalidParams"] = [{"name": p.name, "reason": p.reason} for p in self.invalid]
        return body


def bad_path_param(name: str, reason: str) -> Problem:
    """An `invalid-parameters` problem about one path parameter."""
    return Problem.of(INVALID_PARAMETERS, [InvalidParam(name, reason)])


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem_response(problem: Problem) -> Response:
    return ProblemResponse(problem.body(), status_code=problem.status, headers=problem.headers)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals: no route (404), wrong method (405)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(Problem(METHOD_NOT_ALLOWED, detail, headers=headers))
    if exc.status_code == 404:
        return problem_response(Problem(NOT_FOUND, f"nothing at {request.url.path}"))
    body = {"type": "about:blank", "title": str(exc.detail), "status": exc.status_code}
    return ProblemResponse(body, status_code=exc.status_code, headers=headers)


async def _on_bug(request: Request, exc: Exception) -> Response:
    _log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return problem_response(Problem(SERVER_ERROR, "the service failed to process the request"))


EXCEPTION_HANDLERS = {
    Problem: _on_problem,
    HTTPException: _on_http_exception,
    Exception: _on_bug,
}
