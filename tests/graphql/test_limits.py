"""Query limits: depth, aliases, tokens, page size, cost; and the caches still hit."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.extensions.validation_cache import _get_validate_cache

from server.app import create_app
from server.config import load_settings
from server.graphql.limits import estimate_cost, validation_rules
from server.graphql.schema import schema
from tests.helpers import gql


def _nested(depth: int) -> str:
    # titles > edges > node (3 levels), then node.similar > title pairs add 2 levels each
    inner = "id"
    for _ in range(depth):
        inner = f"similar(first: 1) {{ title {{ {inner} }} }}"
    return f"{{ titles(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


async def test_depth_limit(client: httpx.AsyncClient) -> None:
    ok = await gql(client, _nested(3))  # depth 3 + 2*3 = 9
    assert not any(
        e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in ok.get("errors", [])
    ), ok
    deep = await gql(client, _nested(5))
    assert "data" not in deep
    assert "exceeds maximum operation depth of 10" in deep["errors"][0]["message"]
    assert deep["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_alias_limit(client: httpx.AsyncClient) -> None:
    fifteen = " ".join(f"a{i}: tags(first: 1) {{ name }}" for i in range(15))
    assert "errors" not in await gql(client, f"{{ {fifteen} }}")
    sixteen = fifteen + " a15: tags(first: 1) { name }"
    body = await gql(client, f"{{ {sixteen} }}")
    assert "aliases found" in body["errors"][0]["message"], body


async def test_token_limit(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ " + "__typename " * 2100 + "}")
    assert "data" not in body
    assert "tokens" in body["errors"][0]["message"], body


async def test_page_size_limit(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ titles(first: 501) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "500" in body["errors"][0]["message"]


async def test_cost_limit(client: httpx.AsyncClient) -> None:
    # 500 titles x (1 + 50 similar) = 25,500 > 20,000 by default
    query = (
        "query($n: Int) { titles(first: 500) { edges { node { similar(first: $n) { score } } } } }"
    )
    body = await gql(client, query, {"n": 50})
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cost 25,500 exceeds the maximum 20,000" in body["errors"][0]["message"]
    body = await gql(client, query, {"n": 2})
    assert "cost" not in str(body.get("errors"))


def test_cost_estimate_counts_defaults_fragments_and_nesting() -> None:
    from graphql import parse

    doc = parse(
        "query { titles { ...T } tags(first: 5) { name } title(id: 1) { similar { score } } }"
        " fragment T on TitleConnection { edges { node { similar(first: 3) { score } } } }"
    )
    # titles default 20 x (1 + 3) = 80; tags 5; title.similar default 10
    assert estimate_cost(schema._schema, doc, None, {}) == 80 + 5 + 10


def test_rules_are_built_once() -> None:
    assert validation_rules(10, 15, True) is validation_rules(10, 15, True)
    assert validation_rules(10, 15, True)[0] is validation_rules(10, 15, False)[0]


async def test_validation_cache_hits_with_limits_on(client: httpx.AsyncClient) -> None:
    cache = _get_validate_cache(256)
    query = "query LimitsCacheProbe { tags(first: 3) { name titleCount } }"
    await gql(client, query)
    before = cache.cache_info()
    for _ in range(5):
        await gql(client, query)
    after = cache.cache_info()
    assert after.hits - before.hits == 5
    assert after.misses == before.misses


async def test_introspection_can_be_switched_off(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = load_settings(data_dir=tmp_path, auth="off", introspection="off", graphiql="off")
    app = create_app(settings, session_factory=session_factory)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        body = await gql(http, "{ __schema { types { name } } }")
        assert "introspection" in body["errors"][0]["message"].lower(), body
        assert "errors" not in await gql(http, "{ tags(first: 1) { name } }")
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code != 200 or "graphiql" not in page.text.lower()


async def test_graphiql_page_served_when_on(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


@pytest.mark.parametrize("size", [2_000_000])
async def test_body_size_limit(client: httpx.AsyncClient, size: int) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "' + b" " * size + b'{ __typename }"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
