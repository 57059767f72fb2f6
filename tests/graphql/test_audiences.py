"""GraphQL over HTTP: regions, taste profiles, comparisons, cohorts, trends, Title.*."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audiences.ingest import ingest_viewing_bytes
from server.audiences.profiles import compute_cohorts
from tests.audiences.charts import country_tsv
from tests.helpers import StatementLog, acreate_titles, gql, title_record

WEEKS = ("2021-09-12", "2021-09-19", "2021-09-26", "2021-10-03")


async def seed(aconn: AsyncConnection) -> dict[str, int]:
    """Korean shows chart in KR and TH (later weeks: a thriller rises in KR); US films in US."""
    korean = dict(
        kind="SHOW",
        seasons=1,
        duration_minutes=None,
        origin_countries=["KR"],
        original_language="ko",
    )
    await acreate_titles(
        aconn,
        *(
            title_record(
                external_id=f"k{i}",
                name=f"Seoul Story {i}",
                genres=["Korean TV Shows", "Romantic TV Shows"],
                **korean,
            )
            for i in range(4)
        ),
        title_record(
            external_id="kt",
            name="Seoul Nights",
            genres=["Korean TV Shows", "TV Thrillers"],
            **korean,
        ),
        *(
            title_record(
                external_id=f"u{i}", name=f"Highway Fury {i}", genres=["Action & Adventure"]
            )
            for i in range(4)
        ),
    )
    rows: list[tuple[object, ...]] = []
    for n, week in enumerate(WEEKS):
        for region in ("KR", "TH"):
            rows += [(region, week, "TV", i + 2, f"Seoul Story {i}") for i in range(4)]
        if n >= 2:
            rows.append(("KR", week, "TV", 1, "Seoul Nights"))
        rows += [("US", week, "Films", i + 1, f"Highway Fury {i}") for i in range(4)]
        rows.append(("TH", week, "Films", 1, "Highway Fury 0"))
    data = country_tsv(rows)
    await aconn.run_sync(lambda c: ingest_viewing_bytes(c, data, "top10-countries"))
    await aconn.run_sync(lambda c: compute_cohorts(c, k=2))
    ids = (await aconn.execute(text("SELECT external_id, id FROM titles"))).all()
    return {e: i for e, i in ids}


async def test_regions_and_region(client: httpx.AsyncClient, aconn: AsyncConnection) -> None:
    await seed(aconn)
    body = await gql(
        client,
        """{ regions { code name group languages }
             kr: region(code: "kr") { code name group languages
               tasteProfile { topGenres(minTitles: 1) { name lift titles share } }
               similarRegions(first: 2) { region { code } similarity }
               cohort { label regions { code } } }
             none: region(code: "ZZ") { code } }""",
    )
    assert body.get("errors") is None, body
    data = body["data"]
    assert len(data["regions"]) == 94
    assert {"code": "KR", "name": "South Korea", "group": "APAC", "languages": ["ko"]} in data[
        "regions"
    ]
    kr = data["kr"]
    assert kr["code"] == "KR"
    top = kr["tasteProfile"]["topGenres"]
    assert top[0]["name"] in {"Korean TV Shows", "TV Thrillers", "Romantic TV Shows"}
    assert all(g["lift"] > 1 for g in top)
    assert "Action & Adventure" not in {g["name"] for g in top}
    similar = kr["similarRegions"]
    assert [s["region"]["code"] for s in similar] == ["TH", "US"]
    assert similar[0]["similarity"] > similar[1]["similarity"]
    assert {r["code"] for r in kr["cohort"]["regions"]} == {"KR", "TH"}
    assert data["none"] is None


async def test_bad_region_code(client: httpx.AsyncClient, aconn: AsyncConnection) -> None:
    body = await gql(client, '{ region(code: "Korea") { code } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql(client, '{ compareAudiences(a: "KR", b: "ZZ") { similarity } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await gql(client, '{ regionTrends(code: "ZZ") { name } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await gql(client, "{ regions { similarRegions(first: -1) { similarity } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_compare_audiences(client: httpx.AsyncClient, aconn: AsyncConnection) -> None:
    ids = await seed(aconn)
    body = await gql(
        client,
        """{ compareAudiences(a: "KR", b: "TH") {
              a { code } b { code } similarity sharedTitles
              distinctiveForA { name lift } distinctiveForB { name lift }
              travellingTitles(first: 10) { title { id name } scoreA scoreB } } }""",
    )
    assert body.get("errors") is None, body
    c = body["data"]["compareAudiences"]
    assert (c["a"]["code"], c["b"]["code"]) == ("KR", "TH")
    assert 0 < c["similarity"] <= 1
    assert c["sharedTitles"] == 4
    travelling = {t["title"]["name"] for t in c["travellingTitles"]}
    assert travelling == {f"Seoul Story {i}" for i in range(4)}
    assert int(c["travellingTitles"][0]["title"]["id"]) in ids.values()
    # TH also charts an action film: it is distinctive for TH, not for KR.
    assert "Action & Adventure" not in {g["name"] for g in c["distinctiveForA"]}
    far = await gql(client, '{ compareAudiences(a: "KR", b: "US") { similarity sharedTitles } }')
    assert far["data"]["compareAudiences"]["similarity"] < c["similarity"]
    assert far["data"]["compareAudiences"]["sharedTitles"] == 0


async def test_cohorts_and_cohort(client: httpx.AsyncClient, aconn: AsyncConnection) -> None:
    await seed(aconn)
    body = await gql(
        client, "{ cohorts { id label size regions { code name } topGenres { name lift } } }"
    )
    assert body.get("errors") is None, body
    cohorts = body["data"]["cohorts"]
    assert sorted(sorted(r["code"] for r in c["regions"]) for c in cohorts) == [
        ["KR", "TH"],
        ["US"],
    ]
    asia = next(c for c in cohorts if c["size"] == 2)
    one = await gql(client, "query($id: ID!) { cohort(id: $id) { label } }", {"id": asia["id"]})
    assert one["data"]["cohort"]["label"] == asia["label"]
    missing = await gql(client, '{ cohort(id: "999999") { label } }')
    assert missing["data"]["cohort"] is None
    bad = await gql(client, '{ cohort(id: "x") { label } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_region_trends(client: httpx.AsyncClient, aconn: AsyncConnection) -> None:
    await seed(aconn)
    body = await gql(
        client,
        """{ regionTrends(code: "KR", since: "2021-09-26") {
              kind name recentShare previousShare change titles } }""",
    )
    assert body.get("errors") is None, body
    trends = body["data"]["regionTrends"]
    thriller = next(t for t in trends if t["name"] == "TV Thrillers")
    assert thriller["kind"] == "GENRE"
    assert thriller["previousShare"] == 0
    assert thriller["recentShare"] > 0
    assert thriller["titles"] == 1
    assert all(t["change"] > 0 for t in trends)
    assert [t["change"] for t in trends] == sorted((t["change"] for t in trends), reverse=True)


async def test_title_regional_performance_and_travelability(
    client: httpx.AsyncClient, aconn: AsyncConnection
) -> None:
    ids = await seed(aconn)
    query = """query($id: ID!) { title(id: $id) { name
        regionalPerformance { region { code name } weeksInTop10 bestRank score points
                              firstWeek lastWeek }
        travelability { regionsCharted originRegionShare score } } }"""
    body = await gql(client, query, {"id": str(ids["k0"])})
    assert body.get("errors") is None, body
    t = body["data"]["title"]
    perf = {p["region"]["code"]: p for p in t["regionalPerformance"]}
    assert set(perf) == {"KR", "TH"}
    assert perf["KR"]["weeksInTop10"] == 4
    assert perf["KR"]["bestRank"] == 2
    assert perf["KR"]["firstWeek"] == "2021-09-12"
    assert perf["KR"]["lastWeek"] == "2021-10-03"
    assert perf["KR"]["points"] == 36
    assert t["travelability"]["regionsCharted"] == 2
    assert t["travelability"]["originRegionShare"] == pytest.approx(0.5)
    assert t["travelability"]["score"] == pytest.approx(0.5 * 2 / 3)
    never = await gql(client, query, {"id": str(ids["u3"] + 1000)})
    assert never["data"]["title"] is None


async def test_title_audience_fields_statement_count(
    client: httpx.AsyncClient, aconn: AsyncConnection, statements: StatementLog
) -> None:
    """titles(first: N) with regionalPerformance (and its regions) and travelability: a fixed
    number of statements, whatever N."""
    await seed(aconn)
    await acreate_titles(aconn, *(title_record(external_id=f"x{i}") for i in range(40)))
    query = """query($n: Int) { titles(first: $n) { edges { node { name
        regionalPerformance { region { code name } score }
        travelability { score } } } } }"""
    per_size = {}
    for size in (3, 45):
        statements.clear()
        body = await gql(client, query, {"n": size})
        assert body.get("errors") is None, body
        assert len(body["data"]["titles"]["edges"]) == size
        per_size[size] = len(statements)
    # page (no count: totalCount is not selected) + performance batch + region batch +
    # travelability batch
    assert per_size == {3: 4, 45: 4}
