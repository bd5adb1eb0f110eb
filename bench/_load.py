"""A bounded load generator for the benches: N requests, C at a time, latencies kept."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class LoadResult:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


async def _run(
    name: str, url: str, body: bytes | None, headers: dict[str, str], n: int, concurrency: int
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                method = "GET" if body is None else "POST"
                async with session.request(method, url, data=body, headers=headers) as reply:
                    await reply.read()
                    if reply.status != 200:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(name, n, seconds, latencies, errors)


def run_load(
    name: str, url: str, body: bytes | None, headers: dict[str, str], n: int, concurrency: int
) -> LoadResult:
    """N requests, `concurrency` at a time: a POST of `body`, or a GET when `body` is None."""
    return asyncio.run(_run(name, url, body, headers, n, concurrency))


def report(results: list[LoadResult], baseline: LoadResult) -> str:
    lines = [
        f"{'target':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}  "
        f"{'rps ratio':>9} {'p50 ratio':>9} {'p99 ratio':>9}"
    ]
    for r in results:
        lines.append(
            f"{r.name:<28} {r.rps:>8.0f} {r.p50:>8.2f} {r.p99:>8.2f} {r.errors:>6}  "
            f"{r.rps / baseline.rps:>9.2f} {r.p50 / baseline.p50:>9.2f} {r.p99 / baseline.p99:>9.2f}"
        )
    return "\n".join(lines)
