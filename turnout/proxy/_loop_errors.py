"""What the serving event loop does with errors nobody awaited: said once, then counted.

Connections still open at shutdown are cancelled; that is the plan, not an error. Other errors
the loop reports (an accept failing for lack of descriptors, under a flood) are logged once per
kind and then at 10, 100, 1000... with the count: a traceback each would fill the disk while the
flood lasts. Both hosts install it on their loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..gateway import is_power_of_ten

log = logging.getLogger("turnout.proxy")

_loop_errors: dict[str, int] = {}


def quiet_loop_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    if isinstance(exc, asyncio.CancelledError):
        return
    kind = f"{type(exc).__name__}:{getattr(exc, 'errno', '')}" if exc else str(context.get("message"))
    _loop_errors[kind] = n = _loop_errors.get(kind, 0) + 1
    if n == 1:
        log.error("event loop: %s (%s)", context.get("message"), exc)
    elif is_power_of_ten(n):
        log.error("event loop: %s, %d times so far (latest: %s)", context.get("message"), n, exc)
