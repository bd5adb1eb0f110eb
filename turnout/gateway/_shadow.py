"""ShadowRunner: runs the translator for shadowed requests, off the client's path, and diffs.

The client already has the bus's answer when a job arrives here. Nothing here can delay or fail
a client's answer:
- work is bounded: a fixed number of workers, a queue bounded in jobs and in body bytes (a job
  that does not fit is dropped and counted, its exchange recorded without a shadow), and the
  route's own timeout per job;
- a job holds bytes, not trees: the envelope is read again on a worker thread when its turn
  comes (an lxml tree of a wide 1 MiB envelope is tens of MB; fifty queued held 1.86 GB);
- the CPU work leaves the event loop: the translator's halves run on a worker thread, the diff
  in a worker process (`ProcessDiffer`), and answers over `shadow.max_diff_bytes` are not diffed
  at all (counted as `shadow.diff-skipped`);
- a compressed bus answer is decoded (bounded) before the diff; the client got the bus's bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from ..config import clear_request_ids, set_request_ids
from ..recording import Exchange
from ..routing import Route
from ..soap import (
    SoapError,
    XmlLimits,
    decode_content,
    headers_dict,
    is_encoded,
    read_message,
)
from ..translators import JsonCall, JsonReply, Translator
from ._handoff import translated_response
from ._state import ProxyState
from ._trace_context import new_span_id, outbound
from ._translate import TranslationRun, run_translation

log = logging.getLogger("turnout.proxy")

#: (legacy body, translated body, operation key) -> (equal, differences as plain dicts)
Differ = Callable[[bytes, bytes, str], Awaitable[tuple[bool, list[dict[str, str | None]]]]]


@dataclass
class ShadowJob:
    exchange: Exchange
    #: the request body as the bus read it (decoded), the normalised path, the request headers
    body: bytes
    path: str
    route: Route
    #: the translator of the route table + translators pair the request was routed by
    translator: Translator | None = None
    #: the caller's refusal as the service would say it, or the headers each call carries
    refusal: JsonReply | None = None
    authorise: Callable[[JsonCall], tuple[tuple[str, str], ...]] | None = None
    #: the request's span (the shadow's parent) and trace flags; the ids are the exchange's
    trace: tuple[str, str] = ("", "00")

    @property
    def size(self) -> int:
        response = self.exchange.response
        return len(self.body) + (len(response.body) if response is not None else 0)


class ShadowRunner:
    def __init__(
        self, state: ProxyState, differ: Differ, concurrency: int = 4, queue: int = 200,
        queue_bytes: int = 32 * 1024 * 1024, max_diff_bytes: int = 512 * 1024,
        limits: XmlLimits | None = None, max_response_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.state = state
        self.differ = differ
        self.concurrency = concurrency
        self.queue_bytes = queue_bytes
        self.max_diff_bytes = max_diff_bytes
        self.limits = limits or XmlLimits()
        self.max_response_bytes = max_response_bytes
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(queue)
        self._workers: list[asyncio.Task[None]] = []
        self._running = 0
        self._bytes = 0
        #: diffs handed to the differ and not yet back. A worker does not wait for its diff: the
        #: next job's translation should run as close to its legacy answer as it can (the store
        #: behind both paths moves on), so diffing is a stage of its own, bounded by these slots.
        self._diffs: set[asyncio.Task[None]] = set()
        self._diff_slots: asyncio.Semaphore | None = None

    def start(self) -> None:
        """Start the workers; call inside the running loop."""
        self._diff_slots = asyncio.Semaphore(self.concurrency * 4)
        self._workers = [
            asyncio.create_task(self._work(), name=f"turnout-shadow-{i}")
            for i in range(self.concurrency)
        ]
        warm = getattr(self.differ, "warm", None)
        if warm is not None:
            warm()  # start the diff worker now, not when the first shadow waits for it

    def submit(self, exchange: Exchange, body: bytes, path: str, route: Route,
               translator: Translator | None = None, *, refusal: JsonReply | None = None,
               authorise: Callable[[JsonCall], tuple[tuple[str, str], ...]] | None = None,
               trace: tuple[str, str] = ("", "00")) -> bool:
        """Queue a shadow job; False (and counted) when the queue is full in jobs or bytes.
        Never blocks. `translator` is the one of the pair the request was routed by (default:
        the pair in force when the job runs)."""
        job = ShadowJob(exchange, body, path, route, translator, refusal, authorise, trace)
        if self._bytes + job.size > self.queue_bytes:
            self.state.stats.count("shadow.dropped")
            self.state.stats.count("shadow.dropped-bytes")
            return False
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.state.stats.count("shadow.dropped")
            return False
        self._bytes += job.size
        return True

    @property
    def pending(self) -> int:
        """Jobs queued, being translated, or being diffed."""
        return self._queue.qsize() + self._running + len(self._diffs)

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self._running += 1
            # lines logged for this job (and its diff task, which copies this context) name its request
            set_request_ids(job.exchange.request_id, job.exchange.trace_id)
            try:
                await self._shadow(job)
            except asyncio.CancelledError:  # stopped at shutdown while waiting on the translator
                self._bytes -= job.size
                self._unfinished(job.exchange)
                raise
            except Exception:  # noqa: BLE001 - a failed shadow must not stop the worker
                log.exception("shadow run for %s failed", job.route.key)
                job.exchange.notes.append("shadow-error")
                self._compared(job.route.key, "failed")
                self._done(job)
            finally:
                clear_request_ids()
                self._running -= 1
                self._queue.task_done()

    async def _shadow(self, job: ShadowJob) -> None:
        stats = self.state.stats
        exchange, route = job.exchange, job.route
        translator = job.translator or self.state.translators.get(route.translator_name)
        if translator is None or self.state.services is None:
            exchange.notes.append("shadow:translator-missing")
            stats.count("shadow.failed")
            self._compared(route.key, "failed")
            self._done(job)
            return
        headers = headers_dict(exchange.request.headers)
        try:
            envelope = await asyncio.to_thread(read_message, job.body, job.path, headers, self.limits)
        except SoapError as exc:  # read once already; only a changed limit could get here
            exchange.notes.append(f"shadow:unreadable: {exc}")
            stats.count("shadow.failed")
            self._compared(route.key, "failed")
            self._done(job)
            return
        # the shadow is a span of its own under the request's: its calls carry the request's
        # ids, with the shadow's span as their parent
        span_id, started = new_span_id(), time.perf_counter()
        trace = (outbound(exchange.request_id, exchange.trace_id, span_id, job.trace[1], headers)
                 if exchange.trace_id else ())
        # a write is shadowed only through its service's dry-run endpoint (config validation)
        run = await run_translation(
            translator, envelope, self.state.services, route.timeout, dry_run=route.writes,
            offload=True, refusal=job.refusal, authorise=job.authorise, trace=trace,
        )
        self._span(job, span_id, run, started)
        exchange.translation = run.record()
        if run.reply is None:
            stats.count("shadow.failed")
            self._compared(route.key, "failed")
            exchange.notes.append(f"shadow:{run.kind}")
            self._done(job)
            return
        exchange.translated = translated_response(run.reply)
        assert self._diff_slots is not None
        await self._diff_slots.acquire()  # waits only when many diffs are already in flight
        task = asyncio.create_task(self._diff(job, run.reply.body), name="turnout-shadow-diff")
        self._diffs.add(task)
        task.add_done_callback(self._diffs.discard)

    async def _diff(self, job: ShadowJob, translated: bytes) -> None:
        exchange, stats = job.exchange, self.state.stats
        try:
            legacy = await self._legacy_body(exchange)
            if legacy is None:
                self._compared(job.route.key, "failed")
                return
            if max(len(legacy), len(translated)) > self.max_diff_bytes:
                stats.count("shadow.diff-skipped")
                self._compared(job.route.key, "skipped")
                exchange.notes.append(f"shadow:diff-skipped: over {self.max_diff_bytes} bytes")
                return
            equal, differences = await self.differ(legacy, translated, job.route.key)
            exchange.translation["equal"] = equal
            exchange.translation["diff"] = differences
            stats.count("shadow.equal" if equal else "shadow.different")
            self._compared(job.route.key, "same" if equal else "different",
                           (str(d.get("kind") or "unknown") for d in differences))
        except asyncio.CancelledError:
            exchange.notes.append("shadow-unfinished")
            stats.count("shadow.unfinished")
            raise
        except Exception:  # noqa: BLE001 - a failed diff must not lose the client's exchange
            log.exception("shadow diff for %s failed", job.route.key)
            exchange.notes.append("shadow-error")
            self._compared(job.route.key, "failed")
        finally:
            assert self._diff_slots is not None
            self._diff_slots.release()
            self._done(job)

    def _compared(self, operation: str, result: str, kinds: Iterable[str] = ()) -> None:
        metrics = self.state.metrics
        if metrics is not None:
            metrics.compared(operation, result, kinds)

    def _span(self, job: ShadowJob, span_id: str, run: TranslationRun, started: float) -> None:
        """The shadow's spans, when spans are exported and the request's trace is sampled."""
        spans, exchange = self.state.spans, job.exchange
        parent, flags = job.trace
        if spans is None or flags != "01" or not parent or not exchange.trace_id:
            return
        try:
            spans.shadow(exchange.trace_id, parent, span_id, job.route.key, run, started)
        except Exception:  # noqa: BLE001 - a bug in tracing must not lose the shadow's exchange
            log.exception("tracing: could not record the shadow span of request %s", exchange.request_id)

    def _done(self, job: ShadowJob) -> None:
        """The job is over: its bytes leave the bound and its exchange goes to the writer."""
        self._bytes -= job.size
        self._record(job.exchange)

    async def _legacy_body(self, exchange: Exchange) -> bytes | None:
        """The bus's answer as XML: decoded when the bus compressed it; None (noted) when it
        cannot be decoded."""
        response = exchange.response
        if response is None:
            return b""
        encoding = response.header("content-encoding")
        if not is_encoded(encoding):
            return response.body
        try:
            return await asyncio.to_thread(
                decode_content, response.body, encoding, self.max_response_bytes
            )
        except SoapError as exc:
            self.state.stats.count("shadow.failed")
            exchange.notes.append(f"shadow:legacy-undecodable: {exc}")
            return None

    def _record(self, exchange: Exchange) -> None:
        writer = self.state.writer
        if writer is not None and not writer.submit(exchange):
            self.state.stats.count("recording.dropped")

    async def drain(self, timeout: float) -> None:
        """Let queued shadow jobs and their diffs finish (bounded), then stop the workers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning("%d shadow jobs unfinished at shutdown", self._queue.qsize())
        if self._diffs:
            await asyncio.wait(set(self._diffs), timeout=max(0.0, deadline - loop.time()))
        for task in [*self._workers, *self._diffs]:
            task.cancel()
        await asyncio.gather(*self._workers, *self._diffs, return_exceptions=True)
        while True:  # never started: still a client's exchange, recorded without its shadow
            try:
                job = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            self._unfinished(job.exchange)
        close = getattr(self.differ, "close", None)
        if close is not None:
            close()

    def _unfinished(self, exchange: Exchange) -> None:
        self.state.stats.count("shadow.unfinished")
        exchange.notes.append("shadow-unfinished")
        self._record(exchange)
