"""The similarity map (positions, PNG) and the micro-genre GraphQL fields over HTTP."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.demo.generator import generate_catalog
from server.embeddings import pipeline
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog
from server.similarity.mapplot import draw_map, load_map
from server.similarity.microgenres.clustering import cluster_catalog
from tests.helpers import StatementLog, acreate_titles, create_titles, gql
from tests.similarity.conftest import Embed

SEED = 11


@pytest.fixture(autouse=True)
def _no_projection_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Embed without fitting the genre projection: it is not under test here, and its fit
    takes most of the time of a small catalog's embedding."""
    monkeypatch.setattr(pipeline, "MIN_TITLES", 10**9)


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_layout_is_stored_for_every_title_and_the_map_is_drawn(
    conn: Connection, tmp_path: Path
) -> None:
    create_titles(conn, *generate_catalog(n_titles=200, seed=SEED))
    embed_catalog(conn, HashingEmbedder())
    summary = cluster_catalog(conn, seed=SEED)
    assert summary.positions == 200
    rows = list(conn.execute(text("SELECT title_id, x, y FROM title_positions")))
    assert len(rows) == 200
    assert {r.title_id for r in rows} == {
        r.title_id for r in conn.execute(text("SELECT title_id FROM title_embeddings"))
    }
    assert all(-1.0 <= r.x <= 1.0 and -1.0 <= r.y <= 1.0 for r in rows)
    assert len({(round(r.x, 4), round(r.y, 4)) for r in rows}) > 190  # not stacked

    data = load_map(conn)
    assert len(data.points) == 200
    assert all(p.micro_genre_id is not None for p in data.points)
    assert [g.size for g in data.genres] == sorted((g.size for g in data.genres), reverse=True)
    out = draw_map(data, tmp_path / "maps" / "map.png", labels=10, size_inches=(8, 6), dpi=80)
    assert out.stat().st_size > 20_000
    assert _png_size(out) == (640, 480)


def test_drawing_without_positions_is_an_error(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="contentintel cluster"):
        draw_map(load_map(conn), tmp_path / "map.png")


# --- GraphQL -------------------------------------------------------------------------------


@pytest.fixture
async def clustered(aconn: AsyncConnection, embed: Embed) -> int:
    """A small synthetic catalog, embedded and clustered inside the test's transaction."""
    await acreate_titles(aconn, *generate_catalog(n_titles=120, seed=SEED))
    await embed()
    summary = await aconn.run_sync(lambda c: cluster_catalog(c, seed=SEED))
    return summary.micro_genres


