"""What every host starts beside the gateway and stops after it: the gateway's long-lived parts
(transport, shadow workers) and the read-only admin endpoint. For mitmproxy, an addon whose
`running` and `done` hooks do it; the fast host calls `open_host` and `close_host` itself."""

from __future__ import annotations

from ..gateway import Gateway, start, stop
from ._admin import AdminServer
from ._engines import FAST, MITMPROXY


async def open_host(gateway: Gateway, engine: str = FAST) -> AdminServer | None:
    """Start the gateway on the running loop, and the admin endpoint when `admin.port` is set
    (`engine`: the host serving, as /metrics names it)."""
    await start(gateway)
    config = gateway.config
    if config.admin_port is None:
        return None
    admin = AdminServer(gateway.state, config.admin_host, config.admin_port, engine)
    await admin.start()
    return admin


async def close_host(gateway: Gateway, admin: AdminServer | None) -> None:
    await stop(gateway)
    if admin is not None:
        await admin.stop()


class HostRuntime:
    """The mitmproxy addon that starts and stops the long-lived parts."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.admin: AdminServer | None = None

    async def running(self) -> None:
        self.admin = await open_host(self.gateway, MITMPROXY)

    async def done(self) -> None:
        await close_host(self.gateway, self.admin)
