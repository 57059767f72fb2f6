"""``contentintel train`` and ``contentintel backtest`` end to end (their own database: they
commit)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from server.cli import app
from server.db import migrations
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_engine
from tests.forecast.world import CUTOFF, build_world


@pytest.fixture(scope="module")
def env(pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pg.ensure_database("forecast_cli")
    return {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url("forecast_cli"),
        "CONTENTINTEL_DATA_DIR": str(tmp_path_factory.mktemp("forecast-cli")),
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
        "CONTENTINTEL_EMBEDDER": "hashing",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_train_and_backtest(env: dict[str, str], pg: EmbeddedPostgres) -> None:
    url = pg.sqlalchemy_url("forecast_cli")
    migrations.upgrade(url)
    code, output = run(env, "train")
    assert code == 1, output
    assert "no chart data" in output
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            build_world(conn)
        code, output = run(env, "backtest", "--cutoff", CUTOFF.isoformat())
        assert code == 0, output
        for method in ("model", "prior (baseline)", "prior+origin (baseline)", "knn comparables"):
            assert method in output
        assert "model vs best baseline" in output
        assert "tuned on pre-cutoff weeks only" in output
        code, output = run(env, "train")
        assert code == 0, output
        assert "forecast model v1 (current)" in output
        code, output = run(env, "train")
        assert "forecast model v2 (current)" in output
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM backtests")).scalar_one() == 1
            current = conn.execute(
                text("SELECT version FROM forecast_models WHERE is_current")
            ).scalar_one()
            assert current == 2
        code, output = run(env, "backtest", "--cutoff", "2031-01-01")
        assert code == 1, output
        assert "no embedded catalog title first charts" in output
        code, output = run(env, "backtest", "--cutoff", "yesterday")
        assert code == 2
    finally:
        engine.dispose()
