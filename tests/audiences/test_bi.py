"""The ``bi`` views: documented, readable without joining internal tables."""

from __future__ import annotations

from sqlalchemy import Connection, text

from server.audiences.ingest import ingest_viewing_bytes
from server.audiences.profiles import compute_cohorts
from tests.audiences.charts import country_tsv
from tests.helpers import create_titles, title_record

VIEWS = ("titles", "title_regional_performance", "region_taste", "cohort_members")


def test_every_view_and_column_is_documented(conn: Connection) -> None:
    for view in VIEWS:
        comment = conn.execute(
            text("SELECT obj_description(CAST(:v AS regclass), 'pg_class')"), {"v": f"bi.{view}"}
        ).scalar_one()
        assert comment, view
        columns = conn.execute(
            text(
                "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                "WHERE a.attrelid = CAST(:v AS regclass) AND a.attnum > 0"
            ),
            {"v": f"bi.{view}"},
        ).all()
        assert columns
        assert [name for name, doc in columns if not doc] == [], view


def test_views_answer_without_joins(conn: Connection) -> None:
    create_titles(
        conn,
        title_record(
            external_id="b1",
            name="Squid Game",
            genres=["Korean TV Shows"],
            kind="SHOW",
            seasons=1,
            duration_minutes=None,
            origin_countries=["KR"],
        ),
    )
    data = country_tsv(
        [("KR", "2021-10-03", "TV", 1, "Squid Game"), ("TH", "2021-10-03", "TV", 2, "Squid Game")]
    )
    ingest_viewing_bytes(conn, data, "top10-countries")
    compute_cohorts(conn, k=1)
    perf = conn.execute(
        text(
            "SELECT region_code, region_name, title_name, points, score "
            "FROM bi.title_regional_performance ORDER BY region_code"
        )
    ).all()
    assert [tuple(r) for r in perf] == [
        ("KR", "South Korea", "Squid Game", 10, 1.0),
        ("TH", "Thailand", "Squid Game", 9, 1.0),
    ]
    title = conn.execute(
        text("SELECT name, origin_countries, genres FROM bi.titles WHERE external_id = 'b1'")
    ).one()
    assert tuple(title) == ("Squid Game", "KR", "Korean TV Shows")
    taste = conn.execute(
        text("SELECT facet, name, titles FROM bi.region_taste WHERE region_code = 'KR'")
    ).all()
    assert ("genre", "Korean TV Shows", 1) in [tuple(r) for r in taste]
    members = conn.execute(
        text("SELECT region_code, cohort_size FROM bi.cohort_members ORDER BY 1")
    ).all()
    assert [tuple(r) for r in members] == [("KR", 2), ("TH", 2)]
