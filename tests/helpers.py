"""Typed helpers that create fixtures through the real merge path."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalog.ingest import merge_titles, validate_rows
from server.catalog.records import RecordValidator
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
