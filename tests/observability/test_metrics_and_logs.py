"""/metrics in the Prometheus text format, JSON logs with the request id, the API engine."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from server.app import create_app, make_api_engine
from server.config import load_settings
from server.graphql.access import AccessLog, Exchange
from server.observability.logs import REQUEST_ID, JsonFormatter, direct_handler
from tests.helpers import count_awaits, gql

SAMPLE = re.compile(r"^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$")


def _value(metrics: str, line_start: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_requests_latency_and_errors(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    await gql(client, "query MetricsProbe { tags(first: 1) { name } }")
    await gql(client, 'query MetricsProbe { title(id: "bad") { id } }')
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = response.text
    for line in after.splitlines():
        assert line.startswith("#") or SAMPLE.match(line), line
    key = 'contentintel_graphql_requests_total{operation="MetricsProbe",status="200",type="query"}'
    assert _value(after, key) - _value(before, key) == 2
    count = 'contentintel_graphql_request_duration_seconds_count{operation="MetricsProbe"}'
    assert _value(after, count) - _value(before, count) == 2
    errors = 'contentintel_graphql_errors_total{code="BAD_USER_INPUT"}'
    assert _value(after, errors) - _value(before, errors) >= 1
    assert "contentintel_database_up 1" in after
    await gql(client, "{ tags(first: 1) { name } }")
    anonymous = 'contentintel_graphql_requests_total{operation="anonymous",status="200"'
    assert anonymous in (await client.get("/metrics")).text
    assert "contentintel_catalog_titles " in after


def test_pool_gauge_and_statement_timeout(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, auth="off", statement_timeout_ms=1234)
    with TestClient(create_app(settings, database_url=database_url)) as http:
        assert http.get("/readyz").json()["ready"] is True
        assert http.post("/graphql", json={"query": "{ __typename }"}).status_code == 200
        metrics = http.get("/metrics").text
    assert 'contentintel_db_pool_connections{state="size"} 20' in metrics
    assert 'contentintel_db_pool_connections{state="checked_out"} 0' in metrics

    import asyncio

    async def timeout_setting() -> str:
        engine = make_api_engine(database_url, settings)
        try:
            async with engine.connect() as conn:
                return str(await conn.scalar(text("SHOW statement_timeout")))
        finally:
            await engine.dispose()

    assert asyncio.run(timeout_setting()) == "1234ms"


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord(
        "contentintel.test", logging.INFO, __file__, 1, "hi %s", ("x",), None
    )
    record.operation = "Op"
    token = REQUEST_ID.set("rid-7")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["msg"] == "hi x"
    assert line["request_id"] == "rid-7"
    assert line["level"] == "INFO"
    assert line["operation"] == "Op"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exc"]


@pytest.mark.parametrize(
    "created",
    [1700000000.0, 1700000000.123456, 1700000000.9994, 1700000000.9999996, 1764748800.5005],
)
def test_json_timestamps_are_isoformat_to_the_millisecond(created: float) -> None:
    from datetime import UTC, datetime

    formatter = JsonFormatter()
    for at in (created - 1, created):  # the per-second prefix is reused, then renewed
        record = logging.LogRecord("contentintel.test", logging.INFO, __file__, 1, "m", (), None)
        record.created = at
        expected = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["ts"] == expected


@pytest.fixture
def root_level() -> Iterator[None]:
    """The root logger's level as it was after the test (``setLevel`` resets the loggers'
    cached levels; setting the attribute would not)."""
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


@pytest.mark.usefixtures("root_level")
def test_the_access_line_written_directly_is_the_formatters_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import time
    from types import SimpleNamespace

    from starlette.responses import Response

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    root.setLevel(logging.INFO)
    monkeypatch.setattr(time, "time", lambda: 1700000000.2506)
    monkeypatch.setattr(time, "perf_counter", lambda: 100.0123456)
    http = logging.getLogger("contentintel.http")
    seen: list[logging.LogRecord] = []

    def lines() -> list[str]:
        access = AccessLog()
        for label in ("Similar", "anonymous"):
            exchange = Exchange("rid-1.a:b", started=100.0, label=label, op_type="query")
            token = REQUEST_ID.set(exchange.request_id)
            try:
                access.record(SimpleNamespace(method="POST"), exchange, Response(status_code=200))  # type: ignore[arg-type]
            finally:
                REQUEST_ID.reset(token)
        written = stream.getvalue().splitlines()
        stream.seek(0)
        stream.truncate()
        return written

    assert direct_handler(http, logging.INFO) == (handler, handler.formatter)
    direct = lines()
    handler.addFilter(lambda record: seen.append(record) or True)  # type: ignore[func-returns-value]
    assert direct_handler(http, logging.INFO) is None
    through_logging = lines()
    assert len(seen) == 2  # the filter saw the records: logged the usual way
    assert direct == through_logging
    assert json.loads(direct[0])["msg"] == "graphql POST Similar -> 200 in 12.3 ms"
    assert json.loads(direct[0])["ms"] == pytest.approx(12.3456)
    monkeypatch.setattr(root, "handlers", [handler, logging.StreamHandler(io.StringIO())])
    assert direct_handler(http, logging.INFO) is None  # another handler: the usual way
    root.setLevel(logging.WARNING)
    assert direct_handler(http, logging.INFO) is None


async def test_scrapes_share_one_read_of_the_catalog_gauges(
    tmp_path: Any, session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import app as app_module
    from server.config import load_settings

    reads = count_awaits(monkeypatch, app_module, "catalog_gauges")
    app = app_module.create_app(
        load_settings(data_dir=tmp_path, auth="off"), session_factory=session_factory
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        for _ in range(20):
            scrape = await http.get("/metrics")
            assert "contentintel_database_up 1" in scrape.text
    assert len(reads) == 1
