"""How Turnout's log lines are written: plain text (the default) or one JSON object per line.

A line logged while a request is being served carries that request's ids without any log call
naming them: the gateway's guard step puts them in `REQUEST_IDS` (a `contextvars.ContextVar`,
so each asyncio task sees its own request's) and clears them when the request is finished;
`RequestIds`, a filter on the handler, copies them onto each record as it is emitted.

JSON lines hold `time` (ISO 8601, UTC, to the millisecond), `level`, `logger`, `message`, then
`request_id` and `trace_id` when the line is about a request, and `exception` (the traceback,
its line breaks escaped: still one line) when one was logged. Nothing here prints: the handler
writes to stderr, as `logging.basicConfig` does.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: (request id, trace id) of the request being served in this context; None between requests
REQUEST_IDS: ContextVar[tuple[str, str] | None] = ContextVar("turnout_request_ids", default=None)


def set_request_ids(request_id: str, trace_id: str) -> None:
    """Every line logged from here on in this context (this task) names this request."""
    REQUEST_IDS.set((request_id, trace_id))


def clear_request_ids() -> None:
    """The request is over: later lines in this context (the connection's next wait) name none."""
    REQUEST_IDS.set(None)


class RequestIds(logging.Filter):
    """Stamps `request_id` and `trace_id` on a record logged while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = REQUEST_IDS.get()
        if ids is not None and not hasattr(record, "request_id"):
            record.request_id, record.trace_id = ids
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
            trace_id = getattr(record, "trace_id", None)
            if trace_id:
                line["trace_id"] = trace_id
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int, log_format: str = "text") -> None:
    """The root logger's one handler (stderr), in `log_format`, with the request ids filter.
    Called again (`turnout --log-format json proxy --log-format text`), it replaces the last."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIds())
    logging.basicConfig(level=level, handlers=[handler], force=True)
