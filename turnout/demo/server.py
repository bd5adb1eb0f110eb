"""Serving ASGI apps with uvicorn: in a background thread for tests and demos, or blocking."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from .data import DemoStore
from .identity import DemoIdentity
from .legacy import make_legacy_app

LOOPBACK = "127.0.0.1"


class ServerThread:
    """Runs `app` on `host`:`port` (0: any free port) in a daemon thread.

    We bind the socket ourselves, so `.port` is known even for port 0, and hand it to uvicorn.
    `start()` returns once uvicorn is accepting connections; `stop()` asks it to finish, and
    forces it after `stop_timeout` seconds.

        with ServerThread(make_legacy_app(DemoStore())) as bus:
            requests.get(bus.url + "/services")
    """

    def __init__(
        self,
        app: Any,
        port: int = 0,
        host: str = LOOPBACK,
        *,
        start_timeout: float = 10.0,
        stop_timeout: int = 5,
    ) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._port

    @property
    def host(self) -> str:
        return self._host

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, no trailing slash."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> ServerThread:
        if self._thread is not None:
            raise RuntimeError("the server is already started")
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when the
        # listening socket says TCP, and without it every keep-alive reply waits ~40 ms for a
        # delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._socket = sock
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=self._stop_timeout,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"uvicorn-{sock.getsockname()[1]}", daemon=True
        )
        self._thread.start()
        self._wait_started()
        self._port = sock.getsockname()[1]
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # SystemExit on a failed startup, too
            self._error = exc

    def _wait_started(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._cleanup()
                raise RuntimeError(f"server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start within {self._start_timeout}s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut down and wait for the thread; safe to call twice or after a failed start."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(self._stop_timeout + 1)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(self._stop_timeout)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._server = None
        self._thread = None
        self._port = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def run_legacy(host: str, port: int, *, identity: DemoIdentity | None = None) -> None:
    """Serve the legacy bus over a fresh `DemoStore` until interrupted (blocking); with
    `identity`, authenticating every request (see `make_legacy_app`)."""
    uvicorn.run(
        make_legacy_app(DemoStore(), identity),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )
