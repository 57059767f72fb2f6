"""Around every ``/graphql`` request: its id (``X-Request-ID``, echoed when well formed, made
otherwise, and set for the logs), the access log line and the request metrics."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.graphql.replies import JSON
from server.observability.logs import REQUEST_ID, direct_handler, write_line
from server.observability.metrics import METRICS

log = logging.getLogger("contentintel.http")

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
OPERATION_NAME_RE = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
MAX_OPERATION_LABELS = 200


@dataclass(slots=True)
class Exchange:
    """What the endpoint learns about one request on its way through: the handler fills it
    in, the access log and the metrics read it."""

    request_id: str
    started: float = field(default_factory=time.perf_counter)
    media: str = JSON
    """The response media type, once ``Accept`` was negotiated (JSON until then)."""
    label: str = "-"
    """The operation's metrics label, once it ran."""
    op_type: str = "-"


class AccessLog:
    """Runs a handler with the request's ``Exchange``; then the request id header, the
    metrics and the access line."""

    def __init__(self) -> None:
        self.operation_labels: set[str] = set()
        self.series: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        """(request counter, latency histogram) per label, type and status: prometheus'
        ``labels()`` takes a lock and builds a key on every call."""

    async def __call__(
        self, request: Request, handler: Callable[[Request, Exchange], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        exchange = Exchange(incoming if REQUEST_ID_RE.match(incoming) else os.urandom(8).hex())
        token = REQUEST_ID.set(exchange.request_id)
        try:
            response = await handler(request, exchange)
            response.headers["X-Request-ID"] = exchange.request_id
            self.record(request, exchange, response)
            return response
        finally:
            REQUEST_ID.reset(token)

    def record(self, request: Request, exchange: Exchange, response: Response) -> None:
        elapsed = time.perf_counter() - exchange.started
        status = str(response.status_code)
        label = exchange.label
        key = (label, exchange.op_type, status)
        series = self.series.get(key)
        if series is None:
            series = (METRICS.requests.labels(*key), METRICS.latency.labels(label))
            self.series[key] = series
        series[0].inc()
        series[1].observe(elapsed)
        if log.isEnabledFor(logging.INFO):  # the access line: nothing built when off
            ms = elapsed * 1000
            method = request.method
            direct = direct_handler(log, logging.INFO)
            if direct is not None and method.isalpha():
                # the JSON formatter's line, built here: every value is JSON-safe as it is
                # (a label and a request id match their patterns, a method is letters)
                handler, formatter = direct
                line = (
                    f'{{"ts": "{formatter.timestamp(time.time())}", "level": "INFO", '
                    f'"logger": "{log.name}", "msg": "graphql {method} {label} -> {status} in '
                    f'{ms:.1f} ms", "request_id": "{exchange.request_id}", "operation": '
                    f'"{label}", "status": {status}, "ms": {ms!r}}}'
                )
                if write_line(handler, line):
                    return
            log.info(
                "graphql %s %s -> %s in %.1f ms",
                method,
                label,
                status,
                ms,
                extra={"operation": label, "status": response.status_code, "ms": ms},
            )

    def label(self, name: str | None) -> str:
        """The metrics label for an operation name (bounded: unknown names past a cap are
        counted as ``other``)."""
        if not name or name == "-":
            return "anonymous"
        if not OPERATION_NAME_RE.match(name):
            return "other"
        if name not in self.operation_labels:
            if len(self.operation_labels) >= MAX_OPERATION_LABELS:
                return "other"
            self.operation_labels.add(name)
        return name
