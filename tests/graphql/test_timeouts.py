"""A request's execution has a wall-time bound (awaited work and Python work alike), and a
response a size bound; past either the request ends with one coded error."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.catalog import service as catalog
from server.config import load_settings
from server.models.catalog import TagKind
from tests.helpers import api_client, gql


async def _client(
    tmp_path: Path, factory: async_sessionmaker[AsyncSession], **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(data_dir=tmp_path, auth="off", database_url=None, **overrides)
    async with api_client(settings, factory) as http:
        yield http


@pytest.fixture
async def hasty(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(tmp_path, session_factory, execution_timeout_ms=300):
        yield http


def _tags(n: int) -> list[catalog.TagCount]:
    return [catalog.TagCount(TagKind.GENRE, f"genre {i}", i) for i in range(n)]


async def test_awaited_work_past_the_deadline_ends_with_timeout(
    hasty: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow(*args: Any) -> list[catalog.TagCount]:
        await asyncio.sleep(2)
        return _tags(3)

    monkeypatch.setattr(catalog, "tag_counts", slow)
    started = time.perf_counter()
    body, typename = await asyncio.gather(
        gql(hasty, "{ tags { name } }"), gql(hasty, "{ __typename }")
    )
    assert time.perf_counter() - started < 1.5  # not the 2 s the work takes
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TIMEOUT"], body
    assert "300 ms" in body["errors"][0]["message"]
    assert typename == {"data": {"__typename": "Query"}}


async def test_python_work_past_the_deadline_ends_with_timeout(
    hasty: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work that never yields to the event loop cannot be cancelled; the executor checks the
    deadline for every object it completes, so the rest of the response is not built."""

    async def blocking(*args: Any) -> list[catalog.TagCount]:
        time.sleep(0.5)  # stands for CPU-bound Python: no await, no cancellation
        return _tags(50)

    monkeypatch.setattr(catalog, "tag_counts", blocking)
    body = await gql(hasty, "{ tags(first: 50) { name titleCount } }")
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TIMEOUT"], body


async def test_work_within_the_deadline_is_untouched(
    hasty: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def quick(*args: Any) -> list[catalog.TagCount]:
        return _tags(50)

    monkeypatch.setattr(catalog, "tag_counts", quick)
    body = await gql(hasty, "{ tags(first: 50) { name } }")
    assert len(body["data"]["tags"]) == 50


async def test_a_response_over_the_size_cap_is_refused(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async for http in _client(tmp_path, session_factory, max_response_bytes=2048):
        body = await gql(http, "{ __schema { types { name description } } }")
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"
        assert "2,048" in body["errors"][0]["message"]
        assert "errors" not in await gql(http, "{ __typename }")
