"""SIGHUP, for both hosts: re-read the route file now, and never stop the proxy.

A closed terminal sends SIGHUP, and some operators send it out of habit to mean "reload": either
way it must never kill the proxy mid-request. It re-reads the route file as the watcher would.
"""

from __future__ import annotations

import logging

from ..gateway import ProxyState

log = logging.getLogger("turnout.proxy")


def reload_on_hup(state: ProxyState | None) -> None:
    watcher = state.watcher if state is not None else None
    if watcher is None:
        log.warning("SIGHUP: no route file to re-read; still running")
        return
    log.warning("SIGHUP: re-reading %s", watcher.path)
    watcher.check_now()
