"""Read statements straight through the driver (``server.db.reads.DriverReads``) and the
request context's choice between them and the session (``Context.fetch_one``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import QueuePool, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from server.app import create_app, make_api_engine
from server.config import Settings, load_settings
from server.db import reads as driver_reads
from server.db.reads import DriverReads
from server.kit.errors import ErrorCode
from server.kit.resolving.context import Context
from server.kit.resolving.errors import as_expected

ECHO = "SELECT json_build_object('n', %(n)s::int), pg_backend_pid()"


@pytest.fixture
async def api_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    settings = load_settings(auth="off", database_url=None, statement_timeout_ms=200)
    engine = make_api_engine(database_url, settings)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def reads(api_engine: AsyncEngine) -> AsyncIterator[DriverReads]:
    reads = DriverReads(api_engine)
    try:
        yield reads
    finally:
        await reads.close()


def _checked_out(engine: AsyncEngine) -> int:
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def _in_use(reads: DriverReads) -> int:
    """Connections checked out of the pool and not kept idle by the reads."""
    return _checked_out(reads.engine) - reads.idle


async def test_a_row_through_the_driver_in_autocommit(reads: DriverReads) -> None:
    row = await reads(ECHO, {"n": 7})
    assert row is not None
    assert row[0] == {"n": 7}
    # autocommit: each statement its own transaction, the connection back in the pool
    txids = [await reads("SELECT txid_current()", {}) for _ in range(2)]
    assert txids[0] != txids[1]
    assert _in_use(reads) == 0


PREPARED = "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'contentintel%%'"


def test_driver_sql_is_made_positional() -> None:
    assert driver_reads.positional("SELECT %(a)s, %(b)s, %(a)s, 'x%%'") == (
        b"SELECT $1, $2, $1, 'x%'",
        ("a", "b"),
    )
    with pytest.raises(ValueError, match="lone %"):
        driver_reads.positional("SELECT 'x%'")


async def test_statements_are_prepared_once_per_connection_and_types(reads: DriverReads) -> None:
    for n in (1, 2, 3):
        assert (await reads(ECHO, {"n": n}) or ())[0] == {"n": n}
    assert await reads(PREPARED, {}) == (2,)  # ECHO's and this one
    await reads(ECHO, {"n": 100_000})  # another parameter type (int4): another statement
    assert await reads(PREPARED, {}) == (3,)


async def test_past_max_prepared_statements_run_unprepared(
    reads: DriverReads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver_reads, "MAX_PREPARED", 1)
    await reads(ECHO, {"n": 1})
    assert await reads(PREPARED, {}) == (1,)
    assert await reads(PREPARED, {}) == (1,)


async def test_a_connection_is_kept_for_the_next_read_then_given_back(
    reads: DriverReads, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await reads(ECHO, {"n": 1})
    second = await reads(ECHO, {"n": 2})
    assert first is not None
    assert second is not None
    assert first[1] == second[1]  # the same backend: kept, not checked in and out
    assert (reads.idle, _checked_out(reads.engine)) == (1, 1)
    await reads.close()
    assert (reads.idle, _checked_out(reads.engine)) == (0, 0)
    await reads(ECHO, {"n": 3})  # closed: checked out and in again
    assert (reads.idle, _checked_out(reads.engine)) == (0, 0)


async def test_kept_connections_go_back_to_the_pool_when_idle_for_long(
    reads: DriverReads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver_reads, "KEEP_IDLE_S", 0.05)
    await reads(ECHO, {"n": 1})
    assert reads.idle == 1
    await asyncio.sleep(0.3)
    assert (reads.idle, _checked_out(reads.engine)) == (0, 0)
    # a read after a late trim gives back the stale one and checks out afresh
    await reads(ECHO, {"n": 2})
    assert reads._trimming is not None
    reads._trimming.cancel()
    reads._trimming = None
    await asyncio.sleep(0.1)
    await reads(ECHO, {"n": 3})
    assert (reads.idle, _checked_out(reads.engine)) == (1, 1)


async def test_at_most_a_quarter_of_the_pool_is_kept(api_engine: AsyncEngine) -> None:
    pool = api_engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    reads = DriverReads(api_engine)
    try:
        assert reads.keep == pool.size() // 4
        await asyncio.gather(*(reads("SELECT pg_sleep(0.05)", {}) for _ in range(8)))
        assert reads.idle == reads.keep
        assert _checked_out(api_engine) == reads.keep
    finally:
        await reads.close()


async def test_a_connection_left_in_a_transaction_is_not_kept(reads: DriverReads) -> None:
    with pytest.raises(DBAPIError):
        await reads("BEGIN", {})  # no row to fetch; the connection is left in a transaction
    assert (reads.idle, _checked_out(reads.engine)) == (0, 0)  # the pool rolled it back
    txids = [await reads("SELECT txid_current()", {}) for _ in range(2)]
    assert txids[0] != txids[1]


async def test_statement_timeout_is_a_dbapi_error_read_as_timeout(reads: DriverReads) -> None:
    with pytest.raises(DBAPIError) as caught:
        await reads("SELECT pg_sleep(2)", {})
    expected = as_expected(caught.value)
    assert expected is not None
    assert expected.code is ErrorCode.TIMEOUT
    assert _in_use(reads) == 0
    assert (await reads(ECHO, {"n": 1}) or ())[0] == {"n": 1}  # the connection is fine after


async def test_other_errors_stay_dbapi_errors_and_release_the_connection(
    reads: DriverReads,
) -> None:
    with pytest.raises(DBAPIError) as caught:
        await reads("SELECT 1 / %(zero)s::int", {"zero": 0})
    assert isinstance(caught.value.orig, psycopg.errors.DivisionByZero)
    assert as_expected(caught.value) is None  # masked, as any statement failure
    assert _in_use(reads) == 0


async def test_a_lost_connection_is_invalidated_and_the_next_read_reconnects(
    api_engine: AsyncEngine, reads: DriverReads, database_url: str
) -> None:
    first = await reads(ECHO, {"n": 1})
    assert first is not None
    pid = first[1]
    closed: list[object] = []
    event.listen(api_engine.sync_engine.pool, "invalidate", lambda *args: closed.append(args))
    admin = make_api_engine(database_url, load_settings(auth="off", database_url=None))
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    finally:
        await admin.dispose()
    with pytest.raises(DBAPIError) as caught:
        await reads(ECHO, {"n": 2})  # the pool hands out the killed connection
    assert caught.value.connection_invalidated
    assert closed, "the dead connection was not invalidated"
    again = await reads(ECHO, {"n": 3})
    assert again is not None
    assert again[0] == {"n": 3}
    assert again[1] != pid
    assert _in_use(reads) == 0


async def test_the_context_reads_through_the_driver_only_without_a_session(
    api_engine: AsyncEngine, reads: DriverReads, settings: Settings
) -> None:
    driver_calls: list[str] = []

    async def counted(sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        driver_calls.append(sql)
        return await reads(sql, params)

    sessions = async_sessionmaker(api_engine, expire_on_commit=False)
    query = Context(settings=settings, sessions=sessions, reads=counted, operation=("query", "Q"))
    assert (await query.fetch_one(ECHO, {"n": 1}) or ())[0] == {"n": 1}
    assert len(driver_calls) == 1
    assert not query.has_session
    # once a session is open, the request keeps to it
    await query.db(lambda session: session.connection())
    assert (await query.fetch_one(ECHO, {"n": 2}) or ())[0] == {"n": 2}
    assert len(driver_calls) == 1
    await query.close()

    mutation = Context(
        settings=settings, sessions=sessions, reads=counted, operation=("mutation", "M")
    )
    assert (await mutation.fetch_one(ECHO, {"n": 3}) or ())[0] == {"n": 3}
    assert len(driver_calls) == 1
    assert mutation.has_session
    await mutation.close()

    without = Context(settings=settings, sessions=sessions, operation=("query", "Q"))
    assert (await without.fetch_one(ECHO, {"n": 4}) or ())[0] == {"n": 4}
    assert without.has_session
    await without.close()
    assert _in_use(reads) == 0


QUERIES = [
    '{ title(id: "987654321") { id name } }',
    "{ titles(first: 2) { totalCount edges { node { id name } } } }",
    '{ similarTitles(titleId: "987654321", first: 3) { score title { id } } }',  # falls back
    "{ tags(first: 1) { name } }",  # executor only
]


@pytest.mark.parametrize("query", QUERIES)
async def test_the_app_answers_compiled_queries_through_the_driver(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """Over an engine (not a test's session factory) a compiled query reads through the
    driver, and the body is the executor's, byte for byte."""
    calls: list[str] = []
    original = DriverReads.__call__

    async def counted(
        self: DriverReads, sql: str, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        calls.append(sql)
        return await original(self, sql, params)

    monkeypatch.setattr(DriverReads, "__call__", counted)
    bodies = []
    for compiled in ("on", "off"):
        settings = load_settings(
            data_dir=tmp_path, auth="off", database_url=None, compiled_queries=compiled
        )
        app = create_app(settings, database_url=database_url)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.post("/graphql", json={"query": query})
        assert response.status_code == 200
        bodies.append(response.content)
        if compiled == "on":
            assert len(calls) == (0 if "tags" in query else 1)
    assert bodies[0] == bodies[1]
    assert len(calls) == (0 if "tags" in query else 1)  # the executor never reads this way
