"""Content strategy over GraphQL: contentGaps, trends, demand, comparables, travelability."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.helpers import gql
from tests.similarity.conftest import Embed
from tests.strategy.world import abuild

GAPS = """query($market: MarketInput!, $window: DateRangeInput, $level: GapLevel,
                $membership: Membership, $minTitles: Int, $first: Int) {
  contentGaps(market: $market, window: $window, level: $level, membership: $membership,
              minTitles: $minTitles, first: $first) {
    windowStart windowEnd coverage groups region { code }
    items { microGenre { label } genre rank supplyShare demandShare opportunity low high
            momentum { slope low high rising } coverage catalogTitles chartingTitleCount
            chartingTitles(first: 2) { title { name } points }
            catalogExamples(first: 2) { title { name } } }
  }
}"""


def error_of(body: dict[str, Any]) -> tuple[str, str | None]:
    assert body.get("errors"), body
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("field")


async def test_content_gaps_rank_the_under_supplied_genre_first(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed
) -> None:
    await abuild(aconn, embed)
    body = await gql(client, GAPS, {"market": {"region": "br"}})
    assert body.get("errors") is None, body
    report = body["data"]["contentGaps"]
    assert report["region"] == {"code": "BR"}
    assert report["groups"] == 4
    assert (report["windowStart"], report["windowEnd"]) == ("2021-08-01", "2021-09-19")
    items = report["items"]
    first = items[0]
    assert first["microGenre"]["label"] == "Nordic Noir Shows"
    assert first["genre"] == "Crime TV Shows"
    assert first["rank"] == 1
    assert first["supplyShare"] == pytest.approx(4 / 48)
    # Brazil's matched points: noir 10+9+8+7 a week, films 10+9 and 8+7+6 a week.
    assert first["demandShare"] == pytest.approx(34 / 74)
    assert first["low"] <= first["opportunity"] <= first["high"]
    assert first["opportunity"] > 1 > items[-1]["opportunity"]
    assert first["chartingTitleCount"] == 4
    assert [t["title"]["name"] for t in first["chartingTitles"]] == [
        "Noir Story 0",
        "Noir Story 1",
    ]
    assert len(first["catalogExamples"]) == 2
    # Coverage: the three unmatched TV entries a week (6+5+4 points) are not in the catalog.
    assert report["coverage"] == pytest.approx(74 / (74 + 15))
    assert first["coverage"] == report["coverage"]
    # Every group is listed, lower bounds in descending order; the never-charting one last.
    assert [i["rank"] for i in items] == [1, 2, 3, 4]
    lows = [i["low"] for i in items]
    assert lows == sorted(lows, reverse=True)
    assert items[-1]["microGenre"]["label"] == "Silent Films"
    assert items[-1]["demandShare"] == 0
    assert sum(i["demandShare"] for i in items) == pytest.approx(1)
    assert sum(i["supplyShare"] for i in items) == pytest.approx(1)


async def test_content_gaps_levels_memberships_windows_and_filters(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed
) -> None:
    await abuild(aconn, embed)
    parent = await gql(client, GAPS, {"market": {"region": "BR"}, "level": "PARENT_GENRE"})
    assert parent.get("errors") is None, parent
    items = parent["data"]["contentGaps"]["items"]
    assert items[0]["genre"] == "Crime TV Shows"
    assert items[0]["microGenre"] is None
    assert items[0]["catalogExamples"]
    soft = await gql(client, GAPS, {"market": {"region": "BR"}, "membership": "SOFT"})
    assert soft.get("errors") is None, soft
    soft_items = soft["data"]["contentGaps"]["items"]
    assert sum(i["supplyShare"] for i in soft_items) == pytest.approx(1, abs=1e-5)
    assert sum(i["demandShare"] for i in soft_items) == pytest.approx(1, abs=1e-5)
    # A window is computed on the fly with the same code.
    window = await gql(
        client,
        GAPS,
        {"market": {"region": "BR"}, "window": {"from": "2021-08-08", "to": "2021-08-29"}},
    )
    assert window.get("errors") is None, window
    w = window["data"]["contentGaps"]
    assert (w["windowStart"], w["windowEnd"]) == ("2021-08-08", "2021-08-29")
    assert w["items"][0]["microGenre"]["label"] == "Nordic Noir Shows"
    filtered = await gql(client, GAPS, {"market": {"region": "BR"}, "minTitles": 3, "first": 2})
    assert filtered.get("errors") is None, filtered
    kept = filtered["data"]["contentGaps"]["items"]
    assert len(kept) == 2
    assert all(i["chartingTitleCount"] >= 3 for i in kept)


async def test_cohort_market(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed
) -> None:
    from server.audiences.profiles import compute_cohorts

    await abuild(aconn, embed)
    await aconn.run_sync(lambda c: compute_cohorts(c, k=2))
    cohort_id = (await aconn.execute(text("SELECT min(id) FROM cohorts"))).scalar_one()
    body = await gql(client, GAPS, {"market": {"cohortId": str(cohort_id)}})
    assert body.get("errors") is None, body
    assert body["data"]["contentGaps"]["groups"] == 4
    assert body["data"]["contentGaps"]["region"] is None


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"market": {}}, "market"),
        ({"market": {"region": "BR", "cohortId": "1"}}, "market"),
        ({"market": {"region": "ZZ"}}, "market.region"),
        ({"market": {"region": "Brazil"}}, "market.region"),
        ({"market": {"cohortId": "999999"}}, "market.cohortId"),
        ({"market": {"cohortId": "x"}}, "market.cohortId"),
        (
            {"market": {"region": "BR"}, "window": {"from": "2021-09-01", "to": "2021-08-01"}},
            "window",
        ),
        ({"market": {"region": "BR"}, "window": {"from": "2030-01-01"}}, "window"),
        ({"market": {"region": "BR"}, "window": {"to": "2020-01-01"}}, "window"),
        (
            {"market": {"region": "BR"}, "window": {"from": "2021-08-02", "to": "2021-08-03"}},
            "window",
        ),
        ({"market": {"region": "BR"}, "first": -1}, "first"),
        ({"market": {"region": "BR"}, "minTitles": -2}, "minTitles"),
    ],
)
async def test_bad_input_names_the_argument(
    client: httpx.AsyncClient,
    aconn: AsyncConnection,
    embed: Embed,
    variables: dict[str, Any],
    field: str,
) -> None:
    await abuild(aconn, embed)
    body = await gql(client, GAPS, variables)
    assert error_of(body) == ("BAD_USER_INPUT", field)


async def test_trends_demand_comparables_and_travelability(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed
) -> None:
    genre_ids = await abuild(aconn, embed)
    noir = genre_ids["Nordic Noir Shows"]
    ids = dict((await aconn.execute(text("SELECT external_id, id FROM titles"))).all())
    body = await gql(
        client,
        """query($mg: ID!, $t: ID!, $c: ID!) {
          trendingMicroGenres(market: {region: "US"}, first: 5) {
            microGenre { label } momentum { slope low high rising } }
          microGenre(id: $mg) {
            br: demand(market: {region: "BR"}) { rank opportunity demandShare }
            us: demand(market: {region: "US"}) { demandShare }
            travelability { share low high titles points } }
          noir: title(id: $t) {
            demand(region: "BR") { regionCode charted points score percentile }
            notThere: demand(region: "US") { charted score percentile }
            audienceComparables(first: 3) { overlap title { name } } }
          comedy: title(id: $c) { audienceComparables(first: 3) { overlap title { name } } }
        }""",
        {"mg": str(noir), "t": str(ids["noir0"]), "c": str(ids["comedy0"])},
    )
    assert body.get("errors") is None, body
    data = body["data"]
    trending = data["trendingMicroGenres"]
    assert {t["microGenre"]["label"] for t in trending} <= {"Big Comedies", "Family Dramas"}
    assert all(
        t["momentum"]["low"] <= t["momentum"]["slope"] <= t["momentum"]["high"] for t in trending
    )
    mg = data["microGenre"]
    assert mg["br"]["rank"] == 1
    assert mg["us"]["demandShare"] == 0
    # Swedish shows charting only in Brazil: all their points are earned abroad.
    assert mg["travelability"]["share"] == pytest.approx(1)
    assert mg["travelability"]["titles"] == 4
    demand = data["noir"]["demand"]
    assert demand["charted"] is True
    assert demand["regionCode"] == "BR"
    # 8 weeks at #1 = 80 points; Brazil's mean entry: total points / entries.
    assert demand["points"] == 80
    # Far above Brazil's average entry: capped at 200, like the other noir shows, so the four
    # tie and each sits at the 50th percentile of its micro-genre (ties count half).
    assert demand["score"] == 200
    assert demand["percentile"] == pytest.approx(50)
    assert data["noir"]["notThere"] == {"charted": False, "score": 0, "percentile": None}
    # Noir shows share Brazil-only audiences: each other's comparables, not the comedies.
    names = [c["title"]["name"] for c in data["noir"]["audienceComparables"]]
    assert names
    assert all(n.startswith("Noir Story") for n in names)
    overlaps = [c["overlap"] for c in data["comedy"]["audienceComparables"]]
    assert overlaps == sorted(overlaps, reverse=True)


async def test_demand_bad_region_and_first(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed
) -> None:
    await abuild(aconn, embed)
    title_id = (await aconn.execute(text("SELECT min(id) FROM titles"))).scalar_one()
    body = await gql(
        client, f'{{ title(id: "{title_id}") {{ demand(region: "ZZ") {{ score }} }} }}'
    )
    assert error_of(body) == ("BAD_USER_INPUT", "region")
    body = await gql(
        client, f'{{ title(id: "{title_id}") {{ audienceComparables(first: 99) {{ overlap }} }} }}'
    )
    assert error_of(body) == ("BAD_USER_INPUT", "first")
    mg = (await aconn.execute(text("SELECT min(id) FROM micro_genres"))).scalar_one()
    body = await gql(
        client, f'{{ microGenre(id: "{mg}") {{ demand(market: {{region: "ZZ"}}) {{ rank }} }} }}'
    )
    assert error_of(body) == ("BAD_USER_INPUT", "market.region")


async def test_lists_are_batched(
    client: httpx.AsyncClient, aconn: AsyncConnection, embed: Embed
) -> None:
    """Demand, comparables and travelability over a list: a fixed number of statements."""
    await abuild(aconn, embed)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    query = """query($n: Int) { titles(first: $n) { edges { node {
        demand(region: "BR") { score } audienceComparables(first: 2) { title { name } }
        microGenres { travelability { share } demand(market: {region: "BR"}) { rank } } } } } }"""
    event.listen(aconn.sync_engine, "before_cursor_execute", count)
    try:
        per_size = {}
        for size in (3, 40):
            statements.clear()
            body = await gql(client, query, {"n": size})
            assert body.get("errors") is None, body
            per_size[size] = len(statements)
    finally:
        event.remove(aconn.sync_engine, "before_cursor_execute", count)
    assert per_size[3] == per_size[40]
    gaps_query = """{ contentGaps(market: {region: "BR"}, first: 4) { items {
        microGenre { label } chartingTitles(first: 3) { title { name } }
        catalogExamples(first: 3) { title { name } } } } }"""
    event.listen(aconn.sync_engine, "before_cursor_execute", count)
    try:
        statements.clear()
        body = await gql(client, gaps_query)
        assert body.get("errors") is None, body
    finally:
        event.remove(aconn.sync_engine, "before_cursor_execute", count)
    # market check, stored gaps, micro-genres, charting titles, examples (+ region lookup)
    assert len(statements) <= 7, statements
