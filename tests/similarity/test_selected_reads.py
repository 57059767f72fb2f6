"""Resolvers read only what is selected, and answer exactly as when they read everything.

The reference ("read everything") is the read path as it was: every title column, the count
whatever is selected, the explanation of every neighbour, and a title's tags through the tags
loader (a second statement). Each query below runs both ways on the same data; data and
errors must be identical.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.catalog import types as catalog_types
from server.catalog.service import TITLE_COLUMNS
from server.graphql import schema as schema_module
from server.kit.resolving import selection
from server.models.catalog import Title
from server.similarity import types as similarity_types
from tests.helpers import StatementLog, acreate_titles, gql, title_record
from tests.similarity.conftest import Embed

EVERYTHING = catalog_types.TitleReads(frozenset(TITLE_COLUMNS), False)


def read_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_types, "title_reads", lambda selections: EVERYTHING)
    monkeypatch.setattr(schema_module, "title_reads", lambda selections: EVERYTHING)
    monkeypatch.setattr(
        similarity_types, "neighbour_reads", lambda info: (True, frozenset(TITLE_COLUMNS))
    )
    monkeypatch.setattr(
        schema_module, "names", lambda selections: selection.names(selections) | {"totalCount"}
    )


async def _seed(aconn: AsyncConnection, embed: Embed) -> dict[str, int]:
    await acreate_titles(
        aconn,
        *(
            title_record(
                external_id=f"sel{i}",
                name=f"Title {i}",
                kind="SHOW" if i % 3 == 0 else "MOVIE",
                synopsis=None if i == 4 else f"A story number {i} about harbours and storms.",
                seasons=2 if i % 3 == 0 else None,
                duration_minutes=None if i % 3 == 0 else 90 + i,
                genres=["Dramas", "Crime TV Shows"] if i % 2 else ["Comedies"],
                tags=[{"kind": "THEME", "name": f"theme {i % 3}", "weight": 0.5 + i / 100}],
                origin_countries=["US"],
            )
            for i in range(12)
        ),
    )
    await embed()
    rows = await aconn.execute(select(Title.external_id, Title.id))
    return {ext: int(i) for ext, i in rows}


FRAGMENTS = """
fragment Cols on Title { name releaseYear ... on Title { synopsis } }
fragment Explained on SimilarTitle { explanation { facetScores { tags } } }
"""


def _queries(ids: dict[str, int]) -> list[tuple[str, dict[str, Any]]]:
    one, four = ids["sel1"], ids["sel4"]
    return [
        ("query($id: ID!) { title(id: $id) { id name } }", {"id": one}),
        ("query($id: ID!) { title(id: $id) { id name kind genres } }", {"id": one}),
        (
            "query($id: ID!) { title(id: $id) { ...Cols tags { kind name weight } } }" + FRAGMENTS,
            {"id": four},
        ),
        (
            "query($id: ID!, $x: Boolean!) { a: title(id: $id) { n: name } b: title(id: $id) {"
            " genres seasons @include(if: $x) durationMinutes @skip(if: $x) } }",
            {"id": one, "x": True},
        ),
        ('{ title(id: "999999999") { id tags { name } } }', {}),
        ('{ title(id: "abc") { id } }', {}),
        ('{ titleByExternalId(externalId: "sel3") { id externalId genres cast } }', {}),
        ('{ titleByExternalId(externalId: "none") { id genres } }', {}),
        ("{ titles(first: 3) { edges { node { id name } } } }", {}),
        ("{ titles(first: 3) { totalCount edges { cursor node { ...Cols } } } }" + FRAGMENTS, {}),
        (
            '{ titles(first: 4, filter: {genres: ["Dramas"]}) { pageInfo { hasNextPage '
            "endCursor } edges { node { id genres tags { name } originCountries { code } } } } }",
            {},
        ),
        (
            "{ a: titles(first: 2) { totalCount } b: titles(first: 5, filter: {kind: SHOW}) {"
            " ... on TitleConnection { totalCount edges { node { kind seasons } } } } }",
            {},
        ),
        ("{ titles(first: 0) { totalCount edges { node { id } } } }", {}),
        ('{ titles(first: 2, after: "nonsense") { totalCount } }', {}),
        (
            "query($id: ID!) { similarTitles(titleId: $id, first: 4) { score title { id name } } }",
            {"id": one},
        ),
        (
            "query($id: ID!) { similarTitles(titleId: $id, first: 4) { score ...Explained "
            "explanation { sharedTags { kind name weight } } title { ...Cols } } }" + FRAGMENTS,
            {"id": one},
        ),
        (
            "query($id: ID!, $x: Boolean!) { similarTitles(titleId: $id, first: 3) { score "
            "explanation @include(if: $x) { facetScores { synopsis metadata } } } }",
            {"id": four, "x": False},
        ),
        ('{ similarTitles(titleId: "999999999") { score } }', {}),
        (
            "query($id: ID!) { title(id: $id) { similar(first: 2) { score title { name } }"
            " s2: similar(first: 3) { explanation { sharedTags { name } } } } }",
            {"id": one},
        ),
        (
            "{ titles(first: 3) { edges { node { name similar(first: 2) { title { id } } } } } }",
            {},
        ),
    ]


async def test_same_data_and_errors_as_reading_everything(
    client: httpx.AsyncClient,
    aconn: AsyncConnection,
    embed: Embed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = await _seed(aconn, embed)
    lean = [await gql(client, query, variables) for query, variables in _queries(ids)]
    read_everything(monkeypatch)
    full = [await gql(client, query, variables) for query, variables in _queries(ids)]
    for (query, _), a, b in zip(_queries(ids), lean, full, strict=True):
        assert a == b, query
    # the queries are not vacuous: data, nulls and errors of several kinds
    assert sum("errors" in body for body in lean) >= 3
    assert sum(bool(body.get("data")) for body in lean) >= 15


async def test_only_what_is_selected_is_read(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed, statements: StatementLog
) -> None:
    ids = await _seed(aconn, embed)

    async def sql_of(query: str, variables: dict[str, Any] | None = None) -> str:
        statements.clear()
        body = await gql(client, query, variables)
        assert body.get("errors") is None, body
        return "\n".join(statements).lower()

    page = await sql_of("{ titles(first: 3) { edges { node { id name } } } }")
    assert "count(" not in page
    assert "synopsis" not in page
    assert "count(" in await sql_of("{ titles(first: 3) { totalCount } }")

    one = await sql_of(
        "query($id: ID!) { title(id: $id) { name genres tags { kind } } }", {"id": ids["sel1"]}
    )
    assert len(statements) == 1
    assert "json_agg" in one or "string_agg" in one  # the tags, in the same statement

    lean = await sql_of(
        "query($id: ID!) { similarTitles(titleId: $id) { score title { name } } }",
        {"id": ids["sel1"]},
    )
    assert "<=>" not in lean  # no facet cosines
    assert "theirs" not in lean  # no shared tags (the compiled path's JSON is a json_agg)
    assert "synopsis" not in lean.split("from")[0]
    explained = await sql_of(
        "query($id: ID!) { similarTitles(titleId: $id) { explanation { facetScores { tags } } } }",
        {"id": ids["sel1"]},
    )
    assert "<=>" in explained
    assert "json_agg" in explained
