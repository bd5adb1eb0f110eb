"""The shadow runner's differ: turnout.compare's semantic diff with the configured rules, run in
a worker process.

A diff walks both trees in Python: a 482 KB answer with 5,000 differences takes seconds. On the
proxy's event loop that stalls every client; on a thread it still takes the interpreter lock
from the loop every few milliseconds. So diffs run in one spawned worker process that loads the
rules itself; the loop only awaits the result. Bodies over `shadow.max_diff_bytes` never get
this far (the shadow runner skips and counts them).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..config import ProxyConfig, exit_with_parent
from ..soap import SoapError

log = logging.getLogger("turnout.proxy")

DiffResult = tuple[bool, list[dict[str, str | None]]]
SyncDiffer = Callable[[bytes, bytes, str], DiffResult]


def make_differ(config: ProxyConfig) -> SyncDiffer:
    """The diff itself, in this process (the worker builds one; tools may call it directly)."""
    return _build(config.compare_rules)


def _build(rules_path: Path | None) -> SyncDiffer:
    from ..compare import diff, load_rules, rules_for

    rules = load_rules(rules_path) if rules_path is not None else {}

    def differ(legacy: bytes, new: bytes, operation: str) -> DiffResult:
        try:
            result = diff(legacy, new, rules_for(rules, operation))
        except SoapError as exc:  # the bus's answer may be anything: it is the bus's business
            return False, [{"path": "/", "kind": "unreadable", "legacy": None, "new": str(exc)}]
        return result.equal, [
            {"path": d.path, "kind": d.kind, "legacy": d.legacy, "new": d.new}
            for d in result.differences
        ]

    return differ


_worker_differ: SyncDiffer | None = None


def _init_worker(rules_path: Path | None) -> None:
    global _worker_differ
    exit_with_parent()  # a diff for a proxy that is gone is worth nothing
    _worker_differ = _build(rules_path)


def _diff_in_worker(legacy: bytes, new: bytes, operation: str) -> DiffResult:
    assert _worker_differ is not None
    return _worker_differ(legacy, new, operation)


def _noop() -> None:
    pass


class ProcessDiffer:
    """Awaitable diffs in one worker process, started at the first diff."""

    def __init__(self, config: ProxyConfig) -> None:
        self.rules_path = config.compare_rules
        make_differ(config)  # a bad rules file stops the proxy at start, not at the first shadow
        self._pool: ProcessPoolExecutor | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self.rules_path,),
            )
        return self._pool

    def warm(self, wait: bool = False) -> None:
        """Start the worker process now, so the first shadow does not wait for it. Spawning
        takes about a second of CPU; when shadow routes are in force at start, `wait` does that
        before the proxy listens, because a shadow delayed by a spawn translates against a store
        that has moved on (a search counts a crime created meanwhile) and parity suffers."""
        started = self._ensure().submit(_noop)
        if wait:
            started.result(timeout=60)

    async def __call__(self, legacy: bytes, new: bytes, operation: str) -> DiffResult:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._ensure(), _diff_in_worker, legacy, new, operation)
        except BrokenProcessPool:
            log.error("the shadow diff worker died (diffing %s); starting another", operation)
            self._pool = None
            return False, [{"path": "/", "kind": "diff-failed", "legacy": None, "new": "worker died"}]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
