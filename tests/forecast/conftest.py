"""The synthetic forecast world, built once per session in its own committed database (its
catalog, hashing embeddings, demo charts, a stored backtest and a current model); each test
works inside a transaction rolled back at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import async_sessionmaker

from server.config import Settings
from server.db import migrations
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_async_engine, make_engine
from server.forecast.model import Params
from server.forecast.training import run_backtest, train_model
from tests.forecast.world import CUTOFF, EMBEDDER, build_world
from tests.helpers import api_client


@pytest.fixture(scope="session")
def world_url(pg: EmbeddedPostgres) -> str:
    pg.ensure_database("forecast_world")
    url = pg.sqlalchemy_url("forecast_world")
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            build_world(conn)
            run_backtest(conn, EMBEDDER, CUTOFF, params=Params())
            train_model(conn, EMBEDDER, params=Params())
    finally:
        engine.dispose()
    return url


@pytest.fixture
def wconn(world_url: str) -> Iterator[Connection]:
    engine = make_engine(world_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                yield connection
            finally:
                transaction.rollback()
    finally:
        engine.dispose()


@pytest.fixture
async def wclient(world_url: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An API client over the world database (changes rolled back after the test)."""
    engine = make_async_engine(world_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            factory = async_sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            try:
                async with api_client(settings, factory) as http:
                    yield http
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()
