from __future__ import annotations

import pytest
from sqlalchemy import Engine, pool, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import engine as db_engine
from server.db.engine import make_async_engine, make_engine
from server.db.tuning import CONNECTION_SETTINGS, EF_SEARCH, MAX_EF_SEARCH, deeper_scan


def _shown(values: dict[str, str]) -> dict[str, str]:
    return {name: values[name] for name in CONNECTION_SETTINGS}


def test_sync_connections_start_with_the_search_settings(engine: Engine) -> None:
    with engine.connect() as conn:
        values = {n: conn.execute(text(f"SHOW {n}")).scalar_one() for n in CONNECTION_SETTINGS}
        conn.rollback()  # the pool rolls back on check-in: the settings must survive that
        again = {n: conn.execute(text(f"SHOW {n}")).scalar_one() for n in CONNECTION_SETTINGS}
    assert _shown(values) == CONNECTION_SETTINGS
    assert again == CONNECTION_SETTINGS


async def test_async_connections_start_with_the_search_settings(database_url: str) -> None:
    eng = make_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with eng.connect() as conn:
            values = {
                n: (await conn.execute(text(f"SHOW {n}"))).scalar_one() for n in CONNECTION_SETTINGS
            }
    finally:
        await eng.dispose()
    assert values == CONNECTION_SETTINGS


async def _ef_search(session: AsyncSession) -> str:
    return str((await session.execute(text("SHOW hnsw.ef_search"))).scalar_one())


@pytest.mark.parametrize("isolation", ["AUTOCOMMIT", "READ COMMITTED"])
async def test_a_deep_scan_widens_the_candidate_list_inside_its_block_only(
    database_url: str, isolation: str
) -> None:
    eng = make_async_engine(database_url, pool_size=1, max_overflow=0, isolation_level=isolation)
    try:
        async with AsyncSession(eng) as session:
            async with deeper_scan(session, 50):  # within the default: nothing sent
                assert await _ef_search(session) == str(EF_SEARCH)
            async with deeper_scan(session, 300):
                assert await _ef_search(session) == "300"
            assert await _ef_search(session) == str(EF_SEARCH)
            async with deeper_scan(session, 5000):
                assert await _ef_search(session) == str(MAX_EF_SEARCH)
    finally:
        await eng.dispose()


async def test_a_deep_scan_that_fails_never_leaks_into_the_next_checkout(
    database_url: str,
) -> None:
    # autocommit: nothing rolls the raised value back, the pool must restore it
    eng = make_async_engine(database_url, pool_size=1, max_overflow=0, isolation_level="AUTOCOMMIT")
    try:
        async with AsyncSession(eng) as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            with pytest.raises(ZeroDivisionError):
                async with deeper_scan(session, 400):
                    1 / 0  # noqa: B018
            assert await _ef_search(session) == "400"  # same checkout: still raised
        async with AsyncSession(eng) as session:
            again = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert again == pid  # the very same connection ...
            assert await _ef_search(session) == str(EF_SEARCH)  # ... restored on checkout
    finally:
        await eng.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _terminate(engine: Engine, pid: int) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_an_idle_dead_connection_is_replaced_before_use(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_SECONDS", 0.0)  # everything counts as idle
    pooled = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        pid = _backend_pid(pooled)
        _terminate(engine, pid)
        assert _backend_pid(pooled) != pid  # pinged, found dead, replaced: no error
    finally:
        pooled.dispose()


def test_a_recently_used_connection_is_not_pinged_and_the_pool_recovers(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_SECONDS", 3600.0)
    pooled = make_engine(database_url, pool_size=1, max_overflow=0)
    pings: list[object] = []
    monkeypatch.setattr(pooled.dialect, "do_ping", lambda c: pings.append(c) or True)
    try:
        pid = _backend_pid(pooled)
        _backend_pid(pooled)
        assert len(pings) == 1  # the first checkout of a new connection only
        _terminate(engine, pid)
        with pytest.raises(OperationalError):  # the trade-off: this one request fails ...
            _backend_pid(pooled)
        assert _backend_pid(pooled) != pid  # ... and the pool has reconnected for the next
    finally:
        pooled.dispose()
