"""searchTitles over HTTP: keyword (full text + trigram), semantic (hashing embedder), hybrid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from server.config import Settings, load_settings
from server.embeddings.embedders import get_embedder
from server.similarity import service
from tests.graphql.test_compiled import _answer
from tests.graphql.test_encoded import assert_compiled_as_executor
from tests.helpers import acreate_titles, api_client, gql, title_record
from tests.similarity.conftest import Embed

SEARCH = """query($q: String!, $mode: SearchMode, $first: Int, $filter: TitleFilter) {
  searchTitles(query: $q, mode: $mode, first: $first, filter: $filter) {
    score keywordRank semanticRank title { externalId name kind } } }"""


async def _search(client: httpx.AsyncClient, query: str, **variables: Any) -> list[dict[str, Any]]:
    body = await gql(client, SEARCH, {"q": query, **variables})
    assert body.get("errors") is None, body
    hits: list[dict[str, Any]] = body["data"]["searchTitles"]
    return hits


def _ids(hits: list[dict[str, Any]]) -> list[str]:
    return [h["title"]["externalId"] for h in hits]


@pytest.fixture
async def catalog(aconn: AsyncConnection, embed: Embed) -> None:
    await acreate_titles(
        aconn,
        title_record(
            external_id="srch-st",
            kind="SHOW",
            name="Stranger Things",
            synopsis="When a boy vanishes, a small town uncovers a secret experiment.",
            duration_minutes=None,
            seasons=4,
        ),
        title_record(
            external_id="srch-beyond",
            kind="SHOW",
            name="Beyond the Strange Thing",
            synopsis="Cast members discuss the making of a science fiction series.",
            duration_minutes=None,
            seasons=1,
        ),
        title_record(
            external_id="srch-light",
            name="Northern Beacon",
            synopsis="Two lighthouse keepers on a remote skerry guard a shipwreck's secret.",
        ),
        title_record(
            external_id="srch-bees",
            name="Honey Valley",
            synopsis="An Andean beekeeper breeds glowing bees whose honey cures insomnia.",
        ),
        title_record(
            external_id="srch-orchard",
            name="The Orchard Ledger",
            synopsis="A widow inherits a pear orchard and a ledger of orchard debts.",
        ),
        title_record(
            external_id="srch-noise",
            name="Gravel",
            synopsis="A truck driver hauls gravel across the plains.",
        ),
    )
    await embed()


async def test_keyword_search_survives_typos(client: httpx.AsyncClient, catalog: None) -> None:
    hits = await _search(client, "Strnger Thngs", mode="KEYWORD")
    assert hits[0]["title"]["name"] == "Stranger Things"
    assert hits[0]["keywordRank"] == 1
    # the exact name beats a longer name that contains similar words
    hits = await _search(client, "stranger things", mode="KEYWORD")
    assert hits[0]["title"]["name"] == "Stranger Things"


async def test_keyword_search_matches_synopsis_words_with_stemming(
    client: httpx.AsyncClient, catalog: None
) -> None:
    hits = await _search(client, "lighthouse keeper", mode="KEYWORD")
    assert _ids(hits)[:1] == ["srch-light"]
    assert hits[0]["semanticRank"] is None


async def test_semantic_search_ranks_the_synopsis_neighbour_first(
    client: httpx.AsyncClient, catalog: None
) -> None:
    hits = await _search(client, "glowing bees cure insomnia", mode="SEMANTIC")
    assert hits[0]["title"]["externalId"] == "srch-bees"
    assert hits[0]["keywordRank"] is None
    assert 0 < hits[0]["score"] <= 1


async def test_ranks_are_positions_and_scores_descend(
    client: httpx.AsyncClient, catalog: None
) -> None:
    for mode, rank in (("KEYWORD", "keywordRank"), ("SEMANTIC", "semanticRank")):
        hits = await _search(client, "orchard secret", mode=mode, first=5)
        assert hits, mode
        assert [h[rank] for h in hits] == list(range(1, len(hits) + 1))
        other = "semanticRank" if rank == "keywordRank" else "keywordRank"
        assert all(h[other] is None for h in hits)
        scores = [h["score"] for h in hits]
        assert scores == sorted(scores, reverse=True)

    hits = await _search(client, "orchard secret", first=20)
    assert hits
    for hit in hits:
        expected = sum(
            1 / (service.RRF_K + r) for r in (hit["keywordRank"], hit["semanticRank"]) if r
        )
        assert hit["score"] == pytest.approx(expected)
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


async def test_hybrid_ranks_titles_found_by_both_lists_first(
    client: httpx.AsyncClient, aconn: AsyncConnection, catalog: None
) -> None:
    # Added after embedding: a name match that the semantic list cannot see.
    await acreate_titles(
        aconn,
        title_record(
            external_id="srch-keyword-only", name="Orchard Ledger", synopsis="Paper and ink."
        ),
    )
    keyword = await _search(client, "orchard ledger", mode="KEYWORD")
    assert _ids(keyword)[:2] == ["srch-keyword-only", "srch-orchard"]

    hits = await _search(client, "orchard ledger", mode="HYBRID")
    by_id = {h["title"]["externalId"]: h for h in hits}
    both, keyword_only = by_id["srch-orchard"], by_id["srch-keyword-only"]
    assert both["keywordRank"] == 2
    assert both["semanticRank"] is not None
    assert keyword_only["keywordRank"] == 1
    assert keyword_only["semanticRank"] is None
    assert _ids(hits)[0] == "srch-orchard"
    semantic_only = [h for h in hits if h["keywordRank"] is None]
    assert semantic_only
    assert all(h["score"] < both["score"] for h in semantic_only)


async def test_search_applies_filters(client: httpx.AsyncClient, catalog: None) -> None:
    for mode in ("KEYWORD", "SEMANTIC", "HYBRID"):
        hits = await _search(client, "secret", mode=mode, filter={"kind": "SHOW"})
        assert hits, mode
        assert {h["title"]["kind"] for h in hits} == {"SHOW"}


async def test_search_validation(client: httpx.AsyncClient) -> None:
    for query, first in (("", 10), ("   \t", 10), ("ok", 0), ("ok", 501), ("x" * 501, 10)):
        body = await gql(client, SEARCH, {"q": query, "first": first})
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def test_semantic_search_says_when_the_catalog_is_embedded_with_another_model(
    client: httpx.AsyncClient, catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def other_model(name: object, query: str) -> tuple[str, np.ndarray[Any, Any]]:
        vector = np.zeros(384, dtype=np.float32)
        vector[0] = 1
        return "other-model-v9", vector

    monkeypatch.setattr(service, "embed_query", other_model)
    body = await gql(client, SEARCH, {"q": "bees", "mode": "SEMANTIC"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "contentintel embed" in body["errors"][0]["message"]


@pytest.mark.minilm
async def test_semantic_search_with_minilm_understands_paraphrase(
    aconn: AsyncConnection,
    embed: Embed,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """No word of the query is in the synopsis it should find: only the real model sees it."""
    await acreate_titles(
        aconn,
        title_record(
            external_id="ml-ghosts",
            name="Ashgrove",
            synopsis="A family moves into an old mansion where restless spirits torment them.",
        ),
        title_record(
            external_id="ml-cooking",
            name="Heat",
            synopsis="Amateur bakers compete in a televised pastry contest.",
        ),
        title_record(
            external_id="ml-space",
            name="Orbit",
            synopsis="Astronauts repair a failing station far above the Earth.",
        ),
    )
    await embed(get_embedder("minilm"))
    settings = load_settings(data_dir=tmp_path, auth="off", database_url=None, embedder="minilm")
    async with api_client(settings, session_factory) as client:
        hits = await _search(
            client,
            "haunted house",
            mode="SEMANTIC",
            filter={"text": "mansion or pastry or station"},
        )
    assert sorted(_ids(hits)) == ["ml-cooking", "ml-ghosts", "ml-space"]
    assert hits[0]["title"]["externalId"] == "ml-ghosts"


HIT = """score keywordRank semanticRank __typename
  title { id externalId kind name synopsis releaseYear genres tags { name weight } __typename }"""
COMPILED_SEARCHES: list[tuple[str, dict[str, Any]]] = [
    (f"query($q: String!) {{ searchTitles(query: $q) {{ {HIT} }} }}", {"q": "orchard secret"}),
    *(
        (
            f"""query($q: String!, $m: SearchMode, $n: Int) {{
              searchTitles(query: $q, mode: $m, first: $n) {{ {HIT} }} }}""",
            {"q": query, "m": mode, "n": first},
        )
        for mode in ("KEYWORD", "SEMANTIC", "HYBRID")
        for query, first in (("orchard secret", 3), ("Strnger Thngs", 20), ("ünïcode café", 5))
    ),
    (
        """{ a: searchTitles(query: "secret", mode: KEYWORD, filter: {kind: SHOW}) {
             s: score t: title { n: name } }
           b: searchTitles(query: "secret", mode: HYBRID, first: 2) { title { name } }
           __typename }""",
        {},
    ),
    (
        """query($f: TitleFilter) { searchTitles(query: "bees", mode: SEMANTIC, filter: $f) {
             score semanticRank title { name releaseYear } } }""",
        {"f": {"kind": "MOVIE", "releaseYearMin": 1900}},
    ),
    ('{ searchTitles(query: "zzzqqq", mode: KEYWORD) { score } }', {}),  # no hit: []
]
FALLBACK_SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ('{ searchTitles(query: "   ") { score } }', {}),  # BAD_USER_INPUT
    ('{ searchTitles(query: "bees", first: 501) { score } }', {}),
    # nothing found: the executor says whether the catalog is embedded
    (
        '{ searchTitles(query: "bees", mode: SEMANTIC, filter: {kind: SHOW, genres: ["x"]}) '
        "{ score } }",
        {},
    ),
]


async def test_compiled_search_answers_as_the_executor(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog: None,
    executed: list[str],
) -> None:
    with_hits = 0
    for query, variables in COMPILED_SEARCHES:
        data = await assert_compiled_as_executor(
            settings, session_factory, executed, query, variables
        )
        with_hits += '"score"' in data
    assert with_hits >= len(COMPILED_SEARCHES) - 3
    for query, variables in FALLBACK_SEARCHES:
        expected = await _answer(settings, session_factory, query, variables, compiled=False)
        executed.clear()
        got = await _answer(settings, session_factory, query, variables, compiled=True)
        assert executed == ["executor"], query  # the compiled path left it to the executor
        executed.clear()
        assert got == expected, query
