"""Closing mitmproxy's listeners for a drain without resetting connections the kernel has already
accepted for them.

A listening socket has an accept queue: the kernel completes a client's handshake on its own and
queues the connection until the server calls `accept()`. Closing the socket resets every
connection still queued, and by then its client has sent its request: nginx, which opens an
upstream connection per request and never retries a POST once sent, answers 502 ("recv() failed
(104: Connection reset by peer)"). mitmproxy's `server=False` closes its asyncio servers at
once, and its event loop, busy serving, accepts only once a turn: under steady traffic a stop
found connections queued in about one in twenty-five stops (measured on loopback).

So the listeners are closed in steps: keep a duplicate of each listening socket (the port
stays open and the kernel keeps queuing), let mitmproxy close its servers, then on Linux attach
a socket filter that drops every packet the listening socket would take (`_refuse_new`: no
handshake completes on it any more, so the queue cannot grow), accept everything queued and
close the duplicate. Each connection accepted so is served by mitmproxy as if its own server had
accepted it (`ServerInstance.handle_stream`). A client whose SYN the filter dropped sends it
again a second later, finds the port closed and is refused: a balancer tries the next instance,
as it would have a moment later anyway. Without the filter (not Linux) the queue could still
grow between the last `accept()` and `close()`. That window is short but not only a few
microseconds (it includes taking the GIL back after `accept()`, which another thread may hold):
without the filter the rolling-restart test behind nginx still lost one request in about ten
runs (thirty stops).

Reaches into mitmproxy's server instances (`_servers`: their asyncio servers); private API of
the pinned mitmproxy 11.x, like `_client_io`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from mitmproxy.master import Master

from ._accept_queue import accept_queued

log = logging.getLogger("turnout.proxy")

#: connections accepted from the queue and being served (kept so their tasks are not collected)
_serving: set[asyncio.Task[None]] = set()


def _held_listeners(proxyserver: Any) -> list[tuple[Any, socket.socket]]:
    held = []
    for instance in proxyserver.servers:
        for server in getattr(instance, "_servers", ()):
            for listening in getattr(server, "sockets", None) or ():
                if listening.type == socket.SOCK_STREAM:
                    held.append((instance, listening.dup()))
    return held


async def _serve(instance: Any, conn: socket.socket) -> None:
    try:
        reader, writer = await asyncio.open_connection(sock=conn)
    except OSError:
        conn.close()
        return
    await instance.handle_stream(reader, writer)


async def stop_listening(master: Master) -> int:
    """Close mitmproxy's listeners and return once they are closed; connections queued at them
    are served, not reset. Returns how many were taken from the queues."""
    master.options.update(server=False)
    proxyserver = master.addons.get("proxyserver")
    if proxyserver is None:
        return 0
    held = _held_listeners(proxyserver)
    # `server=False` only schedules the close; the same update awaited here does it now (the
    # scheduled one then finds nothing left to stop). The held copies keep the ports listening.
    await proxyserver.servers.update([])
    loop = asyncio.get_running_loop()
    taken = 0
    for instance, listener in held:
        for conn in accept_queued(listener):
            taken += 1
            task = loop.create_task(_serve(instance, conn))
            _serving.add(task)
            task.add_done_callback(_serving.discard)
    if taken:
        log.info("took %d connections queued at the listener when it closed; serving them", taken)
    return taken
