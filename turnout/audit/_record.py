"""What a host calls: `open_audit(config)` at start, `Audit.record(...)` once per finished request.

`record` runs on the caller's thread (the event loop) and does only what must see the request:
reads the caller's id and finds and hashes the identifiers (one XPath in libxml2, at most 64
HMACs). Encoding, appending and fsync happen on the trail's own thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..config import ConfigError, ProxyConfig
from ..soap import Envelope, Headers
from ._hash import load_key
from ._identifiers import IdentifierFinder
from ._line import access_line, subject_of
from ._trail import AuditTrail

log = logging.getLogger("turnout.audit")


class Audit:
    """The audit of one running proxy: the identifier finder (with the key) and the trail."""

    def __init__(self, finder: IdentifierFinder, trail: AuditTrail) -> None:
        self.finder = finder
        self.trail = trail

    def record(
        self,
        *,
        at: datetime,
        request_id: str,
        headers: Headers,
        envelope: Envelope | None,
        service: str | None,
        route: str,
        outcome: str,
        status: int | None,
        ms: float | None,
        client: str | None,
        notes: Sequence[str],
        verified: Any = None,
    ) -> bool:
        """Build the line of one request and queue it; False when it was dropped."""
        identifiers, truncated = self.finder.find(envelope) if envelope is not None else ([], False)
        line = access_line(
            at=at, request_id=request_id, subject=subject_of(headers, envelope, verified),
            service=envelope.operation.service if envelope is not None else service,
            operation=envelope.operation.key if envelope is not None else None,
            route=route, outcome=outcome, status=status, ms=ms, client=client, notes=notes,
            read=envelope is not None, identifiers=identifiers, truncated=truncated,
        )
        return self.trail.submit(line)

    def close(self, timeout: float = 10.0) -> bool:
        return self.trail.close(timeout)


def open_audit(config: ProxyConfig, count: Callable[[str, int], object] | None = None) -> Audit | None:
    """The audit `config.audit` asks for, its directory made and its old days pruned; None
    when there is no `audit:` section. The key is read now: a missing one is a ConfigError
    before anything listens."""
    settings = config.audit
    if settings is None:
        return None
    record_dir = config.record_dir
    if record_dir is not None and (settings.dir.is_relative_to(record_dir)
                                   or record_dir.is_relative_to(settings.dir)):
        raise ConfigError("the audit trail must have its own directory, apart from the recordings "
                          f"({record_dir})", file=config.source, field="audit.dir")
    key = load_key(settings, config.source)
    finder = IdentifierFinder(settings, key, config.upstream_path_case_insensitive)
    retention = timedelta(days=settings.retention_days) if settings.retention_days else None
    try:
        trail = AuditTrail(settings.dir, max_queue=settings.queue, retention=retention, count=count)
    except OSError as exc:
        raise ConfigError(f"cannot use {settings.dir} for the audit trail: {exc.strerror or exc}",
                          file=config.source, field="audit.dir") from None
    log.info("audit trail: %s", settings.dir)
    return Audit(finder, trail)