def _error(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


PAGE = """query($first: Int, $after: String, $minSize: Int) {
  microGenres(first: $first, after: $after, minSize: $minSize) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id label size parentGenre } }
  } }"""


async def test_micro_genres_pagination(client: httpx.AsyncClient, clustered: int) -> None:
    seen: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        body = await gql(client, PAGE, {"first": 4, "after": after})
        assert body.get("errors") is None, body
        page = body["data"]["microGenres"]
        assert page["totalCount"] == clustered
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen.extend(e["node"] for e in page["edges"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == clustered
    assert pages == -(-clustered // 4)
    assert len({n["id"] for n in seen}) == clustered
    order = [(-n["size"], int(n["id"])) for n in seen]
    assert order == sorted(order)
    assert all(n["label"] and n["parentGenre"] for n in seen)

    threshold = seen[len(seen) // 2]["size"]
    body = await gql(client, PAGE, {"first": 100, "minSize": threshold})
    big = body["data"]["microGenres"]
    assert big["totalCount"] == sum(n["size"] >= threshold for n in seen) == len(big["edges"])

    assert _error(await gql(client, PAGE, {"first": 501})) == "BAD_USER_INPUT"
    assert _error(await gql(client, PAGE, {"after": "bm9wZQ"})) == "BAD_USER_INPUT"
    assert _error(await gql(client, PAGE, {"minSize": -1})) == "BAD_USER_INPUT"


ONE = """query($id: ID!, $n: Int) { microGenre(id: $id) {
  id label size parentGenre
  topTags { kind name lift share titles }
  titles(first: $n) { id microGenres { id } }
} }"""


async def test_micro_genre_by_id(client: httpx.AsyncClient, clustered: int) -> None:
    body = await gql(client, PAGE, {"first": 1})
    top = body["data"]["microGenres"]["edges"][0]["node"]
    body = await gql(client, ONE, {"id": top["id"], "n": 3})
    assert body.get("errors") is None, body
    genre = body["data"]["microGenre"]
    assert (genre["id"], genre["label"], genre["size"]) == (top["id"], top["label"], top["size"])
    assert genre["topTags"]
    assert all(t["lift"] > 1 and t["titles"] > 0 for t in genre["topTags"])
    assert len(genre["titles"]) == min(3, genre["size"])
    # Its titles have it as their primary (first) micro-genre.
    assert all(t["microGenres"][0]["id"] == top["id"] for t in genre["titles"])

    assert (await gql(client, ONE, {"id": "999999999"}))["data"]["microGenre"] is None
    assert _error(await gql(client, ONE, {"id": "abc"})) == "BAD_USER_INPUT"
    assert _error(await gql(client, ONE, {"id": top["id"], "n": 101})) == "BAD_USER_INPUT"


async def test_title_micro_genres_are_batched(
    client: httpx.AsyncClient, aconn: AsyncConnection, clustered: int, statements: StatementLog
) -> None:
    query = """query($n: Int) { titles(first: $n) { edges { node {
        id microGenres { id label size } } } } }"""
    per_size = {}
    for size in (5, 100):
        statements.clear()
        body = await gql(client, query, {"n": size})
        assert body.get("errors") is None, body
        edges = body["data"]["titles"]["edges"]
        assert len(edges) == size
        assert all(1 <= len(e["node"]["microGenres"]) <= 2 for e in edges)
        per_size[size] = len(statements)
    # page (no count: totalCount is not selected) + one batch of micro-genres
    assert per_size == {5: 2, 100: 2}


MAP = """query($first: Int, $k: Int, $filter: TitleFilter) {
  similarityMap(first: $first, k: $k, filter: $filter) {
    nodes { title { id kind } x y microGenreId }
    edges { source target score }
  } }"""


MAP_PAGE = """query($first: Int, $after: ID) {
  similarityMap(first: $first, k: 0, after: $after) { nodes { title { id } } } }"""


async def test_similarity_map(client: httpx.AsyncClient, clustered: int) -> None:
    body = await gql(client, MAP, {"first": 40, "k": 3})
    assert body.get("errors") is None, body
    result = body["data"]["similarityMap"]
    nodes, edges = result["nodes"], result["edges"]
    assert len(nodes) == 40
    ids = [n["title"]["id"] for n in nodes]
    assert ids == sorted(ids, key=int)
    assert all(-1 <= n["x"] <= 1 and -1 <= n["y"] <= 1 and n["microGenreId"] for n in nodes)
    assert len(edges) == 40 * 3
    by_source: dict[str, list[dict[str, Any]]] = {}
    for edge in edges:
        assert edge["source"] in ids
        assert edge["target"] in ids
        assert edge["source"] != edge["target"]
        by_source.setdefault(edge["source"], []).append(edge)
    assert set(by_source) == set(ids)
    for out in by_source.values():
        assert len(out) == 3
        assert len({e["target"] for e in out}) == 3
        scores = [e["score"] for e in out]
        assert scores == sorted(scores, reverse=True)
        assert all(-1.01 <= s <= 1.01 for s in scores)

    shows = await gql(client, MAP, {"first": 500, "k": 0, "filter": {"kind": "SHOW"}})
    found = shows["data"]["similarityMap"]
    assert found["nodes"]
    assert found["edges"] == []
    assert all(n["title"]["kind"] == "SHOW" for n in found["nodes"])
    assert len(found["nodes"]) < 120

    # pages: `after` the last node's title id reads the rest, in id order, without overlap
    everything = await gql(client, MAP, {"first": 2000, "k": 0})
    all_ids = [n["title"]["id"] for n in everything["data"]["similarityMap"]["nodes"]]
    paged: list[str] = []
    after = None
    while True:
        page = await gql(client, MAP_PAGE, {"first": 15, "after": after})
        ids_page = [n["title"]["id"] for n in page["data"]["similarityMap"]["nodes"]]
        paged += ids_page
        if len(ids_page) < 15:
            break
        after = ids_page[-1]
    assert paged == all_ids
    assert _error(await gql(client, MAP_PAGE, {"first": 5, "after": "x"})) == "BAD_USER_INPUT"

    assert _error(await gql(client, MAP, {"k": 21})) == "BAD_USER_INPUT"
    assert _error(await gql(client, MAP, {"first": 2001})) == "BAD_USER_INPUT"
    assert _error(await gql(client, MAP, {"first": 0})) == "BAD_USER_INPUT"
