"""Fixtures of the similarity tests: the catalog embedded inside the test's own transaction.

``embed_catalog`` writes vectors with psycopg's binary COPY on the *sync* driver connection. In
these tests the data lives in the async connection's uncommitted transaction, and under
``AsyncConnection.run_sync`` the driver connection is a ``psycopg.AsyncConnection``: pgvector's
``register_vector`` then fails ("'coroutine' object has no attribute 'register'") and the
cursor/COPY objects are async. The shim below presents the few sync calls the pipeline makes
(``cursor()``, ``execute``, ``fetchall``, ``copy()``, ``set_types``, ``write_row``) over the
async connection, awaiting each from the run_sync greenlet. Test-only: the CLI and the app's
jobs run the pipeline on sync connections, where COPY works as written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from pgvector.psycopg import register_vector_async
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import await_

from server.embeddings import pipeline
from server.embeddings.embedders import Embedder, HashingEmbedder
from server.embeddings.pipeline import EmbedSummary, embed_catalog


class _Copy:
    def __init__(self, copy: psycopg.AsyncCopy) -> None:
        self._copy = copy

    def set_types(self, types: list[str]) -> None:
        self._copy.set_types(types)

    def write_row(self, row: Any) -> None:
        await_(self._copy.write_row(row))


class _Cursor:
    def __init__(self, cursor: psycopg.AsyncCursor[Any]) -> None:
        self._cursor = cursor

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        await_(self._cursor.close())

    def execute(self, query: str, params: Any = None) -> _Cursor:
        await_(self._cursor.execute(query, params))
        return self

    def fetchall(self) -> list[Any]:
        return await_(self._cursor.fetchall())

    @contextmanager
    def copy(self, statement: str) -> Iterator[_Copy]:
        manager = self._cursor.copy(statement)
        copy = await_(manager.__aenter__())
        try:
            yield _Copy(copy)
        except BaseException as exc:
            await_(manager.__aexit__(type(exc), exc, exc.__traceback__))
            raise
        await_(manager.__aexit__(None, None, None))


class _SyncDriver:
    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection

    def cursor(self) -> _Cursor:
        return _Cursor(self.connection.cursor())


def _driver(conn: Any) -> Any:
    raw = conn.connection.driver_connection
    return _SyncDriver(raw) if isinstance(raw, psycopg.AsyncConnection) else raw


def _register_vector(raw: Any) -> None:
    if isinstance(raw, _SyncDriver):
        await_(register_vector_async(raw.connection))
    else:
        pipeline_register(raw)


pipeline_register = pipeline.register_vector

Embed = Callable[..., Awaitable[EmbedSummary]]


@pytest.fixture
def embed(aconn: AsyncConnection, monkeypatch: pytest.MonkeyPatch) -> Embed:
    """Call to bring ``title_embeddings`` up to date in the test transaction (hashing embedder
    unless another is given)."""
    monkeypatch.setattr(pipeline, "_driver", _driver)
    monkeypatch.setattr(pipeline, "register_vector", _register_vector)

    async def run(embedder: Embedder | None = None) -> EmbedSummary:
        model = embedder or HashingEmbedder()
        return await aconn.run_sync(lambda conn: embed_catalog(conn, model))

    return run
