"""The API's metrics, kept by prometheus_client and rendered in the Prometheus text format.

One process (tests, ``serve`` with one worker): the metrics live in this process's registry.
Several workers (``serve --workers N``): ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
fresh directory before the workers start, each worker writes its samples to files there
(prometheus_client's multiprocess mode, chosen when the library is imported), and whichever
worker answers ``/metrics`` renders the sum over all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.observability.multiprocess import multiprocess_dir

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# `*_created` timestamps double the series and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """The API's counters and histograms, registered in one registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "contentintel_graphql_requests",
            "GraphQL requests by operation name, operation type and HTTP status.",
            ("operation", "type", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "contentintel_graphql_request_duration_seconds",
            "GraphQL request latency by operation name.",
            ("operation",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "contentintel_graphql_errors",
            "GraphQL errors by extensions.code.",
            ("code",),
            registry=self.registry,
        )
        self.jobs = Counter(
            "contentintel_jobs",
            "Embed and ingest work done by this process, by job and outcome.",
            ("job", "outcome"),
            registry=self.registry,
        )
        self.job_items = Counter(
            "contentintel_job_items",
            "Rows written by embed and ingest jobs in this process.",
            ("job",),
            registry=self.registry,
        )
        # Each worker's pool, summed over the live workers in multiprocess mode.
        self.pool = Gauge(
            "contentintel_db_pool_connections",
            "Database connections of the API's pool by state (summed over workers).",
            ("state",),
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def set_pool(self, usage: Mapping[str, float]) -> None:
        for state, value in usage.items():
            self.pool.labels(state).set(value)

    def render(self, scrape_time: Iterable[Metric] = ()) -> bytes:
        """The text exposition: every worker's samples (or this process's), then the
        families computed for this scrape (catalog figures read from the database)."""
        directory = multiprocess_dir()
        if directory is None:
            body = generate_latest(self.registry)
        else:
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
            body = generate_latest(merged)
        extra = CollectorRegistry()
        extra.register(_Families(list(scrape_time)))
        return body + generate_latest(extra)

    def worker_stopped(self) -> None:
        """Drop this worker's live gauges (its pool) from the multiprocess sum."""
        directory = multiprocess_dir()
        if directory is not None:
            multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def gauge_family(
    name: str, documentation: str, values: Mapping[tuple[str, ...], float], labels: Iterable[str]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family


METRICS = Metrics()
