"""Synthetic regional charts of the demo world: structure like the real data."""

from __future__ import annotations

from sqlalchemy import Connection, text

from server.audiences.profiles import compute_cohorts
from server.demo.audiences import refresh_demo_comparables, seed_demo_charts
from server.demo.seed import seed_demo_catalog
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog


def test_demo_charts_have_home_bias_spill_over_and_cohorts(conn: Connection) -> None:
    summary = seed_demo_catalog(conn, n_titles=800, seed=7)
    assert summary is not None
    rows = conn.execute(
        text("SELECT count(*), count(DISTINCT region_code) FROM top10_country_weeks")
    ).one()
    assert rows[1] == 94
    assert rows[0] > 20_000
    # Every chart name is a catalog title: all matched but for names that normalise alike.
    reasons = conn.execute(
        text("SELECT reason, count(*) FROM chart_names WHERE title_id IS NULL GROUP BY 1")
    ).all()
    assert {r for r, _ in reasons} <= {"ambiguous"}
    assert sum(n for _, n in reasons) <= 5
    assert conn.execute(text("SELECT count(*) FROM regional_scores")).scalar_one() > 0
    assert conn.execute(text("SELECT count(*) FROM top10_global_weeks")).scalar_one() > 0
    # Seeding again does nothing.
    assert seed_demo_charts(conn, seed=7) is None

    def share_of_korean(region: str) -> float:
        return float(
            conn.execute(
                text(
                    "SELECT avg((tc.country_code = 'KR')::int) FROM top10_country_weeks w "
                    "JOIN title_countries tc ON tc.title_id = w.title_id AND tc.position = 0 "
                    "WHERE w.region_code = :r"
                ),
                {"r": region},
            ).scalar_one()
        )

    # Home bias, then spill-over to East & Southeast Asia, little elsewhere.
    assert share_of_korean("KR") > share_of_korean("TH") > share_of_korean("BR")
    embed_catalog(conn, HashingEmbedder())
    cohorts = compute_cohorts(conn)
    member_sets = [{code for code, _ in c.members} for c in cohorts.cohorts]
    asia = next(m for m in member_sets if "KR" in m)
    assert "TH" in asia
    assert "BR" not in asia
    latam = next(m for m in member_sets if "MX" in m)
    assert {"AR", "CO"} <= latam
    assert 5 <= len(cohorts.cohorts) <= 8


def test_demo_fits_the_learned_comparables_once(conn: Connection) -> None:
    assert seed_demo_catalog(conn, n_titles=300, seed=7) is not None
    embed_catalog(conn, HashingEmbedder())
    said = refresh_demo_comparables(conn, refit=False)
    assert said.startswith("learned comparables v1:"), said
    vectors, embedded = conn.execute(
        text("SELECT (SELECT count(*) FROM title_comparables), count(*) FROM title_embeddings")
    ).one()
    assert vectors == embedded > 0
    assert refresh_demo_comparables(conn, refit=False) == "learned comparables: up to date"
    assert refresh_demo_comparables(conn, refit=True).startswith("learned comparables v2:")
