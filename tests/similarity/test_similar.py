"""similarTitles and Title.similar over HTTP, on small catalogs embedded by the hashing embedder."""

from __future__ import annotations

import math
import random
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.tuning import EF_SEARCH
from server.embeddings.facets import DEFAULT_WEIGHTS, FacetWeights, combined_vector, weighted_query
from server.models.catalog import Title
from server.models.dims import METADATA_DIM, PEOPLE_DIM, SYNOPSIS_DIM, TAGS_DIM
from server.models.embeddings import TitleEmbedding
from server.similarity import service
from tests.helpers import StatementLog, acreate_titles, gql, title_record
from tests.similarity.conftest import Embed

SIMILAR = """query($id: ID!, $first: Int, $filter: TitleFilter, $weights: FacetWeightsInput) {
  similarTitles(titleId: $id, first: $first, filter: $filter, weights: $weights) {
    score
    title { id externalId kind originCountries { code } }
    explanation {
      sharedTags { kind name weight }
      sharedPeople { name roles weight }
      facetScores { synopsis tags metadata people }
    }
  } }"""


async def _id(aconn: AsyncConnection, external_id: str) -> int:
    return int(
        (await aconn.execute(select(Title.id).where(Title.external_id == external_id))).scalar_one()
    )


async def _similar(
    client: httpx.AsyncClient, title_id: int | str, **variables: Any
) -> list[dict[str, Any]]:
    body = await gql(client, SIMILAR, {"id": str(title_id), **variables})
    assert body.get("errors") is None, body
    result: list[dict[str, Any]] = body["data"]["similarTitles"]
    return result


def _error(body: dict[str, Any]) -> tuple[str, str]:
    error = body["errors"][0]
    return error["extensions"]["code"], error["message"]


# Source "sim-src" and three candidates built so that each facet alone picks a different one.
SOURCE = title_record(
    external_id="sim-src",
    kind="SHOW",
    name="Harbour Lights",
    synopsis="A lighthouse keeper and her daughter uncover smugglers on a stormy island coast.",
    release_year=2019,
    duration_minutes=None,
    seasons=2,
    genres=["British TV Shows", "Crime TV Shows"],
    tags=[
        {"kind": "MOOD", "name": "brooding", "weight": 0.9},
        {"kind": "SETTING", "name": "island", "weight": 0.6},
    ],
    origin_countries=["GB"],
    original_language="en",
    maturity_rating="TV-14",
    cast=["Mara Quill", "Ana Rivera"],
    directors=["Ivo Stern"],
)
SAME_PEOPLE = title_record(  # the source's director and lead, nothing else shared
    external_id="sim-people",
    kind="MOVIE",
    name="Salt Flats",
    synopsis="A chess prodigy hustles tourists in the casinos of Macau.",
    release_year=1962,
    duration_minutes=180,
    genres=["Documentaries"],
    tags=[{"kind": "MOOD", "name": "upbeat", "weight": 0.4}],
    origin_countries=["BR"],
    original_language="pt",
    maturity_rating="PG",
    cast=["Mara Quill", "Joao Lima"],
    directors=["Ivo Stern"],
)
SAME_TAGS = title_record(  # same tags, unrelated synopsis and metadata
    external_id="sim-tags",
    kind="MOVIE",
    name="Dust Road",
    synopsis="Two rodeo cousins drive a stolen truck across the desert to a wedding in Reno.",
    release_year=1978,
    duration_minutes=140,
    genres=["British TV Shows", "Crime TV Shows"],
    tags=[
        {"kind": "MOOD", "name": "brooding", "weight": 0.5},
        {"kind": "SETTING", "name": "island", "weight": 1.0},
    ],
    origin_countries=["MX"],
    original_language="es",
    maturity_rating="R",
    cast=["Ana Rivera", "Pablo Ruiz"],
    directors=["Lena Orr"],
)
SAME_SYNOPSIS = title_record(  # near-identical synopsis, other tags and metadata
    external_id="sim-synopsis",
    kind="MOVIE",
    name="Keeper",
    synopsis="A lighthouse keeper and her son uncover smugglers on a stormy island coast.",
    release_year=1985,
    duration_minutes=95,
    genres=["Children & Family Movies"],
    tags=[{"kind": "MOOD", "name": "cheerful", "weight": 0.8}],
    origin_countries=["JP"],
    original_language="ja",
    maturity_rating="G",
    cast=["Kenji Mori"],
    directors=["Lena Orr"],
)
SAME_METADATA = title_record(  # same kind, year, country, language, rating; nothing else shared
    external_id="sim-meta",
    kind="SHOW",
    name="Office Hours",
    synopsis="Accountants compete in a baking contest during tax season in Leeds.",
    release_year=2019,
    duration_minutes=None,
    seasons=2,
    genres=["Stand-Up Comedy"],
    tags=[{"kind": "MOOD", "name": "silly", "weight": 0.7}],
    origin_countries=["GB"],
    original_language="en",
    maturity_rating="TV-14",
    cast=["Ana Rivera", "Pablo Ruiz"],
    directors=[],
)


