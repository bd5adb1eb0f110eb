"""Helper processes never outlive the proxy that started them.

The recording writer and the shadow diff worker are spawned processes. When the proxy is killed
outright (SIGKILL, the OOM killer), nothing tells them: a diff worker blocks on its queue
forever, and each keeps multiprocessing's resource tracker alive beside it, so every crash
would leave processes behind. `exit_with_parent` starts a daemon thread in the helper that
notices the parent is gone (the helper is re-parented: `os.getppid()` changes), gives the
helper's own work `grace` seconds to finish (the writer finishes the batch it was handed, so
what the proxy answered is still recorded), then ends the process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

_POLL = 0.2


def exit_with_parent(grace: float = 0.0) -> None:
    """Call in the helper process, first thing. The parent is the process that spawned this one
    (multiprocessing knows it even when the parent died while this one was still starting)."""
    spawner = multiprocessing.parent_process()
    parent = spawner.pid if spawner is not None and spawner.pid else os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_POLL)
        time.sleep(grace)
        os._exit(0)  # no clean-up to run: the parent that wanted it is gone

    threading.Thread(target=watch, name="turnout-exit-with-parent", daemon=True).start()
