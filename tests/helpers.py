"""Typed helpers that create fixtures through the real merge path."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from server.app import create_app
from server.catalog.ingest import merge_titles, validate_rows
from server.catalog.records import RecordValidator
from server.config import Settings
from server.ingest.rows import RawRow

_counter = 0


def title_record(**overrides: Any) -> dict[str, Any]:
    """A valid canonical record; every field can be overridden."""
    global _counter
    _counter += 1
    record: dict[str, Any] = {
        "external_id": f"t{_counter}",
        "kind": "MOVIE",
        "name": f"Test Title {_counter}",
        "synopsis": "A retired detective returns for one last case in a rain-soaked city.",
        "release_year": 2019,
        "date_added": "2021-01-15",
        "maturity_rating": "TV-MA",
        "duration_minutes": 101,
        "original_language": "en",
        "genres": ["Dramas", "Thrillers"],
        "tags": [{"kind": "MOOD", "name": "dark", "weight": 0.8}],
        "cast": ["Ana Rivera", "Tom Baker"],
        "directors": ["Jo Kim"],
        "origin_countries": ["US"],
    }
    record.update(overrides)
    return record


def create_titles(conn: Connection, *records: dict[str, Any]) -> tuple[int, int, int]:
    """Validate and merge records on a sync connection (COPY path)."""
    batch = validate_rows((RawRow(i, r) for i, r in enumerate(records, start=1)), RecordValidator())
    assert not batch.rejected, batch.rejected
    return merge_titles(conn, batch.titles, use_copy=True)


async def acreate_titles(aconn: AsyncConnection, *records: dict[str, Any]) -> tuple[int, int, int]:
    """Validate and merge records on an async connection (executemany path)."""
    batch = validate_rows((RawRow(i, r) for i, r in enumerate(records, start=1)), RecordValidator())
    assert not batch.rejected, batch.rejected
    titles = batch.titles
    return await aconn.run_sync(lambda c: merge_titles(c, titles, use_copy=False))


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a GraphQL request; return the decoded body (data and errors)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def count_awaits(monkeypatch: Any, owner: Any, name: str) -> list[tuple[Any, ...]]:
    """Replace the coroutine function ``owner.name`` by one that records each call's
    arguments in the returned list, then awaits the original."""
    calls: list[tuple[Any, ...]] = []
    original = getattr(owner, name)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


@contextlib.asynccontextmanager
async def api_client(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app built from ``settings``, in process (httpx's ASGI transport),
    its sessions from ``session_factory`` (the test's rolled-back transaction)."""
    app = create_app(settings, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


class StatementLog(list[str]):
    """The SQL statements sent on the test's connection, without the savepoint bookkeeping of
    the rolled-back test transaction. The N+1 proofs run one query at two page sizes and
    compare how many statements each sent."""

    def record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.append(statement)


def charting_catalog(conn: Connection, catalog: Path, charts: Path) -> None:
    """The catalog file and the country charts, then only the titles that charted: what the
    real-data tests of the forecaster and the comparables embed (embedding only those keeps
    them short)."""
    from server.audiences.ingest import ingest_viewing_file
    from server.catalog.ingest import ingest_catalog_file

    ingest_catalog_file(conn, catalog, fmt="netflix-csv")
    ingest_viewing_file(conn, charts, "top10-countries")
    conn.execute(
        text(
            "DELETE FROM titles WHERE id NOT IN "
            "(SELECT title_id FROM top10_country_weeks WHERE title_id IS NOT NULL)"
        )
    )
