"""Taking the connections the kernel has queued at a listening socket before closing it, for
both hosts' drains (docs/operations-instances.md).

Closing a listening socket resets every connection still in its accept queue, and by then the
client has sent its request: nginx, which never retries a POST once sent, answers 502 ("recv()
failed (104: Connection reset by peer)"). So a drain keeps a duplicate of the listening socket,
lets the host close its own, stops new handshakes completing on the duplicate (`refuse_new`,
Linux), accepts what is queued, serves it, and closes the duplicate (`accept_queued`).
"""

from __future__ import annotations

import ctypes
import logging
import socket
import struct
import sys

log = logging.getLogger("turnout.proxy")

#: Linux's SO_ATTACH_FILTER (asm-generic/socket.h; Python's socket module does not name it)
_SO_ATTACH_FILTER = 26
#: a classic BPF program of one instruction, `ret #0`: keep nothing of any packet
_DROP_ALL = (ctypes.c_ubyte * 8).from_buffer_copy(struct.pack("HBBI", 0x06, 0, 0, 0))


def refuse_new(listener: socket.socket) -> bool:
    """Make `listener` drop every packet from now on: new SYNs, and the last ACK of handshakes
    not yet complete, so nothing joins its accept queue. True when attached."""
    if not sys.platform.startswith("linux"):
        return False
    program = struct.pack("HP", 1, ctypes.addressof(_DROP_ALL))  # struct sock_fprog
    try:
        listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, program)
    except OSError as exc:
        log.warning("could not stop the listener taking new connections before closing it: %s", exc)
        return False
    return True


def accept_queued(listener: socket.socket) -> list[socket.socket]:
    accepted = []
    refuse_new(listener)
    listener.setblocking(False)
    try:
        while True:
            conn, _ = listener.accept()
            accepted.append(conn)
    except (BlockingIOError, InterruptedError):
        pass
    except OSError as exc:  # the port went away under us: nothing more to take
        log.warning("accepting the queued connections failed: %s", exc)
    finally:
        listener.close()
    return accepted
