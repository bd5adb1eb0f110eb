"""The proxy on a background thread with its own event loop: for tests, the demo and benches.

Either engine (`_engines.engine_of`): tests that run in-process choose it by `TURNOUT_ENGINE`
exactly as `turnout proxy` does, so one suite serves both hosts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..config import ProxyConfig
from ..gateway import ProxyState
from ._engines import MITMPROXY, engine_of, run


class ProxyThread:
    def __init__(self, config: ProxyConfig, start_timeout: float = 15.0, bare: bool = False,
                 engine: str | None = None) -> None:
        self.config = config
        self.bare = bare
        self.engine = MITMPROXY if bare else engine_of(engine)
        self.state = ProxyState(config)
        self.start_timeout = start_timeout
        self.host = ""
        self.port = 0
        self._ready = threading.Event()
        self._stop: Callable[[], None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="turnout-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        def ready(host: str, port: int) -> None:
            self.host, self.port = host, port
            self._ready.set()

        def keep(stop: Callable[[], None]) -> None:
            self._stop = stop

        try:
            run(self.config, self.state, ready, bare=self.bare, engine=self.engine, on_stop=keep)
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()

    def start(self) -> ProxyThread:
        self._thread.start()
        if not self._ready.wait(self.start_timeout) or self._error is not None:
            self.stop()
            raise RuntimeError(f"proxy did not start: {self._error!r}")
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop at once (requests in flight are cut off); queued recordings are still written."""
        if self._stop is not None:
            self._stop()
        self._thread.join(timeout)

    def __enter__(self) -> ProxyThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
