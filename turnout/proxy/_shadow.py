"""ShadowRunner: runs the translator for shadowed requests, off the client's path, and diffs.

The client already has the bus's answer when a job arrives here. Work is bounded three ways: a
fixed number of workers, a bounded queue (a job that does not fit is dropped and counted, and
its exchange recorded without a shadow), and the route's own timeout per job. Nothing here can
delay or fail a client's answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from ..recording import Exchange
from ..routing import Route
from ..soap import Envelope, HttpResponse
from ._state import ProxyState
from ._translate import run_translation

log = logging.getLogger("turnout.proxy")

#: (legacy body, translated body, operation key) -> (equal, differences as plain dicts)
Differ = Callable[[bytes, bytes, str], tuple[bool, list[dict[str, str | None]]]]


class ShadowRunner:
    def __init__(self, state: ProxyState, differ: Differ, concurrency: int = 4, queue: int = 200) -> None:
        self.state = state
        self.differ = differ
        self.concurrency = concurrency
        self._queue: asyncio.Queue[tuple[Exchange, Envelope, Route]] = asyncio.Queue(queue)
        self._workers: list[asyncio.Task[None]] = []
        self._running = 0

    def start(self) -> None:
        """Start the workers; call inside the running loop."""
        self._workers = [
            asyncio.create_task(self._work(), name=f"turnout-shadow-{i}")
            for i in range(self.concurrency)
        ]

    def submit(self, exchange: Exchange, envelope: Envelope, route: Route) -> bool:
        """Queue a shadow job; False (and counted) when the queue is full. Never blocks."""
        try:
            self._queue.put_nowait((exchange, envelope, route))
        except asyncio.QueueFull:
            self.state.stats.count("shadow.dropped")
            return False
        return True

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._queue.qsize() + self._running

    async def _work(self) -> None:
        while True:
            exchange, envelope, route = await self._queue.get()
            self._running += 1
            try:
                await self._shadow(exchange, envelope, route)
            except asyncio.CancelledError:  # stopped at shutdown while waiting on the translator
                self._unfinished(exchange)
                raise
            except Exception:  # noqa: BLE001 - a failed shadow must not stop the worker
                log.exception("shadow run for %s failed", route.key)
                exchange.notes.append("shadow-error")
                self._record(exchange)
            finally:
                self._running -= 1
                self._queue.task_done()

    async def _shadow(self, exchange: Exchange, envelope: Envelope, route: Route) -> None:
        stats = self.state.stats
        translator = self.state.translators.get(route.translator_name)
        if translator is None or self.state.services is None:
            exchange.notes.append("shadow:translator-missing")
            stats.count("shadow.failed")
            self._record(exchange)
            return
        # a write is shadowed only through its service's dry-run endpoint (config validation)
        run = await run_translation(
            translator, envelope, self.state.services, route.timeout, dry_run=route.writes
        )
        exchange.translation = run.record()
        if run.reply is None:
            stats.count("shadow.failed")
            exchange.notes.append(f"shadow:{run.kind}")
        else:
            exchange.translated = HttpResponse(
                run.reply.status, [("Content-Type", run.reply.content_type)], run.reply.body
            )
            legacy = exchange.response.body if exchange.response is not None else b""
            equal, differences = self.differ(legacy, run.reply.body, route.key)
            exchange.translation["equal"] = equal
            exchange.translation["diff"] = differences
            stats.count("shadow.equal" if equal else "shadow.different")
        self._record(exchange)

    def _record(self, exchange: Exchange) -> None:
        writer = self.state.writer
        if writer is not None and not writer.submit(exchange):
            self.state.stats.count("recording.dropped")

    async def drain(self, timeout: float) -> None:
        """Let queued shadow jobs finish (bounded), then stop the workers."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except asyncio.TimeoutError:
            log.warning("%d shadow jobs unfinished at shutdown", self._queue.qsize())
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        while True:  # never started: still a client's exchange, recorded without its shadow
            try:
                exchange, _, _ = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            self._unfinished(exchange)

    def _unfinished(self, exchange: Exchange) -> None:
        self.state.stats.count("shadow.unfinished")
        exchange.notes.append("shadow-unfinished")
        self._record(exchange)