@pytest.fixture
async def facets_catalog(aconn: AsyncConnection, embed: Embed) -> int:
    await acreate_titles(aconn, SOURCE, SAME_TAGS, SAME_SYNOPSIS, SAME_METADATA, SAME_PEOPLE)
    await embed()
    return await _id(aconn, "sim-src")


async def test_similar_titles_never_returns_itself_and_scores_are_weighted_means(
    client: httpx.AsyncClient, facets_catalog: int
) -> None:
    for weights in (None, {"synopsis": 1, "tags": 2, "metadata": 0, "people": 1.5}):
        rows = await _similar(client, facets_catalog, first=50, weights=weights)
        assert rows, "the three other titles are candidates"
        assert str(facets_catalog) not in {r["title"]["id"] for r in rows}
        scores = [r["score"] for r in rows]
        assert scores == sorted(scores, reverse=True)
        w = FacetWeights(**weights) if weights else DEFAULT_WEIGHTS
        for row in rows:
            facets = row["explanation"]["facetScores"]
            assert all(-1 <= v <= 1 for v in [row["score"], *facets.values()])
            mean = (
                w.synopsis * facets["synopsis"]
                + w.tags * facets["tags"]
                + w.metadata * facets["metadata"]
                + w.people * facets["people"]
            ) / w.total
            assert row["score"] == pytest.approx(mean, abs=1e-5)


async def test_score_is_the_inner_product_with_the_weighted_query(
    client: httpx.AsyncClient, aconn: AsyncConnection, facets_catalog: int
) -> None:
    weights = FacetWeights(synopsis=0.2, tags=0.7, metadata=0.1, people=0.3)
    rows = await _similar(client, facets_catalog, weights=weights.as_dict())
    ids = [facets_catalog, *(int(r["title"]["id"]) for r in rows)]
    result = await aconn.execute(
        select(
            TitleEmbedding.title_id,
            TitleEmbedding.synopsis,
            TitleEmbedding.tags,
            TitleEmbedding.metadata_,
            TitleEmbedding.people,
            TitleEmbedding.combined,
        ).where(TitleEmbedding.title_id.in_(ids))
    )
    vectors = {row.title_id: row for row in result}
    src = vectors[facets_catalog]
    query = weighted_query(
        np.asarray(src.synopsis, dtype=np.float32),
        np.asarray(src.tags, dtype=np.float32),
        np.asarray(src.metadata, dtype=np.float32),
        np.asarray(src.people, dtype=np.float32),
        weights,
    )
    for row in rows:
        combined = np.asarray(vectors[int(row["title"]["id"])].combined, dtype=np.float32)
        assert row["score"] == pytest.approx(float(query @ combined), abs=1e-5)


