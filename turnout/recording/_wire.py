"""Frames on the pipe from the serving process to the writer process.

A frame is one pickled message (protocol 5) whose bodies travel out of band: the pickle holds
only the small values, and each body is written to the pipe straight from the bytes object the
proxy already has (one gather write), never copied into the pickle first. Measured in the
serving process (bench/recording_writer.py handoff, 1,500 exchanges/s, 200 KB answers): 51 µs
per exchange this way against 75 µs for the same tuples pickled whole and sent with
`Connection.send_bytes`, and 100+ µs for a `multiprocessing.Queue`; at 2 KB all batched ways
cost about the same (17-20 µs, most of it waking the sender thread).

Layout: `!II` (pickle length, number of buffers), then each buffer's length (`!I`), the pickle,
the buffers. Only this package's two processes read and write it.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
from typing import Any

_HEAD = struct.Struct("!II")
_LENGTH = struct.Struct("!I")
#: the pipe's capacity asked for (Linux): fewer round trips for a batch of large answers
PIPE_BYTES = 1 << 20
_READ_CHUNK = 1 << 20


def out_of_band(body: bytes) -> Any:
    """`body` as it goes in a message: sent beside the pickle, not inside it."""
    return pickle.PickleBuffer(body)


def widen(fd: int) -> None:
    """Ask for a pipe of `PIPE_BYTES` (where the system allows it; a smaller one only costs
    more round trips)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):
        pass


def write_frame(fd: int, message: object) -> None:
    """Write `message` as one frame; blocks while the pipe is full. Raises OSError (a
    BrokenPipeError when the reader is gone)."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    head = _HEAD.pack(len(data), len(raws)) + b"".join(_LENGTH.pack(len(raw)) for raw in raws)
    views = [memoryview(head), memoryview(data), *raws]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


class FrameReader:
    """Reads frames from `fd`, a blocking pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self._eof = False

    def read(self, most: int = 64) -> list[object] | None:
        """The next frame, waiting for it, and up to `most - 1` more already sent; None when
        the writing end is closed and every frame has been read."""
        frames: list[object] = []
        while len(frames) < most:
            frame = self._take()
            if frame is not None:
                frames.append(frame)
                continue
            if self._eof or (frames and not self._readable()):
                break
            self._fill()
        return frames or None

    def _readable(self) -> bool:
        ready, _, _ = select.select([self.fd], [], [], 0)
        return bool(ready)

    def _fill(self) -> None:
        chunk = os.read(self.fd, _READ_CHUNK)
        if chunk:
            self._buffer += chunk
        else:
            self._eof = True

    def _take(self) -> object | None:
        """One whole frame off the front of the buffer, or None when it is not all there."""
        buffer = self._buffer
        if len(buffer) < _HEAD.size:
            return None
        size, count = _HEAD.unpack_from(buffer)
        start = _HEAD.size + count * _LENGTH.size
        if len(buffer) < start:
            return None
        lengths = [_LENGTH.unpack_from(buffer, _HEAD.size + i * _LENGTH.size)[0] for i in range(count)]
        end = start + size + sum(lengths)
        if len(buffer) < end:
            return None
        data = bytes(buffer[start:start + size])
        raws, offset = [], start + size
        for length in lengths:
            raws.append(bytes(buffer[offset:offset + length]))
            offset += length
        del buffer[:end]
        return pickle.loads(data, buffers=raws)
