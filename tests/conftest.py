"""Test fixtures: one embedded Postgres and one migrated database per session; a rolled-back
transaction per test, for sync (ingest) and async (GraphQL) code alike."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine, event, pool
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from server.config import Settings, load_settings
from server.db import migrations
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_async_engine, make_engine
from server.graphql import operation
from tests.helpers import StatementLog, api_client

# `make test` (and CI) replays the same examples every run, so a red build always means a
# change broke something; HYPOTHESIS_PROFILE=explore draws new examples each run to hunt bugs.
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NETFLIX_CSV = SHARED_DATA / "netflix_titles.csv"

requires_shared_data = pytest.mark.skipif(
    not NETFLIX_CSV.is_file(),
    reason=f"real catalog not found at {NETFLIX_CSV} (../shared/data is beside the repo in CI)",
)


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    data_dir = tmp_path_factory.mktemp("contentintel-pg")
    server = EmbeddedPostgres(data_dir, cleanup_mode="delete").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(pg: EmbeddedPostgres) -> str:
    pg.ensure_database("contentintel_test")
    url = pg.sqlalchemy_url("contentintel_test")
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def session(conn: Connection) -> Iterator[Session]:
    with Session(bind=conn, join_transaction_mode="create_savepoint") as sess:
        yield sess


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, auth="off", database_url=None)


@pytest.fixture
async def aconn(database_url: str) -> AsyncIterator[AsyncConnection]:
    """An async connection inside a transaction that is rolled back after the test."""
    eng = make_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with eng.connect() as connection:
            transaction = await connection.begin()
            try:
                yield connection
            finally:
                await transaction.rollback()
    finally:
        await eng.dispose()


@pytest.fixture
def session_factory(aconn: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=aconn, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def client(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings, session_factory) as http:
        yield http


@pytest.fixture
def statements(aconn: AsyncConnection) -> Iterator[StatementLog]:
    """Every statement of the test from here on (``clear()`` it before the part to count)."""
    log = StatementLog()
    event.listen(aconn.sync_engine, "before_cursor_execute", log.record)
    try:
        yield log
    finally:
        event.remove(aconn.sync_engine, "before_cursor_execute", log.record)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


# --- auth on: API keys per role and a client that sends none by default -----------------------


@pytest.fixture
def auth_settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, auth="on", database_url=None, key_cache_s=0)


@pytest.fixture
async def api_keys(aconn: AsyncConnection) -> dict[str, str]:
    """One live key per role, by role name ("viewer", "analyst", "admin"), rolled back after."""
    from server.auth.service import create_key
    from server.kit.roles import Role

    made: dict[str, str] = {}
    for role in Role:
        _, key = await aconn.run_sync(lambda c, r=role: create_key(c, f"test-{r.value}", r))
        made[role.value] = key
    return made


@pytest.fixture
async def auth_client(
    auth_settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """Like ``client`` with CONTENTINTEL_AUTH=on; pass ``headers=bearer(key)`` per request."""
    async with api_client(auth_settings, session_factory) as http:
        yield http


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each operation the executor ran (not the compiled path)."""
    calls: list[str] = []
    original: Callable[..., Any] = operation._execute

    async def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("executor")
        return await original(*args, **kwargs)

    monkeypatch.setattr(operation, "_execute", spy)
    return calls