def test_weight_scale_turns_combined_into_the_weighted_query() -> None:
    rng = np.random.default_rng(7)

    def unit(dim: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        v = rng.standard_normal(dim).astype(np.float32)
        return v / np.linalg.norm(v)

    s, t, m, p = unit(SYNOPSIS_DIM), unit(TAGS_DIM), unit(METADATA_DIM), unit(PEOPLE_DIM)
    for weights in (
        DEFAULT_WEIGHTS,
        FacetWeights(0, 1, 0),
        FacetWeights(2, 0.5, 3),
        FacetWeights(0, 0, 0, 1),
        FacetWeights(1, 1, 1, 1),
    ):
        np.testing.assert_allclose(
            combined_vector(s, t, m, p) * service.weight_scale(weights),
            weighted_query(s, t, m, p, weights),
            atol=1e-6,
        )


async def test_weights_change_the_ranking(client: httpx.AsyncClient, facets_catalog: int) -> None:
    async def top(weights: dict[str, float]) -> str:
        rows = await _similar(client, facets_catalog, first=1, weights=weights)
        return str(rows[0]["title"]["externalId"])

    assert await top({"synopsis": 0, "tags": 1, "metadata": 0}) == "sim-tags"
    assert await top({"synopsis": 1, "tags": 0, "metadata": 0}) == "sim-synopsis"
    assert await top({"synopsis": 0, "tags": 0, "metadata": 1}) == "sim-meta"
    assert await top({"synopsis": 0, "tags": 0, "metadata": 0, "people": 1}) == "sim-people"


async def test_explanation_lists_shared_people_rarest_first(
    client: httpx.AsyncClient, facets_catalog: int
) -> None:
    """Five titles: Ivo Stern and Mara Quill are credited on two (idf log(5/2)), Ana Rivera on
    three (log(5/3)); the other names on one title cannot be shared."""
    rows = await _similar(client, facets_catalog, first=50)
    by_ext = {r["title"]["externalId"]: r["explanation"] for r in rows}
    rare, common = math.log(5 / 2), math.log(5 / 3)
    assert by_ext["sim-people"]["sharedPeople"] == [
        {"name": "Ivo Stern", "roles": ["DIRECTOR"], "weight": pytest.approx(rare)},
        {"name": "Mara Quill", "roles": ["CAST"], "weight": pytest.approx(rare)},
    ]
    assert by_ext["sim-meta"]["sharedPeople"] == [
        {"name": "Ana Rivera", "roles": ["CAST"], "weight": pytest.approx(common)}
    ]
    assert by_ext["sim-synopsis"]["sharedPeople"] == []
    people = {ext: e["facetScores"]["people"] for ext, e in by_ext.items()}
    # sim-synopsis shares nobody with the source: only random-projection noise is left
    assert abs(people["sim-synopsis"]) < 0.15
    assert people["sim-people"] > 0.8 > people["sim-meta"]


async def test_explanation_lists_shared_tags(
    client: httpx.AsyncClient, facets_catalog: int
) -> None:
    rows = await _similar(client, facets_catalog, first=50)
    by_ext = {r["title"]["externalId"]: r["explanation"] for r in rows}
    assert by_ext["sim-tags"]["sharedTags"] == [
        {"kind": "GENRE", "name": "British TV Shows", "weight": 1.0},
        {"kind": "GENRE", "name": "Crime TV Shows", "weight": 1.0},
        {"kind": "SETTING", "name": "island", "weight": pytest.approx(0.6)},
        {"kind": "MOOD", "name": "brooding", "weight": pytest.approx(0.5)},
    ]
    assert by_ext["sim-synopsis"]["sharedTags"] == []
    assert by_ext["sim-tags"]["facetScores"]["tags"] > 0.9
    assert by_ext["sim-synopsis"]["facetScores"]["synopsis"] > 0.8


async def test_filters_fill_the_page_through_iterative_index_scans(
    client: httpx.AsyncClient,
    aconn: AsyncConnection,
    embed: Embed,
) -> None:
    """300 titles, 12 from Iceland, 3 Icelandic shows: filtered pages hold the matches.

    The planner answers a very selective filter exactly (filter, then sort): every match comes
    back. With sorts disabled it must walk the HNSW index instead, where only the iterative
    scan keeps going past the first ef_search candidates (a control run with iterative scans
    off comes back short). HNSW stays approximate: in this session's index, full of entries
    left by rolled-back tests, a node can be unreachable, so the index path is asked to fill
    the page (10 of 12), not to find every match.
    """
    rng = random.Random(11)
    words = "storm harbour crime family secret love war space robot chef music island".split()
    records = [
        title_record(
            external_id=f"it-{i}",
            name=f"Iterative {i}",
            synopsis=" ".join(rng.choices(words, k=8)),
            kind="SHOW" if i % 4 == 0 else "MOVIE",
            duration_minutes=None if i % 4 == 0 else 100,
            seasons=1 if i % 4 == 0 else None,
            origin_countries=["IS"] if i % 25 == 0 else ["US"],
            genres=[rng.choice(["Dramas", "Comedies", "Thrillers"])],
        )
        for i in range(300)
    ]
    await acreate_titles(aconn, *records)
    await embed()
    source = await _id(aconn, "it-1")
    iceland = {"originCountries": ["IS"]}

    async def fills_the_page() -> None:
        rows = await _similar(client, source, first=10, filter=iceland)
        assert len(rows) == 10
        assert all(r["title"]["originCountries"] == [{"code": "IS"}] for r in rows)
        scores = [r["score"] for r in rows]
        assert scores == sorted(scores, reverse=True)  # re-sorted after the relaxed-order scan

    await fills_the_page()
    rows = await _similar(
        client, source, first=10, filter={"originCountries": ["IS"], "kind": "SHOW"}
    )
    assert sorted(r["title"]["externalId"] for r in rows) == ["it-0", "it-100", "it-200"]

    await aconn.execute(text("SET LOCAL enable_sort = off"))  # force the HNSW index path
    await fills_the_page()
    # a page deeper than the candidate list (ef_search) fills too: the scan keeps walking
    deep = EF_SEARCH + 50
    assert len(await _similar(client, source, first=deep)) == deep
    # The connection-level defaults (server.db.tuning) are what makes the pages fill.
    await aconn.execute(text("SET LOCAL hnsw.iterative_scan = off"))
    await aconn.execute(text("SET LOCAL hnsw.ef_search = 40"))
    rows = await _similar(client, source, first=10, filter=iceland)
    assert len(rows) < 10, "without iterative scans the index path loses filtered rows"
    assert len(await _similar(client, source, first=deep)) < deep


async def test_validation_and_not_found_errors(
    client: httpx.AsyncClient, aconn: AsyncConnection, facets_catalog: int
) -> None:
    async def call(title_id: object, **variables: Any) -> tuple[str, str]:
        body = await gql(client, SIMILAR, {"id": title_id, **variables})
        assert body["data"] is None
        return _error(body)

    code, message = await call(facets_catalog, weights={"synopsis": -1})
    assert code == "BAD_USER_INPUT"
    assert ">= 0" in message
    code, message = await call(facets_catalog, weights={"synopsis": 0, "tags": 0, "metadata": 0})
    assert code == "BAD_USER_INPUT"
    assert "at least one" in message
    for first in (0, 501):
        assert (await call(facets_catalog, first=first))[0] == "BAD_USER_INPUT"
    assert (await call("abc"))[0] == "BAD_USER_INPUT"
    assert (await call("-3"))[0] == "BAD_USER_INPUT"
    code, message = await call("987654321")
    assert code == "NOT_FOUND"
    assert "no title" in message

    await acreate_titles(aconn, title_record(external_id="sim-unembedded"))
    code, message = await call(await _id(aconn, "sim-unembedded"))
    assert code == "NOT_FOUND"
    assert "contentintel embed" in message


async def test_title_similar_matches_similar_titles(
    client: httpx.AsyncClient, facets_catalog: int
) -> None:
    body = await gql(
        client,
        """query($id: ID!) {
          title(id: $id) { similar(first: 2) { score title { externalId } } }
          similarTitles(titleId: $id, first: 2) { score title { externalId } } }""",
        {"id": str(facets_catalog)},
    )
    assert body.get("errors") is None, body
    assert body["data"]["title"]["similar"] == body["data"]["similarTitles"]
    assert len(body["data"]["similarTitles"]) == 2


async def test_similar_on_a_list_of_titles_is_a_bounded_number_of_statements(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed, statements: StatementLog
) -> None:
    await acreate_titles(
        aconn,
        *(
            title_record(external_id=f"nb-{i}", synopsis=f"A quokka named Pip{i} builds a raft.")
            for i in range(25)
        ),
    )
    await embed()
    query = """query($n: Int) { titles(first: $n, filter: {text: "quokka"}) { edges { node {
        externalId similar(first: 3) { score title { externalId } } } } } }"""
    per_size = {}
    for size in (5, 20):
        statements.clear()
        body = await gql(client, query, {"n": size})
        assert body.get("errors") is None, body
        edges = body["data"]["titles"]["edges"]
        assert len(edges) == size
        for edge in edges:
            similar = edge["node"]["similar"]
            assert len(similar) == 3
            assert edge["node"]["externalId"] not in {s["title"]["externalId"] for s in similar}
        per_size[size] = len(statements)
    # page (no count: totalCount is not selected) + one LATERAL statement for every title's
    # neighbours (the scan settings are connection defaults, see server.db.tuning)
    assert per_size == {5: 2, 20: 2}
