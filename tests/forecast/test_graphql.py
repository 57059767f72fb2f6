"""forecast, whatIf, localizationPlan, forecastModels and backtests over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text

from tests.helpers import gql

REGIONS = "regions { region { code name group languages } probability expectedWeeks low high rank }"
FORECAST = f"""
query ($titleId: ID, $draft: DraftTitleInput) {{
  forecast(titleId: $titleId, draft: $draft) {{
    modelVersion generatedAt titleId {REGIONS}
    comparables(first: 3) {{ similarity title {{ id name }} }}
  }}
}}
"""
PLAN = """
query ($titleId: ID, $draft: DraftTitleInput, $budget: Float!, $maxRegions: Int) {
  localizationPlan(titleId: $titleId, draft: $draft, budget: $budget, maxRegions: $maxRegions) {
    originalLanguage budget
    forecast { modelVersion }
    regions { region { code languages } action languages campaignTier budgetShare budget
              expectedReach probability reason }
  }
}
"""
WHAT_IF = """
query ($base: DraftTitleInput!, $variants: [DraftTitleInput!]!) {
  whatIf(base: $base, variants: $variants) {
    base { regions { region { code } probability } }
    variants { index forecast { modelVersion }
               changes { region { code } baseProbability probability delta } }
  }
}
"""

DRAFT = {
    "name": "The Last Lighthouse",
    "kind": "SHOW",
    "synopsis": "A detective returns to her island village to solve a decades-old murder.",
    "genres": ["Crime TV Shows", "TV Dramas"],
    "tags": [{"kind": "MOOD", "name": "dark", "weight": 0.8}],
    "originCountries": ["GB"],
    "originalLanguage": "en",
    "releaseYear": 2026,
}


def _code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


def _uncharted_title(conn: Connection) -> dict[str, Any]:
    """A catalog title that never charted, as a draft with the same content."""
    row = conn.execute(
        text(
            """
            SELECT t.id, t.name, t.kind::text AS kind, t.synopsis, t.original_language,
                   t.release_year,
                   coalesce((SELECT array_agg(tc.country_code ORDER BY tc.position)
                             FROM title_countries tc WHERE tc.title_id = t.id), '{}') AS origins,
                   coalesce((SELECT json_agg(json_build_array(tg.kind, tg.name, tt.weight))
                             FROM title_tags tt JOIN tags tg ON tg.id = tt.tag_id
                             WHERE tt.title_id = t.id), '[]') AS tags
            FROM titles t
            WHERE NOT EXISTS (SELECT 1 FROM top10_country_weeks w WHERE w.title_id = t.id)
            ORDER BY t.id LIMIT 1
            """
        )
    ).one()
    return {
        "id": str(row.id),
        "draft": {
            "name": row.name,
            "kind": row.kind,
            "synopsis": row.synopsis,
            "genres": [n for k, n, _ in row.tags if k == "GENRE"],
            "tags": [{"kind": k, "name": n, "weight": w} for k, n, w in row.tags if k != "GENRE"],
            "originCountries": list(row.origins),
            "originalLanguage": row.original_language,
            "releaseYear": row.release_year,
        },
    }


async def test_forecast_of_a_catalog_title(wclient: httpx.AsyncClient, wconn: Connection) -> None:
    charted = wconn.execute(
        text("SELECT title_id FROM regional_scores ORDER BY title_id LIMIT 1")
    ).scalar_one()
    body = await gql(wclient, FORECAST, {"titleId": str(charted)})
    assert "errors" not in body, body
    f = body["data"]["forecast"]
    regions = wconn.execute(text("SELECT count(*) FROM regions")).scalar_one()
    assert len(f["regions"]) == regions
    probabilities = [r["probability"] for r in f["regions"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert [r["rank"] for r in f["regions"]] == list(range(1, regions + 1))
    assert all(0 < p < 1 for p in probabilities)
    assert all(0 <= r["low"] <= r["high"] for r in f["regions"])
    assert all(r["expectedWeeks"] >= 0 for r in f["regions"])
    assert f["titleId"] == str(charted)
    assert f["modelVersion"] >= 1
    comparables = f["comparables"]
    assert len(comparables) == 3
    # A charted catalog title is forecast without its own charts: never its own comparable.
    assert all(c["title"]["id"] != str(charted) for c in comparables)
    sims = [c["similarity"] for c in comparables]
    assert sims == sorted(sims, reverse=True)


async def test_draft_and_catalog_forecasts_agree_for_the_same_content(
    wclient: httpx.AsyncClient, wconn: Connection
) -> None:
    title = _uncharted_title(wconn)
    catalog = await gql(wclient, FORECAST, {"titleId": title["id"]})
    draft = await gql(wclient, FORECAST, {"draft": title["draft"]})
    assert "errors" not in catalog, catalog
    assert "errors" not in draft, draft
    a = {r["region"]["code"]: r for r in catalog["data"]["forecast"]["regions"]}
    b = {r["region"]["code"]: r for r in draft["data"]["forecast"]["regions"]}
    assert a.keys() == b.keys()
    for code in a:
        assert a[code]["probability"] == pytest.approx(b[code]["probability"], abs=1e-6)
        assert a[code]["expectedWeeks"] == pytest.approx(b[code]["expectedWeeks"], abs=1e-5)
    assert draft["data"]["forecast"]["titleId"] is None
    assert [c["title"]["id"] for c in catalog["data"]["forecast"]["comparables"]] == [
        c["title"]["id"] for c in draft["data"]["forecast"]["comparables"]
    ]


async def test_what_if_moves_the_new_home_region_up(wclient: httpx.AsyncClient) -> None:
    spanish = {**DRAFT, "originCountries": ["ES"], "originalLanguage": "es"}
    body = await gql(wclient, WHAT_IF, {"base": DRAFT, "variants": [spanish, DRAFT]})
    assert "errors" not in body, body
    result = body["data"]["whatIf"]
    moved, same = result["variants"]
    assert moved["index"] == 0
    assert same["index"] == 1
    deltas = {c["region"]["code"]: c["delta"] for c in moved["changes"]}
    assert deltas["ES"] > 0
    assert deltas["ES"] > deltas["GB"]
    assert len(moved["changes"]) == len(result["base"]["regions"])
    magnitudes = [abs(c["delta"]) for c in moved["changes"]]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert all(abs(c["delta"]) < 1e-9 for c in same["changes"])


@pytest.mark.parametrize("language", ["en", "es", "ko"])
async def test_localization_plan_invariants(wclient: httpx.AsyncClient, language: str) -> None:
    draft = {**DRAFT, "originalLanguage": language}
    body = await gql(wclient, PLAN, {"draft": draft, "budget": 1_000_000.0, "maxRegions": 12})
    assert "errors" not in body, body
    plan = body["data"]["localizationPlan"]
    assert plan["originalLanguage"] == language
    regions = plan["regions"]
    funded = [r for r in regions if r["budgetShare"] > 0]
    assert 1 <= len(funded) <= 12
    assert sum(r["budgetShare"] for r in funded) == pytest.approx(1.0)
    assert sum(r["budget"] for r in regions) == pytest.approx(1_000_000.0)
    for r in regions:
        assert (r["campaignTier"] == "NONE") == (r["budgetShare"] == 0), r
        assert language not in r["languages"], r  # never dub or subtitle into the original
        if r["action"] == "NONE":
            assert r["languages"] == []
        else:
            assert r["languages"]
            assert set(r["languages"]) <= set(r["region"]["languages"])
        if r["region"]["languages"][0] == language:
            assert r["action"] == "NONE"
        if r["action"] == "DUB":
            assert r["probability"] >= 0.5
        if r["action"] != "NONE" or r["budgetShare"] > 0:
            assert r["probability"] >= regions[11]["probability"]  # within maxRegions
        assert f"{r['probability']:.2f}" in r["reason"]
    assert any(r["action"] != "NONE" for r in regions) or all(
        r["probability"] < 0.1 for r in regions
    )


async def test_localization_plan_for_a_catalog_title(
    wclient: httpx.AsyncClient, wconn: Connection
) -> None:
    title = _uncharted_title(wconn)
    body = await gql(wclient, PLAN, {"titleId": title["id"], "budget": 500.0})
    assert "errors" not in body, body
    funded = [r for r in body["data"]["localizationPlan"]["regions"] if r["budgetShare"] > 0]
    assert 1 <= len(funded) <= 20
    assert sum(r["budgetShare"] for r in funded) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("query", "variables", "code", "field"),
    [
        (FORECAST, {}, "BAD_USER_INPUT", "titleId"),
        (FORECAST, {"titleId": "1", "draft": DRAFT}, "BAD_USER_INPUT", "titleId"),
        (FORECAST, {"titleId": "abc"}, "BAD_USER_INPUT", "titleId"),
        (FORECAST, {"titleId": "99999999"}, "NOT_FOUND", "titleId"),
        (
            FORECAST,
            {"draft": {**DRAFT, "originCountries": ["ZZ"]}},
            "BAD_USER_INPUT",
            "draft.originCountries",
        ),
        (
            FORECAST,
            {"draft": {**DRAFT, "originCountries": ["Spain"]}},
            "BAD_USER_INPUT",
            "draft.originCountries",
        ),
        (FORECAST, {"draft": {**DRAFT, "name": "  "}}, "BAD_USER_INPUT", "draft.name"),
        (
            FORECAST,
            {"draft": {**DRAFT, "originalLanguage": "Spanish"}},
            "BAD_USER_INPUT",
            "draft.originalLanguage",
        ),
        (PLAN, {"draft": DRAFT, "budget": 0.0}, "BAD_USER_INPUT", "budget"),
        (PLAN, {"draft": DRAFT, "budget": -5.0}, "BAD_USER_INPUT", "budget"),
        (PLAN, {"draft": DRAFT, "budget": 10.0, "maxRegions": 0}, "BAD_USER_INPUT", "maxRegions"),
        (
            PLAN,
            {"draft": DRAFT, "budget": 10.0, "maxRegions": 10_000},
            "BAD_USER_INPUT",
            "maxRegions",
        ),
        (PLAN, {"budget": 10.0}, "BAD_USER_INPUT", "titleId"),
        (WHAT_IF, {"base": DRAFT, "variants": []}, "BAD_USER_INPUT", "variants"),
        (
            WHAT_IF,
            {"base": DRAFT, "variants": [{**DRAFT, "originCountries": ["XX"]}]},
            "BAD_USER_INPUT",
            "variants[0].originCountries",
        ),
    ],
)
async def test_bad_input_is_a_clear_error(
    wclient: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    code: str,
    field: str,
) -> None:
    body = await gql(wclient, query, variables)
    assert _code(body) == code, body
    assert body["errors"][0]["extensions"].get("field") == field, body
    assert body["data"] is None


async def test_forecast_without_a_model_says_how_to_get_one(client: httpx.AsyncClient) -> None:
    body = await gql(client, FORECAST, {"draft": DRAFT})
    assert _code(body) == "NOT_FOUND"
    assert "contentintel train" in body["errors"][0]["message"]


async def test_models_and_backtests(wclient: httpx.AsyncClient) -> None:
    body = await gql(
        wclient,
        """{ forecastModels { id version trainedAt cutoff windowStart windowEnd embedder
                               trainingTitles regions parameters metrics isCurrent }
             backtests(first: 5) { id cutoff embedder parameters trainTitles testTitles regions
                                   bestBaseline lift createdAt
                                   methods { method baseline ndcg10 precision10 auc } } }""",
    )
    assert "errors" not in body, body
    models = body["data"]["forecastModels"]
    assert models[0]["isCurrent"]
    assert models[0]["embedder"] == "hashing-v2"
    assert models[0]["parameters"]["k"] == 20
    assert models[0]["windowStart"] <= models[0]["windowEnd"]
    backtest = body["data"]["backtests"][0]
    assert [m["method"] for m in backtest["methods"]] == [
        "model",
        "prior",
        "prior+origin",
        "knn comparables",
    ]
    assert [m["baseline"] for m in backtest["methods"]] == [False, True, True, True]
    assert backtest["testTitles"] > 0
    assert backtest["bestBaseline"] in {
        "prior",
        "prior+origin",
        "knn comparables",
    }
    bad = await gql(wclient, "{ backtests(first: 0) { id } }")
    assert _code(bad) == "BAD_USER_INPUT"
