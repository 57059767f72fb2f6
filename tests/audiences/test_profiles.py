"""Taste profiles (vectors, genre lift) and cohorts on small synthetic charts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import Connection, text

from server.audiences.ingest import ingest_viewing_bytes
from server.audiences.profiles import (
    audience_space,
    cluster_regions,
    compute_cohorts,
    compute_taste_profiles,
    mix,
)
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog
from tests.audiences.charts import country_tsv
from tests.helpers import create_titles, title_record

ASIA = ("KR", "TH", "TW")
WEST = ("US", "GB", "FR")


def test_mix_share_and_lift() -> None:
    scores = [(1, "KR", 1.0), (2, "KR", 1.0), (2, "US", 1.0), (3, "US", 2.0)]
    labels = {1: ["Korean"], 2: ["Drama"], 3: ["Action", "Drama"]}
    got = {region: {e.key: e for e in entries} for region, entries in mix(scores, labels).items()}
    # Global mass 5: Korean 1/5, Drama 4/5, Action 2/5.
    assert got["KR"]["Korean"].share == pytest.approx(0.5)
    assert got["KR"]["Korean"].lift == pytest.approx(0.5 / 0.2)
    assert got["US"]["Drama"].share == pytest.approx(1.0)
    assert got["US"]["Drama"].lift == pytest.approx(1.0 / 0.8)
    assert got["US"]["Drama"].titles == 2
    # Pooling the groups gives the global mix back: every lift is 1.
    pooled = mix(scores, labels, {"KR": "all", "US": "all"})["all"]
    assert all(e.lift == pytest.approx(1.0) for e in pooled)


@pytest.fixture
def two_blocks(conn: Connection) -> dict[str, int]:
    """Korean dramas chart across ASIA, American action films across WEST; one global hit."""
    records = (
        [
            title_record(
                name=f"Seoul Story {i}",
                genres=["Korean TV Shows", "Romantic TV Shows"],
                kind="SHOW",
                seasons=1,
                duration_minutes=None,
                origin_countries=["KR"],
                original_language="ko",
                synopsis="A Seoul office romance between rival chaebol heirs.",
            )
            for i in range(5)
        ]
        + [
            title_record(
                name=f"Highway Fury {i}",
                genres=["Action & Adventure"],
                synopsis="An ex-marine races across Texas to stop a heist.",
            )
            for i in range(5)
        ]
        + [title_record(name="Global Hit", genres=["Dramas"])]
    )
    create_titles(conn, *records)
    rows = []
    for week in ("2021-09-26", "2021-10-03"):
        for region in ASIA:
            rows += [(region, week, "TV", i + 1, f"Seoul Story {i}") for i in range(5)]
            rows.append((region, week, "Films", 1, "Global Hit"))
        for region in WEST:
            rows += [(region, week, "Films", i + 2, f"Highway Fury {i}") for i in range(5)]
            rows.append((region, week, "Films", 1, "Global Hit"))
    ingest_viewing_bytes(conn, country_tsv(rows), "top10-countries")
    return {r.name: r.id for r in conn.execute(text("SELECT id, name FROM titles"))}


def test_taste_profiles_and_over_indexed_genres(
    conn: Connection, two_blocks: dict[str, int]
) -> None:
    embed_catalog(conn, HashingEmbedder())
    summary = compute_taste_profiles(conn)
    assert (summary.regions, summary.tastes) == (6, 6)
    tastes = {
        r.region_code: np.asarray(r.taste, dtype=float)
        for r in conn.execute(text("SELECT region_code, taste::real[] AS taste FROM region_tastes"))
    }
    for vector in tastes.values():
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)
    # Same charts, same taste; the two blocks differ.
    assert float(tastes["KR"] @ tastes["TH"]) == pytest.approx(1.0, abs=1e-4)
    assert float(tastes["KR"] @ tastes["US"]) < 0.9
    lifts = {
        (r.region_code, r.genre): (r.lift, r.titles)
        for r in conn.execute(text("SELECT region_code, genre, lift, titles FROM region_genres"))
    }
    assert lifts[("KR", "Korean TV Shows")][0] > 1.5
    assert lifts[("KR", "Korean TV Shows")][1] == 5
    assert ("KR", "Action & Adventure") not in lifts
    assert lifts[("US", "Action & Adventure")][0] > 1.5
    assert lifts[("US", "Dramas")][0] < 1 or lifts[("KR", "Dramas")][0] < 1


def test_cohorts_recover_the_blocks(conn: Connection, two_blocks: dict[str, int]) -> None:
    space = audience_space(conn)
    assert space.regions == sorted(ASIA + WEST)
    kr, th, us = space.index("KR"), space.index("TH"), space.index("US")
    assert space.similarity[kr, th] > space.similarity[kr, us]
    summary = compute_cohorts(conn, k=2)
    assert summary.k == 2
    members = [sorted(code for code, _ in c.members) for c in summary.cohorts]
    assert sorted(members) == sorted([sorted(ASIA), sorted(WEST)])
    stored = conn.execute(
        text(
            "SELECT c.label, array_agg(m.region_code ORDER BY m.region_code) AS codes, c.size, "
            "c.top_genres FROM cohorts c JOIN cohort_members m ON m.cohort_id = c.id "
            "GROUP BY c.id"
        )
    ).all()
    assert sorted(r.codes for r in stored) == sorted(members)
    asia = next(r for r in stored if "KR" in r.codes)
    assert asia.size == 3
    assert "Korean TV Shows" in asia.label  # labelled from what over-indexes there
    assert any(name in asia.label for name in ("South Korea", "Thailand", "Taiwan"))
    assert asia.top_genres[0]["name"] in {"Korean TV Shows", "Romantic TV Shows"}
    # Ranked by the credible lower bound of the lift, stored with each genre.
    lows = [g["lift_low"] for g in asia.top_genres]
    assert lows == sorted(lows, reverse=True)
    assert lows[0] > 0
    # Every charting region is in exactly one cohort; recomputing replaces, never appends.
    compute_cohorts(conn, k=2)
    assert conn.execute(text("SELECT count(*) FROM cohort_members")).scalar_one() == 6
    assert conn.execute(text("SELECT count(*) FROM cohorts")).scalar_one() == 2


def test_cluster_without_charts_or_with_few_regions(conn: Connection) -> None:
    space = audience_space(conn)
    assert space.regions == []
    assert cluster_regions(space) == ([], None)
    assert compute_cohorts(conn).cohorts == []


def test_audience_space_before_a_cutoff_ignores_later_weeks(
    conn: Connection, two_blocks: dict[str, int]
) -> None:
    embed_catalog(conn, HashingEmbedder())
    compute_taste_profiles(conn)
    cutoff = date(2021, 10, 1)
    before = audience_space(conn, before=cutoff)
    assert before.taste is not None
    # After the cutoff, KR suddenly charts exactly what the West charts.
    late = [
        ("KR", week, "Films", i + 2, f"Highway Fury {i}")
        for week in ("2021-10-10", "2021-10-17", "2021-10-24")
        for i in range(5)
    ]
    ingest_viewing_bytes(conn, country_tsv(late), "top10-countries")
    compute_taste_profiles(conn)
    again = audience_space(conn, before=cutoff)
    assert again.regions == before.regions
    np.testing.assert_allclose(again.similarity, before.similarity, atol=1e-6)
    now = audience_space(conn)
    kr, us = now.index("KR"), now.index("US")
    assert now.similarity[kr, us] > before.similarity[kr, us] + 0.05
