from __future__ import annotations

import pytest
from sqlalchemy import Engine, pool, text
from sqlalchemy.exc import OperationalError

from server.db import engine as db_engine
from server.db.engine import make_async_engine, make_engine
from server.db.tuning import CONNECTION_SETTINGS


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
