"""What recording costs: the serving process's hand-off, the writer's stages, its throughput.

    python bench/recording_writer.py handoff  [--rate 1500] [--seconds 4]
    python bench/recording_writer.py stages   [--shape vehicle|unsigned|people]
    PYTHONPATH=/path/to/older/checkout python bench/recording_writer.py stages   # before/after
    python bench/recording_writer.py sustain  [--seconds 5] [--shape ...] [--sizes 2 20 200] [--legacy-only]

`handoff`: the CPU the serving process spends per exchange to pass it to another process, at a
steady rate (submits paced like a proxy's, so batches are as big as that rate makes them):
the whole process's CPU (every thread: the one submitting, a queue's feeder thread, our sender
thread) over the run, less an identical run that hands nothing off, divided by the exchanges.
The receiving process only unpickles and counts; its CPU is not counted.

`stages`: CPU per exchange in one process for the writer's steps, each on its own: decoding and
redaction (the demo's rules and pseudonymisation key), serialisation (YAML), and the write
(one file at a time: temp, fsync, rename, directory fsync; and in batches of 64, each
directory synced once per batch).

`sustain`: one writer process (`turnout.recording.open_writer`, the demo's redaction rules) fed
as fast as it takes exchanges: exchanges per second written, at 2 KB, 20 KB and 200 KB answers,
and the writer process's own CPU per exchange (from /proc: on a shared machine the rate
follows the load, the CPU much less).
An exchange refused (the writer's queue full) is offered again a millisecond later; the
writer counts and logs each refusal as a drop, which is expected here.

All figures are CPU time (user + system) unless they say wall. Each exchange holds distinct
people (a new keeper for each), and `stages` gives each row its own redactor and its own
people, so what the pseudonymiser remembers does not flatter the figures. (The signed
request's WS-Security password and nonce are the same in every exchange, as are the town and
street kind, which real traffic's nonces are not: a few µs per exchange in our favour.)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _exchanges import make_exchange  # noqa: E402

from turnout.recording import Exchange  # noqa: E402

SIZES = (2 * 1024, 20 * 1024, 200 * 1024)
_SPAWN = multiprocessing.get_context("spawn")


# -- handoff ---------------------------------------------------------------------------------

def _queue_child(q: Any, done: Any, n: int) -> None:
    for _ in range(n):
        q.get()
    done.send_bytes(b"ok")


def _pipe_child(conn: Any, done: Any, n: int) -> None:
    seen = 0
    while seen < n:
        seen += len(pickle.loads(conn.recv_bytes()))
    done.send_bytes(b"ok")


def _raw_child(conn: Any, done: Any, n: int) -> None:
    """Frames of `!II` (pickle length, buffer count), buffer lengths, pickle, buffers."""
    reader = os.fdopen(os.dup(conn.fileno()), "rb", buffering=1 << 20)
    seen = 0
    while seen < n:
        head = reader.read(8)
        size, count = int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")
        lengths = [int.from_bytes(reader.read(4), "big") for _ in range(count)]
        data = reader.read(size)
        buffers = [reader.read(length) for length in lengths]
        seen += len(pickle.loads(data, buffers=buffers))
    done.send_bytes(b"ok")


class _Sender:
    """The parent half of a batching hand-off: `submit` appends under a lock and wakes a sender
    thread only when it sleeps; the thread lingers a moment, then sends all queued at once."""

    def __init__(self, send: Callable[[list[Any]], None], encode: Callable[[Exchange], Any],
                 linger: float = 0.005) -> None:
        self.send, self.encode, self.linger = send, encode, linger
        self.items: deque[Exchange] = deque()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.idle = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def submit(self, exchange: Exchange) -> None:
        with self.lock:
            self.items.append(exchange)
            if self.idle:
                self.idle = False
                self.wake.set()

    def run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            time.sleep(self.linger)
            with self.lock:
                batch = list(self.items)
                self.items.clear()
                self.idle = True
            if batch:
                self.send([self.encode(e) for e in batch])


def _oob_writer(fd: int) -> Callable[[list[Any]], None]:
    def send(batch: list[Any]) -> None:
        buffers: list[pickle.PickleBuffer] = []
        data = pickle.dumps(batch, protocol=5, buffer_callback=buffers.append)
        raws = [b.raw() for b in buffers]
        parts = [len(data).to_bytes(4, "big") + len(raws).to_bytes(4, "big")
                 + b"".join(len(r).to_bytes(4, "big") for r in raws), data, *raws]
        _writev_all(fd, parts)
    return send


def _writev_all(fd: int, parts: list[Any]) -> None:
    views = [memoryview(p) for p in parts]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def _pack(exchange: Exchange) -> Any:
    from turnout.recording._handoff import pack  # here: `stages` also runs against older trees

    return pack(exchange)


def _oob(exchange: Exchange) -> Any:
    """`pack`, its bodies as out-of-band buffers (protocol 5): pickled without being copied."""
    t = list(_pack(exchange))
    method, path, headers, body = t[10]
    t[10] = (method, path, headers, pickle.PickleBuffer(body))
    for index in (11, 12):
        if t[index] is not None:
            status, headers, body, reason = t[index]
            t[index] = (status, headers, pickle.PickleBuffer(body), reason)
    return tuple(t)


def _paced(exchanges: list[Exchange], rate: float, submit: Callable[[Exchange], None]) -> None:
    start = time.perf_counter()
    for index, exchange in enumerate(exchanges):
        if index % 16 == 0:
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        submit(exchange)


def _widen(fd: int) -> None:
    import fcntl
    fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)


def _handoff_run(method: str, exchanges: list[Exchange], rate: float) -> float:
    """CPU seconds this process spent handing `exchanges` off by `method`."""
    n = len(exchanges)
    done_recv, done_send = _SPAWN.Pipe(duplex=False)
    if method == "none":
        submit: Callable[[Exchange], None] = lambda e: None  # noqa: E731
        child = None
    elif method.startswith("mp.Queue"):
        q = _SPAWN.Queue()
        child = _SPAWN.Process(target=_queue_child, args=(q, done_send, n), daemon=True)
        if method == "mp.Queue(Exchange)":
            submit = q.put
        else:
            submit = lambda e: q.put(_pack(e))  # noqa: E731
    elif method.startswith("Pipe"):
        recv, send = _SPAWN.Pipe(duplex=False)
        if "1 MB" in method:
            _widen(send.fileno())
        child = _SPAWN.Process(target=_pipe_child, args=(recv, done_send, n), daemon=True)
        encode: Callable[[Exchange], Any] = (lambda e: e) if "Exchange" in method else _pack
        sender = _Sender(lambda batch: send.send_bytes(pickle.dumps(batch, protocol=5)), encode)
        submit = sender.submit
    else:  # raw pipe, out-of-band bodies, writev
        recv, send = _SPAWN.Pipe(duplex=False)
        if "1 MB" in method:
            _widen(send.fileno())
        child = _SPAWN.Process(target=_raw_child, args=(recv, done_send, n), daemon=True)
        sender = _Sender(_oob_writer(send.fileno()), _oob)
        submit = sender.submit
    if child is not None:
        child.start()
        time.sleep(1.5)  # spawned and importing: not part of the hand-off
    before = time.process_time()
    _paced(exchanges, rate, submit)
    if child is not None:
        assert done_recv.poll(120), f"{method}: the child never got everything"
        done_recv.recv_bytes()
    spent = time.process_time() - before
    if child is not None:
        child.join(10)
    return spent


def handoff(args: argparse.Namespace) -> None:
    methods = ["none", "mp.Queue(Exchange)", "mp.Queue(tuple)", "Pipe, batches of Exchange",
               "Pipe, batches of tuples", "raw pipe, tuples, bodies out of band",
               "Pipe, batches of tuples, 1 MB pipe", "raw pipe, out of band, 1 MB pipe"]
    if args.methods:
        methods = ["none"] + [m for m in methods if any(w in m for w in args.methods)]
    n = int(args.rate * args.seconds)
    print(f"hand-off CPU in the serving process, µs per exchange; {n} exchanges at "
          f"{args.rate:.0f}/s; best of {args.rounds} rounds, each less the best 'none' round")
    print(f"{'method':40}" + "".join(f"{size // 1024:>8} KB" for size in SIZES))
    results: dict[str, dict[int, list[float]]] = {m: {s: [] for s in SIZES} for m in methods}
    for size in SIZES:
        exchanges = [make_exchange(size, seed=i) for i in range(min(n, 200))]
        exchanges = [exchanges[i % len(exchanges)] for i in range(n)]
        for _ in range(args.rounds):
            for method in methods:
                results[method][size].append(_handoff_run(method, exchanges, args.rate))
    for method in methods[1:]:
        row = [(min(results[method][s]) - min(results["none"][s])) / n * 1e6 for s in SIZES]
        print(f"{method:40}" + "".join(f"{v:11.1f}" for v in row))


# -- stages ----------------------------------------------------------------------------------

def _cpu_per_call(fn: Callable[[], object], n: int) -> float:
    fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def stages(args: argparse.Namespace) -> None:
    from turnout.config import write_atomically, write_many
    from turnout.demo.config import demo_proxy_config
    from turnout.recording import dumps, redactor_from_config
    from turnout.recording._decode import decode_bodies

    settings = demo_proxy_config("http://127.0.0.1:1", None).redaction

    def serialised(exchange: Exchange) -> str:
        """What the store writes: `dumps` without loading it back (before that option: with)."""
        try:
            return dumps(exchange, verify=False)
        except TypeError:
            return dumps(exchange)

    print(f"µs CPU per exchange, in one process ({args.shape}; +tr: translator mode)")
    print(f"{'':16}{'file B':>8}{'redact':>9}{'dumps':>8}{'write 1':>9}{'write 64':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        row = 0
        for translated in (False, True):
            for size, n in zip(SIZES, (300, 60, 8), strict=True):
                # a redactor of its own and people of its own for each row: what the
                # pseudonymiser remembers of one row must not flatter the next
                redactor = redactor_from_config(settings)
                row += 1
                pool = [make_exchange(size, args.shape, translated=translated, seed=row * 100_000 + i)
                        for i in range(n + 1)]
                cycle = iter(pool * 1000)
                redact = _cpu_per_call(lambda: redactor.redact(decode_bodies(next(cycle))), n)
                redacted = redactor.redact(decode_bodies(pool[0]))
                text = serialised(redacted).encode()
                serialise = _cpu_per_call(lambda: serialised(redacted), n)
                count = iter(range(10**9))
                base = Path(tmp, f"{size}-{translated}")
                one = _cpu_per_call(lambda: write_atomically(
                    base / "one" / f"{next(count)}.yaml", text, mode=0o600, make_dirs=0o700), n)
                many = _cpu_per_call(lambda: write_many(
                    [(base / "many" / f"{next(count)}.yaml", text) for _ in range(64)],
                    mode=0o600, make_dirs=0o700), max(2, n // 16)) / 64
                label = f"{size // 1024} KB{' +tr' if translated else ''}"
                print(f"{label:16}{len(text):8}{redact:9.0f}{serialise:8.0f}{one:9.0f}{many:10.0f}")


# -- sustain ---------------------------------------------------------------------------------

def sustain(args: argparse.Namespace) -> None:
    from turnout.demo.config import demo_proxy_config
    from turnout.recording import open_writer

    settings = demo_proxy_config("http://127.0.0.1:1", None).redaction
    print(f"one writer process, fed for {args.seconds:.0f} s as fast as it takes exchanges "
          f"({args.shape}, demo redaction rules); wall-clock rates")
    for translated in (False, True) if not args.legacy_only else (False,):
        for size in [kb * 1024 for kb in args.sizes]:
            pool = [make_exchange(size, args.shape, translated=translated, seed=i)
                    for i in range(2000)]
            with tempfile.TemporaryDirectory() as tmp:
                writer = open_writer(Path(tmp), settings, known_services=lambda: {"/pnc"},
                                     max_queue=2000, max_bytes=256 * 1024 * 1024)
                writer.submit(pool[0])
                while writer.written < 1:  # the child is up and warm
                    time.sleep(0.05)
                pid = getattr(writer, "pid", None)
                before_child = _process_cpu(pid)
                before_parent = time.process_time()
                start = time.perf_counter()
                submitted = 0
                while time.perf_counter() - start < args.seconds:
                    if writer.submit(_fresh(pool[submitted % len(pool)])):
                        submitted += 1
                    else:
                        time.sleep(0.001)
                # everything taken is written (or failed) before the writer is told to stop, so
                # its CPU can be read while it still runs
                while writer.written - 1 + writer.failed < submitted \
                        and time.perf_counter() - start < 300:
                    time.sleep(0.005)
                elapsed = time.perf_counter() - start
                after_child = _process_cpu(pid)
                parent = time.process_time() - before_parent
                assert writer.close(timeout=300)
                label = f"{size // 1024} KB{' +tr' if translated else ''}"
                written = writer.written - 1
                child = ("" if before_child is None or after_child is None else
                         f"; writer process {(after_child - before_child) / max(1, written) * 1e6:.0f}"
                         " µs CPU per exchange")
                print(f"{label:10} {written:7} written in {elapsed:5.1f} s: "
                      f"{written / elapsed:7.0f}/s; failed {writer.failed}; "
                      f"parent {parent / max(1, submitted) * 1e6:.0f} µs CPU per exchange{child}")


def _process_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system, every thread) process `pid` has used so far (Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fresh(exchange: Exchange) -> Exchange:
    from dataclasses import replace

    from turnout.recording import new_exchange_id
    return replace(exchange, id=new_exchange_id())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("handoff")
    one.add_argument("--rate", type=float, default=1500)
    one.add_argument("--seconds", type=float, default=4)
    one.add_argument("--rounds", type=int, default=3)
    one.add_argument("--methods", nargs="*", help="only the methods whose names hold these words")
    two = commands.add_parser("stages")
    two.add_argument("--shape", choices=("vehicle", "unsigned", "people"), default="vehicle")
    three = commands.add_parser("sustain")
    three.add_argument("--seconds", type=float, default=5)
    three.add_argument("--shape", choices=("vehicle", "unsigned", "people"), default="vehicle")
    three.add_argument("--sizes", type=int, nargs="+", default=[size // 1024 for size in SIZES],
                       help="answer sizes in KB")
    three.add_argument("--legacy-only", action="store_true", help="no translator-mode runs")
    args = parser.parse_args()
    {"handoff": handoff, "stages": stages, "sustain": sustain}[args.command](args)


if __name__ == "__main__":
    main()
