"""Waiting for a running proxy's background work: shadow jobs and the recording writer.

The client is answered before either runs, so whoever reads the recordings after driving
traffic (the demo's phases, the golden set) must let them catch up first.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..proxy import ProxyThread


def wait_for_recordings(proxy: ProxyThread, timeout: float = 10.0) -> None:
    """Return once no shadow job is queued or running and the writer's queue is empty.

    Gives up quietly after `timeout` seconds: what is recorded by then is what there is.
    """
    deadline = time.monotonic() + timeout
    state = proxy.state
    while time.monotonic() < deadline:
        shadow_busy = state.shadow is not None and state.shadow.pending > 0
        writer_busy = state.writer is not None and state.writer.pending > 0
        if not shadow_busy and not writer_busy:
            time.sleep(0.2)  # a job may be between the two queues
            if not (state.shadow and state.shadow.pending) and not (state.writer and state.writer.pending):
                return
        time.sleep(0.05)
