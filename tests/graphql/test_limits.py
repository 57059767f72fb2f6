"""Query limits: depth, aliases, tokens, page size, cost; and the caches still hit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.app import create_app
from server.config import load_settings
from server.graphql.limits import estimate_cost, validation_rules
from server.graphql.schema import schema
from tests.faults.shapes import fan_out
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


def test_cost_estimate_is_kept_only_when_no_variable_sizes_a_list() -> None:
    from graphql import parse

    constant = parse("query($id: ID!) { similarTitles(titleId: $id, first: 7) { score } }")
    sized = parse("query($n: Int) { titles(first: $n) { edges { node { id } } } }")
    for _ in range(2):  # the second time from what was kept
        assert estimate_cost(schema._schema, constant, None, {"id": "1"}) == 7
        assert estimate_cost(schema._schema, constant, None, {"id": "2"}) == 7
        assert estimate_cost(schema._schema, sized, None, {"n": 3}) == 3
        assert estimate_cost(schema._schema, sized, None, {"n": 40}) == 40
        assert estimate_cost(schema._schema, sized, None, {}) == 20  # its default


def test_rules_are_built_once() -> None:
    assert validation_rules(10, 15, True) is validation_rules(10, 15, True)
    assert validation_rules(10, 15, True)[0] is validation_rules(10, 15, False)[0]


async def test_validation_cache_hits_with_limits_on(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.graphql import documents

    validations: list[object] = []
    real = documents.validate_document

    def counted(*args: Any) -> Any:
        validations.append(args[1])
        return real(*args)

    monkeypatch.setattr(documents, "validate_document", counted)
    query = "query LimitsCacheProbe { tags(first: 3) { name titleCount } }"
    for _ in range(6):
        assert "errors" not in await gql(client, query)
    assert len(validations) <= 1  # validated once (or not at all when already cached)


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


def _fan_out(n: int) -> str:
    return "query { ...F0 } " + fan_out(n)


def test_shapes_are_measured_once_per_fragment() -> None:
    """2^200 fields are counted exactly: only memoised arithmetic could do it in a test."""
    from graphql import parse

    from server.graphql.limits import Shape, document_shapes

    shapes = document_shapes(parse(_fan_out(200)))
    assert shapes == {"anonymous": Shape(depth=0, aliases=0, fields=2**200)}


async def test_fragment_fan_out_is_refused_by_the_expanded_field_cap(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, _fan_out(22))
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "4,194,304 fields" in body["errors"][0]["message"]
    assert "errors" not in await gql(client, _fan_out(10))  # 1,024 fields


def test_every_list_field_has_a_size_for_the_cost() -> None:
    from server.graphql.limits import unsized_list_fields

    assert unsized_list_fields(schema._schema) == []


def test_lists_without_first_multiply_by_their_bound() -> None:
    from graphql import parse

    nested = parse(
        "{ regions { similarRegions(first: 100) { region { similarRegions(first: 100) "
        "{ region { code } } } } } }"
    )
    assert estimate_cost(schema._schema, nested, None, {}) == 94 * (1 + 100 * (1 + 100))
    flat = parse("{ titles(first: 500) { edges { node { tags { name } cast } } } }")
    assert estimate_cost(schema._schema, flat, None, {}) == 500 * (1 + 1 + 1)


def test_region_bound_matches_the_database(engine: Any) -> None:
    from sqlalchemy import text

    from server.graphql.limits import REGION_COUNT

    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM regions")) == REGION_COUNT


async def test_parse_errors_carry_a_code(client: httpx.AsyncClient) -> None:
    for query in ("{ tags(first: 1) { name }", "{ " + "__typename " * 2100 + "}"):
        body = await gql(client, query)
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", body
    body = await gql(client, "#" + "c" * 100_001 + "\n{ __typename }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", body
    assert "send large values as variables" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (
            "query($f: TitleFilter) { titles(filter: $f) { totalCount } }",
            {"f": {"text": "\x00"}},
            "f",
        ),
        ("query($q: String!) { searchTitles(query: $q) { score } }", {"q": "\udcff"}, "q"),
        (
            "query($f: TitleFilter) { similarTitles(titleId: 1, filter: $f) { score } }",
            {"f": {"genres": ["ok", "a\x00"]}},
            "f",
        ),
        ("query($e: String!) { titleByExternalId(externalId: $e) { name } }", {"e": "s1\x00"}, "e"),
        (
            "query($d: DraftTitleInput) { forecast(draft: $d) { titleId } }",
            {"d": {"name": "x\udc00", "kind": "MOVIE"}},
            "d",
        ),
    ],
)
async def test_strings_postgres_cannot_take_are_bad_user_input(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], field: str
) -> None:
    # json.dumps escapes a lone surrogate as "\\udcff", as a client's JSON would carry it
    payload = json.dumps({"query": query, "variables": variables}).encode()
    response = await client.post(
        "/graphql", content=payload, headers={"Content-Type": "application/json"}
    )
    body = response.json()
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, body
    assert "NUL" in error["message"] or "surrogate" in error["message"]


async def test_string_literals_postgres_cannot_take_are_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, '{ titleByExternalId(externalId: "s1\\u0000") { name } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


@pytest.mark.parametrize("text", ["drama " + "-" * 400 + "x", "a " + "- " * 200 + "b", "--"])
async def test_runs_of_negations_in_full_text_are_fine(
    client: httpx.AsyncClient, text: str
) -> None:
    body = await gql(
        client,
        "query($q: String!, $f: TitleFilter) { searchTitles(query: $q, mode: KEYWORD) { score }"
        " titles(filter: $f) { totalCount } }",
        {"q": text, "f": {"text": text}},
    )
    assert "errors" not in body, body
