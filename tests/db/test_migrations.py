from __future__ import annotations

from sqlalchemy import inspect, pool, text

from server.db import migrations
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_engine
from server.models import drift

CATALOG_TABLES = {
    "titles",
    "tags",
    "title_tags",
    "people",
    "credits",
    "countries",
    "title_countries",
}


def _tables_and_extensions(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            extensions = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
    finally:
        engine.dispose()
    return tables, extensions


def test_upgrade_downgrade_upgrade_round_trip_and_no_drift(pg: EmbeddedPostgres) -> None:
    pg.ensure_database("contentintel_roundtrip")
    url = pg.sqlalchemy_url("contentintel_roundtrip")

    migrations.upgrade(url)
    assert migrations.current_revision(url) == migrations.head_revision()
    tables, extensions = _tables_and_extensions(url)
    assert CATALOG_TABLES <= tables
    assert {"vector", "pg_trgm", "unaccent"} <= extensions
    assert drift.check(url).clean

    migrations.downgrade(url, "base")
    assert migrations.current_revision(url) is None
    tables, extensions = _tables_and_extensions(url)
    assert tables & CATALOG_TABLES == set()
    assert not {"vector", "pg_trgm", "unaccent"} & extensions

    migrations.upgrade(url)
    report = drift.check(url)
    assert report.clean, report.differences


def test_check_reports_drift(pg: EmbeddedPostgres) -> None:
    pg.ensure_database("contentintel_drift")
    url = pg.sqlalchemy_url("contentintel_drift")
    migrations.upgrade(url)
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE titles ADD COLUMN stray integer"))
            conn.execute(text("DROP INDEX titles_name_trgm_idx"))
        report = drift.check(url)
        assert not report.clean
        joined = " ".join(report.differences)
        assert "stray" in joined
        assert "titles_name_trgm_idx" in joined
    finally:
        engine.dispose()


def test_search_indexes_are_used(engine: object) -> None:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        fts = conn.execute(
            text(
                "EXPLAIN SELECT id FROM titles "
                "WHERE search_vector @@ websearch_to_tsquery('english', 'detective')"
            )
        ).scalars()
        assert "titles_search_vector_idx" in " ".join(fts)
        trgm = conn.execute(
            text("EXPLAIN SELECT id FROM titles WHERE name % 'Strnger Thngs'")
        ).scalars()
        assert "titles_name_trgm_idx" in " ".join(trgm)
