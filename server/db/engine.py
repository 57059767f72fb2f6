"""Engines, session factories and the choice between a configured server and the embedded one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from server.config import Settings
from server.db.embedded import EmbeddedPostgres, to_sqlalchemy_url


@dataclass(frozen=True)
class DatabaseTarget:
    """Where the app's database is: a SQLAlchemy URL, and whether it is the embedded cluster."""

    url: str
    embedded: bool


@contextlib.contextmanager
def open_database(settings: Settings) -> Iterator[DatabaseTarget]:
    """Yield the database to use; start (or reuse) the embedded cluster when no URL is set.

    The embedded cluster is released on exit: the last process holding it stops it.
    """
    if settings.database_url:
        yield DatabaseTarget(to_sqlalchemy_url(settings.database_url), embedded=False)
        return
    with EmbeddedPostgres(settings.data_dir) as pg:
        pg.ensure_database()
        yield DatabaseTarget(pg.sqlalchemy_url(), embedded=True)


def make_engine(url: str, **kwargs: object) -> Engine:
    return create_engine(url, pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]


def make_async_engine(url: str, **kwargs: object) -> AsyncEngine:
    return create_async_engine(url, pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_async_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
