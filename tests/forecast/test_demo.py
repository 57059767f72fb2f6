"""The demo gets synthetic charts and a current model, once."""

from __future__ import annotations

from sqlalchemy import Connection, text

from server.db import migrations
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_engine
from server.demo.forecast import FIRST_WEEK, prepare_demo_forecasts, seed_demo_charts
from server.demo.seed import seed_demo_catalog
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog


def test_demo_charts_fill_weekly_top10_lists_once(wconn: Connection) -> None:
    # Charts exist in the world already: nothing is generated twice.
    assert seed_demo_charts(wconn, seed=1) is None
    weeks = wconn.execute(text("SELECT min(week), count(DISTINCT week) FROM top10_country_weeks"))
    first, count = weeks.one()
    assert first == FIRST_WEEK
    assert count == 30
    full = wconn.execute(
        text(
            "SELECT count(*) FILTER (WHERE n = 10), count(*) FROM (SELECT region_code, week, "
            "kind, count(*) AS n FROM top10_country_weeks GROUP BY 1, 2, 3) c"
        )
    ).one()
    assert full[0] > 0.8 * full[1]  # most chart lists are full Top 10s


def test_demo_prepares_forecasts_once(pg: EmbeddedPostgres) -> None:
    pg.ensure_database("forecast_demo")
    url = pg.sqlalchemy_url("forecast_demo")
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            seed_demo_catalog(conn, n_titles=150, seed=3)
            embed_catalog(conn, HashingEmbedder())
        # The demo catalog comes with the demo world's charts (server/demo/audiences).
        lines = prepare_demo_forecasts(engine, seed=3, embedder=HashingEmbedder.name)
        assert not any(line.startswith("demo charts:") for line in lines)
        assert lines[0].startswith(("backtest at", "backtest skipped:"))
        assert lines[-1].startswith("forecast model v1:")
        assert prepare_demo_forecasts(engine, seed=3, embedder=HashingEmbedder.name) == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM forecast_models")).scalar_one() == 1
    finally:
        engine.dispose()
