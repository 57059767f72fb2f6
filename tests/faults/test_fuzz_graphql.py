"""Property-based fuzzing of GraphQL variables: whatever the client sends, never a 500 or an
unexpected (masked) error, and a rejected upsert never writes anything."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.models.catalog import Title

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "0", "-1", "1e309", "MOVIE", "SHOW", "KR", "\x00", "é" * 70])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _filters() -> st.SearchStrategy[Any]:
    keys = st.sampled_from(
        ["kind", "genres", "originCountries", "releaseYearMin", "releaseYearMax", "text", "bogus"]
    )
    return st.none() | json_values | st.dictionaries(keys, json_values, max_size=4)


def _title_inputs() -> st.SearchStrategy[Any]:
    fields = st.sampled_from(
        [
            "externalId",
            "kind",
            "name",
            "synopsis",
            "releaseYear",
            "durationMinutes",
            "seasons",
            "originalLanguage",
            "genres",
            "tags",
            "cast",
            "originCountries",
            "x",
        ]
    )
    item = st.dictionaries(fields, json_values, max_size=8) | st.fixed_dictionaries(
        {
            "externalId": st.text(max_size=70),
            "kind": st.sampled_from(["MOVIE", "SHOW", "X"]),
            "name": st.text(max_size=30),
        },
        optional={
            "releaseYear": json_values,
            "durationMinutes": json_values,
            "seasons": json_values,
            "tags": json_values,
        },
    )
    return st.lists(item, max_size=4) | json_values


OPERATIONS = {
    "titles": (
        "query($first: Int, $after: String, $filter: TitleFilter) {"
        " titles(first: $first, after: $after, filter: $filter) {"
        " totalCount edges { node { id } } } }",
        {"first": json_values, "after": json_values, "filter": _filters()},
    ),
    "title": ("query($id: ID!) { title(id: $id) { id name } }", {"id": json_values}),
    "similar": (
        "query($id: ID!, $first: Int, $w: FacetWeightsInput, $filter: TitleFilter) {"
        " similarTitles(titleId: $id, first: $first, weights: $w, filter: $filter) { score } }",
        {"id": json_values, "first": json_values, "w": json_values, "filter": _filters()},
    ),
    "search": (
        "query($q: String!, $mode: SearchMode, $first: Int) {"
        " searchTitles(query: $q, mode: $mode, first: $first) { score } }",
        {"q": json_values, "mode": json_values, "first": json_values},
    ),
    "tags": (
        "query($kind: TagKind, $first: Int) { tags(kind: $kind, first: $first) { name } }",
        {"kind": json_values, "first": json_values},
    ),
    "microGenres": (
        "query($first: Int, $after: String, $min: Int) {"
        " microGenres(first: $first, after: $after, minSize: $min) { totalCount } }",
        {"first": json_values, "after": json_values, "min": json_values},
    ),
    "upsert": (
        "mutation($input: [TitleInput!]!) { upsertTitles(input: $input) {"
        " inserted updated errors { index field message } } }",
        {"input": _title_inputs()},
    ),
}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(OPERATIONS)))
    query, variables = OPERATIONS[name]
    chosen = {k: draw(v) for k, v in variables.items() if draw(st.booleans())}
    return name, query, chosen


async def _titles(aconn: AsyncConnection) -> int:
    return int((await aconn.execute(select(func.count(Title.id)))).scalar_one())


@FUZZ
@given(request=requests())
async def test_fuzzed_variables_never_break_the_server(
    client: httpx.AsyncClient, aconn: AsyncConnection, request: tuple[str, str, dict[str, Any]]
) -> None:
    name, query, variables = request
    before = await _titles(aconn)
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (200, 400), response.text
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    assert None not in codes, body
    after = await _titles(aconn)
    if name == "upsert":
        payload = (body.get("data") or {}).get("upsertTitles")
        if payload is None or payload["errors"]:
            assert after == before, body  # rejected: nothing written
        else:
            assert after == before + payload["inserted"]
    else:
        assert after == before
