"""The compiled paths' JSON text goes to the response as Postgres wrote it (``EncodedJson``,
spliced by ``replies.encode``): it must be exactly the text the HTTP layer writes for the
executor's data, byte for byte (compact separators, ASCII escapes, floats as Python writes
them), for every compiled query of tests/graphql/test_compiled.py."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.config import Settings
from server.graphql.encoded import EncodedJson, ascii_json
from server.graphql.replies import encode
from tests.graphql.test_compiled import COMPILED, _answer, _random_query, _variables, run_query
from tests.graphql.test_compiled import catalog as catalog_fixture  # noqa: F401 (a fixture)


async def encoded_text(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    query: str,
    variables: dict[str, Any],
) -> str:
    """The compiled path's data as the HTTP layer gets it: ``EncodedJson``'s text."""
    result = await run_query(settings, sessions, query, variables, compiled=True, encoded=True)
    assert not result.errors, result.errors
    data: Any = result.data
    assert isinstance(data, EncodedJson), query
    return data.text


def executor_text(answer: tuple[str, list[Any]]) -> str:
    """The executor's data as the HTTP layer encodes it."""
    return json.dumps(json.loads(answer[0]), separators=(",", ":"))


async def assert_same_text(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    query: str,
    variables: dict[str, Any],
) -> None:
    expected = executor_text(await _answer(settings, sessions, query, variables, compiled=False))
    got = await encoded_text(settings, sessions, query, variables)
    assert got == expected, query
    # and the reply encoder splices it where the data goes
    body = {"data": EncodedJson(got), "extensions": {"x": 1}}
    assert encode(body) == encode({"data": json.loads(got), "extensions": {"x": 1}})


async def assert_compiled_as_executor(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    executed: list[str],
    query: str,
    variables: dict[str, Any],
) -> str:
    """The executor's data (JSON text) for ``query``, once the compiled path answered it
    without falling back, with the same data and errors, and the same HTTP body's text."""
    expected = await _answer(settings, sessions, query, variables, compiled=False)
    assert executed == ["executor"], query
    executed.clear()
    got = await _answer(settings, sessions, query, variables, compiled=True)
    assert executed == [], query  # answered by the compiled path
    assert got == expected, query
    assert not expected[1], (query, expected)
    await assert_same_text(settings, sessions, query, variables)
    executed.clear()
    return expected[0]


@pytest.mark.parametrize(("query", "variables"), COMPILED)
async def test_encoded_text_is_the_executors(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog_fixture: dict[str, Any],  # noqa: F811 (the imported fixture)
    query: str,
    variables: dict[str, Any],
) -> None:
    await assert_same_text(settings, session_factory, query, _variables(variables, catalog_fixture))


async def test_random_encoded_texts_are_the_executors(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog_fixture: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    rng = random.Random(16)
    for _ in range(40):
        await assert_same_text(settings, session_factory, _random_query(rng, catalog_fixture), {})


def test_ascii_json_escapes_as_json_dumps() -> None:
    for text in ["plain", "é", "ünï\u2028code", "emoji \U0001f600!", "\x7f\u0080\uffff"]:
        assert ascii_json(json.dumps(text, ensure_ascii=False)) == json.dumps(text)
