"""The scene API over HTTP: shapes, arguments, errors and batched loading."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.embeddings.embedders import HashingEmbedder
from server.scenes.embed import embed_scenes
from tests.helpers import StatementLog, acreate_titles, gql, title_record
from tests.scenes.helpers import engagement, load_engagement, load_scenes, scene

SCENE_FIELDS = """id ordinal episode start end description tags score plays watchedFraction
    rewatchRate skipRate exitRate title { externalId }"""


async def _load(aconn: AsyncConnection, *records: dict[str, Any], kind: str) -> None:
    fn = load_scenes if kind == "scenes" else load_engagement
    await aconn.run_sync(lambda c: fn(c, *records, use_copy=False))


@pytest.fixture
async def world(aconn: AsyncConnection) -> dict[str, str]:
    await acreate_titles(
        aconn,
        title_record(external_id="gm1", name="Movie One", duration_minutes=20),
        title_record(
            external_id="gs1", name="Show One", kind="SHOW", duration_minutes=None, seasons=1
        ),
        title_record(external_id="gm2", name="Movie Two", duration_minutes=20),
        title_record(external_id="gm3", name="No Scenes", duration_minutes=20),
    )
    await _load(
        aconn,
        scene("gm1", 1, 0, 60, tags=["opening-credits"], description="Opening credits."),
        scene(
            "gm1",
            2,
            60,
            400,
            tags=["action", "chase"],
            description="A chase across the rooftops at night ends in a fist fight.",
        ),
        scene(
            "gm1",
            3,
            400,
            800,
            tags=["dialogue"],
            description="Two sisters argue about money in the kitchen.",
        ),
        scene(
            "gm1",
            4,
            800,
            1150,
            tags=["reveal"],
            description="The letter reveals the father was alive all along.",
        ),
        scene("gs1", 1, 0, 300, episode=1, tags=["dialogue"], description="A job interview."),
        scene(
            "gs1",
            2,
            300,
            900,
            episode=1,
            tags=["cliffhanger"],
            description="The car explodes as she walks away.",
        ),
        scene("gs1", 1, 0, 500, episode=2, tags=["recap"], description="Previously on."),
        scene("gm2", 1, 0, 500, tags=["dialogue"], description="A long dinner conversation."),
        scene("gm2", 2, 500, 1000, tags=["action"], description="A rooftop chase and a shootout."),
        kind="scenes",
    )
    metrics = {
        ("gm1", None, 1): (0.5, 0.0, 0.5, 0.05),
        ("gm1", None, 2): (0.95, 0.08, 0.01, 0.01),
        ("gm1", None, 3): (0.8, 0.01, 0.05, 0.06),
        ("gm1", None, 4): (0.97, 0.15, 0.01, 0.005),
        ("gs1", 1, 1): (0.9, 0.01, 0.02, 0.03),
        ("gs1", 1, 2): (0.98, 0.1, 0.0, 0.01),
        ("gs1", 2, 1): (0.3, 0.0, 0.7, 0.02),
        ("gm2", None, 1): (0.7, 0.01, 0.1, 0.2),
        ("gm2", None, 2): (0.9, 0.05, 0.02, 0.1),
    }
    rows = []
    for (ext, episode, ordinal), (w, r, s, x) in metrics.items():
        base = {"episode": episode, "watched_fraction": w, "rewatch_rate": r, "skip_rate": s}
        rows.append(engagement(ext, ordinal, exit_rate=x, **base))
        rows.append(engagement(ext, ordinal, exit_rate=x / 2, region="KR", plays=10, **base))
    curve = {"external_id": "gm1", "resolution_seconds": 60,
             "shares": [1.0 - 0.02 * i for i in range(20)]}  # fmt: skip
    await _load(aconn, *rows, curve, kind="engagement")
    await aconn.run_sync(lambda c: embed_scenes(c, HashingEmbedder()))
    ids = dict(
        (
            await aconn.execute(
                text("SELECT external_id, id::text FROM titles WHERE external_id LIKE 'g%'")
            )
        ).all()
    )
    return ids


async def test_title_scenes(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    body = await gql(
        client,
        f"""query($id: ID!, $show: ID!) {{
            movie: title(id: $id) {{ scenes {{ {SCENE_FIELDS} }} }}
            show: title(id: $show) {{ all: scenes {{ ordinal episode }}
                                      second: scenes(episode: 2) {{ ordinal episode tags }}
                                      firstTwo: scenes(first: 2) {{ episode ordinal }} }}
        }}""",
        {"id": world["gm1"], "show": world["gs1"]},
    )
    assert body.get("errors") is None, body
    scenes = body["data"]["movie"]["scenes"]
    assert [s["ordinal"] for s in scenes] == [1, 2, 3, 4]
    chase = scenes[1]
    assert chase["tags"] == ["action", "chase"]
    assert (chase["start"], chase["end"], chase["episode"]) == (60.0, 400.0, None)
    assert chase["watchedFraction"] == pytest.approx(0.95)
    assert chase["title"] == {"externalId": "gm1"}
    assert scenes[3]["score"] > 0 > scenes[0]["score"]
    show = body["data"]["show"]
    assert [(s["episode"], s["ordinal"]) for s in show["all"]] == [(1, 1), (1, 2), (2, 1)]
    assert show["second"] == [{"ordinal": 1, "episode": 2, "tags": ["recap"]}]
    assert show["firstTwo"] == [{"episode": 1, "ordinal": 1}, {"episode": 1, "ordinal": 2}]


async def test_engagement_curve(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    body = await gql(
        client,
        """query($a: ID!, $b: ID!, $c: ID!) {
            stored: title(id: $a) { engagementCurve { second share } }
            coarse: title(id: $a) { engagementCurve(resolutionSeconds: 300) { second share } }
            derived: title(id: $b) { engagementCurve(resolutionSeconds: 500) { second share } }
            kr: title(id: $b) { engagementCurve(resolutionSeconds: 500, region: "KR") { share } }
            none: title(id: $c) { engagementCurve { second } engagementSummary { hookStrength } }
        }""",
        {"a": world["gm1"], "b": world["gm2"], "c": world["gm3"]},
    )
    assert body.get("errors") is None, body
    data = body["data"]
    assert len(data["stored"]["engagementCurve"]) == 20
    assert data["stored"]["engagementCurve"][1] == {"second": 60, "share": pytest.approx(0.98)}
    assert [p["second"] for p in data["coarse"]["engagementCurve"]] == [0, 300, 600, 900]
    # gm2 has no stored curve: derived from exit rates 0.2 and 0.1.
    derived = data["derived"]["engagementCurve"]
    assert [p["second"] for p in derived] == [0, 500, 1000]
    assert [p["share"] for p in derived] == pytest.approx([1.0, 0.8, 0.72])
    assert [p["share"] for p in data["kr"]["engagementCurve"]] == pytest.approx([1.0, 0.9, 0.855])
    assert data["none"] == {"engagementCurve": [], "engagementSummary": None}


async def test_engagement_summary(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    body = await gql(
        client,
        """query($id: ID!) { title(id: $id) { engagementSummary {
            hookStrength hookSeconds
            biggestDropOff { scene { ordinal } drop }
            mostRewatched { scene { ordinal tags } rewatchRate } } } }""",
        {"id": world["gm1"]},
    )
    assert body.get("errors") is None, body
    summary = body["data"]["title"]["engagementSummary"]
    assert summary["hookSeconds"] == 57  # 5% of the 19-minute curve
    assert summary["hookStrength"] == pytest.approx(1.0 - 0.02 * 57 / 60)
    assert summary["biggestDropOff"]["scene"]["ordinal"] in (3, 4)
    assert summary["mostRewatched"] == {
        "scene": {"ordinal": 4, "tags": ["reveal"]},
        "rewatchRate": pytest.approx(0.15),
    }


async def test_top_scenes(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    body = await gql(
        client,
        """query($id: ID!) {
            all: topScenes(first: 3) { title { externalId } ordinal score region }
            one: topScenes(titleId: $id, metric: REWATCH_RATE, first: 2) { ordinal rewatchRate }
            exits: topScenes(metric: EXIT_RATE, first: 1, region: "kr") { ordinal exitRate region }
        }""",
        {"id": world["gm1"]},
    )
    assert body.get("errors") is None, body
    data = body["data"]
    scores = [s["score"] for s in data["all"]]
    assert scores == sorted(scores, reverse=True)
    assert all(s["region"] is None for s in data["all"])
    assert [s["ordinal"] for s in data["one"]] == [4, 2]
    assert data["exits"] == [{"ordinal": 1, "exitRate": pytest.approx(0.1), "region": "KR"}]

    bad = await gql(client, '{ topScenes(region: "Atlantis") { id } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad = await gql(client, "{ topScenes(first: 0) { id } }")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_scene_tag_lift(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    body = await gql(client, "{ sceneTagLift(minScenes: 1) { tag lift low high scenes titles } }")
    assert body.get("errors") is None, body
    lifts = {t["tag"]: t for t in body["data"]["sceneTagLift"]}
    # Tags seen in a single title (reveal, chase, recap, ...) have no interval: left out.
    assert set(lifts) == {"action", "dialogue"}
    assert lifts["dialogue"]["scenes"] == 3
    assert lifts["dialogue"]["titles"] == 3
    for lift in lifts.values():
        assert lift["low"] <= lift["lift"] <= lift["high"]
    empty = await gql(client, "{ sceneTagLift { tag } }")
    assert empty["data"]["sceneTagLift"] == []  # default minScenes 30


async def test_search_and_similar_scenes(client: httpx.AsyncClient, world: dict[str, str]) -> None:
    body = await gql(
        client,
        """{ searchScenes(query: "chase across the rooftops", first: 3) {
                score scene { id description title { externalId } } } }""",
    )
    assert body.get("errors") is None, body
    hits = body["data"]["searchScenes"]
    assert hits[0]["scene"]["title"]["externalId"] == "gm1"
    assert "rooftops" in hits[0]["scene"]["description"]
    assert hits[0]["score"] >= hits[1]["score"]
    chase = hits[0]["scene"]["id"]

    body = await gql(
        client,
        """query($id: ID!) {
            similarScenes(sceneId: $id, first: 2) { score scene { id description } } }""",
        {"id": chase},
    )
    assert body.get("errors") is None, body
    similar = body["data"]["similarScenes"]
    assert chase not in [h["scene"]["id"] for h in similar]
    assert "rooftop" in similar[0]["scene"]["description"]

    missing = await gql(client, '{ similarScenes(sceneId: "999999999") { score } }')
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bad = await gql(client, '{ similarScenes(sceneId: "x") { score } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    empty = await gql(client, '{ searchScenes(query: "  ") { score } }')
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    one = await gql(client, "query($id: ID!) { scene(id: $id) { id tags } }", {"id": chase})
    assert one["data"]["scene"] == {"id": chase, "tags": ["action", "chase"]}


async def test_search_without_embeddings_says_so(
    client: httpx.AsyncClient, aconn: AsyncConnection
) -> None:
    body = await gql(client, '{ searchScenes(query: "a chase") { score } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "embed-scenes" in body["errors"][0]["message"]


async def test_statement_count_is_independent_of_page_size(
    client: httpx.AsyncClient, aconn: AsyncConnection, statements: StatementLog
) -> None:
    """titles(first: N) with scenes, curves and summaries: a fixed number of statements."""
    await acreate_titles(
        aconn, *(title_record(external_id=f"q{i}", duration_minutes=30) for i in range(40))
    )
    await _load(
        aconn,
        *(scene(f"q{i}", k, k * 100, k * 100 + 100) for i in range(40) for k in (1, 2)),
        kind="scenes",
    )
    await _load(
        aconn,
        *(engagement(f"q{i}", k, exit_rate=0.01 * k) for i in range(40) for k in (1, 2)),
        *(
            {"external_id": f"q{i}", "resolution_seconds": 60, "shares": [1, 0.9, 0.8]}
            for i in range(0, 40, 2)
        ),
        kind="engagement",
    )
    query = """query($n: Int) { titles(first: $n, filter: {text: "detective"}) { edges { node {
        scenes { ordinal tags score }
        engagementCurve(resolutionSeconds: 60) { second share }
        engagementSummary { hookStrength mostRewatched { scene { ordinal } } } } } } }"""
    per_size = {}
    for size in (4, 40):
        statements.clear()
        body = await gql(client, query, {"n": size})
        assert body.get("errors") is None, body
        edges = body["data"]["titles"]["edges"]
        assert len(edges) == size
        assert all(len(e["node"]["scenes"]) == 2 for e in edges)
        assert all(e["node"]["engagementCurve"] for e in edges)
        per_size[size] = len(statements)
    # page, scenes, curves (stored + derived), summaries (curves stored + derived + scenes)
    assert per_size[4] == per_size[40]
    assert per_size[40] <= 8
