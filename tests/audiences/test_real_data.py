"""The real Netflix Top 10 files against the real catalog (skipped without ../shared/data)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from server.audiences.ingest import ingest_viewing_file
from server.audiences.profiles import compute_cohorts
from server.catalog.ingest import ingest_catalog_file
from tests.conftest import NETFLIX_CSV, SHARED_DATA, requires_shared_data

TOP10 = SHARED_DATA / "top10"
COUNTRIES = TOP10 / "all-weeks-countries.tsv"
GLOBAL = TOP10 / "all-weeks-global.tsv"


@requires_shared_data
@pytest.mark.skipif(not COUNTRIES.is_file(), reason=f"Top 10 files not found in {TOP10}")
def test_real_top10_ingest_matches_and_scores(conn: Connection) -> None:
    ingest_catalog_file(conn, NETFLIX_CSV, fmt="netflix-csv")
    countries = ingest_viewing_file(conn, COUNTRIES, "top10-countries")
    glob = ingest_viewing_file(conn, GLOBAL, "top10-global")
    m, g = countries.matches, glob.matches
    print(
        f"\ncountries: {countries.accepted} rows in {countries.seconds:.2f} s "
        f"({countries.accepted / countries.seconds:,.0f} rows/s); names {m.names}: "
        f"{m.exact} exact, {m.fuzzy} fuzzy, {m.ambiguous} ambiguous, {m.unmatched} unmatched; "
        f"rows linked {m.rows_matched}/{m.rows_total}"
        f"\nglobal: names {g.names}: {g.matched} matched, {g.ambiguous} ambiguous, "
        f"{g.unmatched} unmatched; rows linked {g.rows_matched}/{g.rows_total}"
    )
    assert (countries.accepted, countries.rejected_rows) == (33_840, 0)
    assert (glob.accepted, glob.rejected_rows) == (720, 0)
    assert m.names == 1406
    # About a third of the charting titles are in the catalog snapshot.
    assert 0.3 <= m.matched / m.names <= 0.5
    assert m.ambiguous + m.unmatched == m.names - m.matched
    regions = conn.execute(text("SELECT count(DISTINCT region_code) FROM regional_scores"))
    assert regions.scalar_one() == 94
    # Scores are normalised within each region.
    top = conn.execute(
        text("SELECT max(score) FROM regional_scores GROUP BY region_code")
    ).scalars()
    assert all(0 < s <= 1 for s in top)
    again = ingest_viewing_file(conn, COUNTRIES, "top10-countries")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 33_840)
    assert again.matches == m
    # Cohorts on co-charting alone (no embeddings here): East & Southeast Asia led by Korea and
    # Thailand, Latin America, and South Asia come out as groups.
    cohorts = compute_cohorts(conn)
    print(
        "\n".join(f"{c.label}: {' '.join(code for code, _ in c.members)}" for c in cohorts.cohorts)
    )
    member_sets = [{code for code, _ in c.members} for c in cohorts.cohorts]
    asia = next(m for m in member_sets if "KR" in m)
    assert {"TH", "TW", "HK", "SG", "MY", "PH", "VN"} <= asia
    assert not asia & {"US", "GB", "MX", "BR", "IN", "FR"}
    latam = next(m for m in member_sets if "MX" in m)
    assert {"AR", "CO", "CL", "PE"} <= latam
    south_asia = next(m for m in member_sets if "IN" in m)
    assert {"PK", "BD"} <= south_asia
    assert 5 <= len(cohorts.cohorts) <= 8
