"""A small in-process metrics registry rendered in the Prometheus text format (0.0.4).

Counters and histograms keyed by label values; recording is a dict update (no locks: the
server runs one event loop per process). Each uvicorn worker process has its own registry,
so scrape each worker (or run one worker per container, as the compose file does).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Counter:
    def __init__(self, name: str, help: str, labels: tuple[str, ...] = ()) -> None:
        self.name, self.help, self.labels = name, help, labels
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1) -> None:
        self.values[labels] = self.values.get(labels, 0) + amount

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for key, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.labels, key)} {_number(value)}"


class Histogram:
    def __init__(
        self,
        name: str,
        help: str,
        labels: tuple[str, ...] = (),
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
    ) -> None:
        self.name, self.help, self.labels, self.buckets = name, help, labels, buckets
        self.series: dict[tuple[str, ...], list[float]] = {}

    def observe(self, value: float, *labels: str) -> None:
        counts = self.series.get(labels)
        if counts is None:
            # one slot per bucket, then +Inf, sum
            counts = self.series[labels] = [0.0] * (len(self.buckets) + 2)
        counts[bisect.bisect_left(self.buckets, value)] += 1
        counts[-1] += value

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for key, counts in sorted(self.series.items()):
            running = 0.0
            for bound, count in zip(self.buckets, counts, strict=False):
                running += count
                le = f'le="{_number(bound)}"'
                yield f"{self.name}_bucket{_labels(self.labels, key, le)} {_number(running)}"
            running += counts[len(self.buckets)]
            inf = _labels(self.labels, key, 'le="+Inf"')
            yield f"{self.name}_bucket{inf} {_number(running)}"
            yield f"{self.name}_sum{_labels(self.labels, key)} {_number(counts[-1])}"
            yield f"{self.name}_count{_labels(self.labels, key)} {_number(running)}"


class Gauge:
    """A value read at scrape time from a callback returning {label values: value}."""

    def __init__(
        self,
        name: str,
        help: str,
        labels: tuple[str, ...],
        read: Callable[[], dict[tuple[str, ...], float]],
    ) -> None:
        self.name, self.help, self.labels, self.read = name, help, labels, read

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} gauge"
        for key, value in sorted(self.read().items()):
            yield f"{self.name}{_labels(self.labels, key)} {_number(value)}"


class Registry:
    def __init__(self) -> None:
        self.requests = Counter(
            "contentintel_graphql_requests_total",
            "GraphQL requests by operation name, operation type and HTTP status.",
            ("operation", "type", "status"),
        )
        self.latency = Histogram(
            "contentintel_graphql_request_duration_seconds",
            "GraphQL request latency by operation name.",
            ("operation",),
        )
        self.errors = Counter(
            "contentintel_graphql_errors_total",
            "GraphQL errors by extensions.code.",
            ("code",),
        )
        self.http = Counter(
            "contentintel_http_requests_total",
            "HTTP requests by route and status.",
            ("route", "status"),
        )
        self.jobs = Counter(
            "contentintel_jobs_total",
            "Embed and ingest work done by this process, by job and outcome.",
            ("job", "outcome"),
        )
        self.job_items = Counter(
            "contentintel_job_items_total",
            "Rows written by embed and ingest jobs in this process.",
            ("job",),
        )
        self.gauges: list[Gauge] = []

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.requests, self.latency, self.errors, self.http, self.jobs):
            lines.extend(metric.render())
        lines.extend(self.job_items.render())
        for gauge in self.gauges:
            lines.extend(gauge.render())
        return "\n".join(lines) + "\n"


REGISTRY = Registry()
