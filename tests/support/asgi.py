"""An ASGI app that forwards to whichever app the current test installed.

uvicorn takes ~0.2 s to start and stop, so test modules keep one server running and give each
test a fresh app (and store) behind it instead of a fresh server.
"""

from __future__ import annotations

from typing import Any


class SwappableApp:
    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if self.target is None:
            raise RuntimeError("no app installed for this test")
        await self.target(scope, receive, send)
