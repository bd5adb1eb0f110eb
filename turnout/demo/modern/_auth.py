"""Bearer tokens on the modern services: Turnout signs who is asking, the service checks it.

With a key, every call needs `Authorization: Bearer <JWT>`, HS256 under that key, with claims
`iss` "turnout", `aud` the service the route belongs to (`pnc`, `cris`, `geo`, `eforms`, `merlin`), `sub`,
`iat`, `exp`, and `roles` holding the role of the operation the endpoint serves (the demo's
identity file says which role each operation needs). No valid token: `401 unauthorized`; a
valid one without the role: `403 forbidden`; both problem+json with a `WWW-Authenticate`
header (RFC 6750). The token is checked before anything else (body, parameters, record).

`ENDPOINT_OPERATIONS` maps every endpoint to the legacy operation whose role it needs; an
endpoint of no legacy operation (`GET /people/{pncId}`) needs the role of its nearest one. A
route missing from it cannot be built with a key: nothing is served unchecked.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._problem import FORBIDDEN, UNAUTHORIZED, Problem

ISSUER = "turnout"
ALGORITHM = "HS256"
#: seconds of clock difference forgiven between Turnout and the service
LEEWAY_SECONDS = 5
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "roles")
_REALM = 'Bearer realm="turnout-demo"'

#: service -> (method, path) -> the operation key whose role the endpoint needs
ENDPOINT_OPERATIONS: dict[str, dict[tuple[str, str], str]] = {
    "pnc": {
        ("GET", "/people"): "/pnc PersonEnquiry",
        ("GET", "/people/{pncId}"): "/pnc PersonEnquiry",
        ("GET", "/vehicles/{vrm}"): "/pnc VehicleEnquiry",
    },
    "cris": {
        ("GET", "/crimes"): "/cris SearchCrimeReports",
        ("POST", "/crimes"): "/cris CreateCrimeReport",
        ("POST", "/crimes/validate"): "/cris CreateCrimeReport",
        ("GET", "/crimes/{crimeId}"): "/cris GetCrimeReport",
    },
    "geo": {
        ("GET", "/locations"): "/geo ResolveLocation",
    },
    "eforms": {
        ("POST", "/statements"): "/eforms SubmitWitnessStatement",
        ("POST", "/statements/validate"): "/eforms SubmitWitnessStatement",
        ("GET", "/statements/{statementId}"): "/eforms SubmitWitnessStatement",
    },
    "merlin": {
        ("GET", "/records"): "/merlin SearchRecords",
        ("POST", "/records"): "/merlin CreateRecord",
        ("POST", "/records/validate"): "/merlin CreateRecord",
        ("GET", "/records/{recordId}"): "/merlin GetRecord",
    },
}


@dataclass(frozen=True)
class TokenCheck:
    """What a guarded service checks tokens with: the HS256 key, and operation -> role."""

    key: bytes
    operations: Mapping[str, str]


def guard_routes(service: str, routes: list[BaseRoute], check: TokenCheck) -> list[BaseRoute]:
    """`routes` of `service`, each endpoint behind the bearer-token check."""
    table = ENDPOINT_OPERATIONS[service]
    guarded: list[BaseRoute] = []
    for route in routes:
        if not isinstance(route, Route):
            raise RuntimeError(f"{service}: cannot guard {route!r}: only plain routes")
        methods = sorted((route.methods or set()) - {"HEAD"})
        for method in methods:
            if (method, route.path) not in table:
                raise RuntimeError(f"{service}: {method} {route.path} maps to no operation")
        endpoint = _guarded(service, route.path, route.endpoint, table, check)
        guarded.append(Route(route.path, endpoint, methods=methods, name=route.name))
    return guarded


def _guarded(
    service: str,
    path: str,
    endpoint: Any,
    table: Mapping[tuple[str, str], str],
    check: TokenCheck,
) -> Any:
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        operation = table[(method, path)]
        claims = verify_bearer(request.headers.getlist("authorization"), check.key, service)
        role = check.operations.get(operation)
        if role is None or role not in claims["roles"]:
            raise Problem(
                FORBIDDEN,
                f"officer {claims['sub']} is not allowed to call {operation}",
                headers={"WWW-Authenticate": f'{_REALM}, error="insufficient_scope"'},
            )
        response: Response = await endpoint(request)
        return response

    return guarded


def verify_bearer(authorization: list[str], key: bytes, audience: str) -> dict[str, Any]:
    """The claims of the one `Authorization: Bearer` token, checked; else a 401 Problem."""
    if not authorization:
        raise _unauthorized("an Authorization: Bearer token is required", challenge_only=True)
    if len(authorization) > 1:
        raise _unauthorized("send one Authorization header, not several")
    scheme, _, token = authorization[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the bearer token has expired") from None
    except jwt.InvalidAudienceError:
        raise _unauthorized(f"the bearer token is not for {audience}") from None
    except jwt.InvalidIssuerError:
        raise _unauthorized(f"the bearer token was not issued by {ISSUER}") from None
    except jwt.ImmatureSignatureError:
        raise _unauthorized("the bearer token is not valid yet") from None
    except jwt.MissingRequiredClaimError as error:
        raise _unauthorized(f"the bearer token has no {error.claim} claim") from None
    except jwt.InvalidSignatureError:
        raise _unauthorized("the bearer token's signature does not verify") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("the bearer token is not a valid HS256 JWT") from None
    roles = claims["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise _unauthorized("the bearer token's roles claim is not a list of strings")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise _unauthorized("the bearer token's sub claim is not an officer id")
    return claims


def _unauthorized(detail: str, *, challenge_only: bool = False) -> Problem:
    challenge = _REALM if challenge_only else f'{_REALM}, error="invalid_token"'
    return Problem(UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge})
