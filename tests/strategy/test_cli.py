"""`contentintel gaps` end to end, against its own database (the world is committed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import app
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_engine
from tests.strategy.world import build


@pytest.fixture(scope="module")
def env(pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pg.ensure_database("contentintel_cli_strategy")
    env = {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url("contentintel_cli_strategy"),
        "CONTENTINTEL_DATA_DIR": str(tmp_path_factory.mktemp("cli-strategy")),
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
    }
    assert run(env, "db", "upgrade")[0] == 0
    engine = make_engine(pg.sqlalchemy_url("contentintel_cli_strategy"))
    with engine.begin() as conn:
        build(conn)
    engine.dispose()
    return env


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, terminal_width=200)
    return result.exit_code, result.output


def test_gaps_table_and_quadrant(env: dict[str, str], tmp_path: Path) -> None:
    png = tmp_path / "gaps.png"
    code, output = run(env, "gaps", "--region", "br", "--out", str(png))
    assert code == 0, output
    assert "BR: micro genre gaps, 2021-08-01..2021-09-19" in output
    lines = [line for line in output.splitlines() if "│" in line]
    assert "Nordic Noir Shows" in lines[0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, output = run(env, "gaps", "--region", "BR", "--level", "parent-genre", "--soft")
    assert code == 0, output
    assert "Crime TV Shows" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one of --region / --cohort"),
        (("--region", "BR", "--cohort", "1"), "exactly one of --region / --cohort"),
        (("--region", "BR", "--from", "yesterday"), "--from must be a date"),
        (("--region", "BR", "--level", "genre"), "--level must be"),
    ],
)
def test_gaps_usage_errors(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    code, output = run(env, "gaps", *args)
    assert code == 2
    assert message in output


def test_gaps_bad_market_or_window(env: dict[str, str]) -> None:
    code, output = run(env, "gaps", "--region", "ZZ")
    assert code == 1
    assert "market.region" in output
    code, output = run(env, "gaps", "--region", "BR", "--from", "2021-09-01", "--to", "2021-08-01")
    assert code == 1
    assert "reversed" in output
