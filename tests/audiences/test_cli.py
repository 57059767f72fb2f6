"""The audiences CLI commands end to end, against their own database (these commands commit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import app
from server.db.embedded import EmbeddedPostgres
from tests.audiences.charts import country_tsv, global_tsv, viewing_csv

CATALOG = (
    "show_id,type,title,director,cast,country,date_added,release_year,rating,duration,"
    "listed_in,description\n"
    's1,TV Show,Squid Game,,Lee,South Korea,"September 17, 2021",2021,TV-MA,1 Season,'
    '"International TV Shows, Korean TV Shows",Debtors play deadly games.\n'
    's2,Movie,Highway Fury,Dir,Ann,United States,"June 1, 2021",2021,R,100 min,'
    "Action & Adventure,An ex-marine races across Texas.\n"
)


@pytest.fixture(scope="module")
def env(pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pg.ensure_database("contentintel_cli_audiences")
    env = {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url("contentintel_cli_audiences"),
        "CONTENTINTEL_DATA_DIR": str(tmp_path_factory.mktemp("cli-audiences")),
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
    }
    assert run(env, "db", "upgrade")[0] == 0
    return env


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_ingest_scores_and_cohorts(env: dict[str, str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG, encoding="utf-8")
    assert run(env, "ingest", "catalog", str(catalog))[0] == 0
    rows = [
        (code, week, "TV", 1, "Squid Game")
        for code in ("KR", "TH")
        for week in ("2021-09-26", "2021-10-03")
    ] + [("US", "2021-10-03", "Films", 1, "Highway Fury"), ("US", "2021-10-03", "TV", 1, "Maid")]
    charts = tmp_path / "countries.tsv"
    charts.write_text(country_tsv(rows) + "United States\tUS\t2021-10-03\tTV\t11\tX\tN/A\t1\n")
    rejects = tmp_path / "rejects.csv"
    code, output = run(env, "ingest", "top10-countries", str(charts), "--rejects", str(rejects))
    assert code == 0, output
    assert "6 rows accepted" in output
    assert (
        "3 distinct names: 2 matched (2 exact, 0 fuzzy, 0 manual), 0 ambiguous, 1 unmatched"
        in output
    )
    assert "'Maid' (SHOW): no_candidate" in output
    assert "line 8: weekly_rank: 11 out of range (1..10)" in output
    assert rejects.is_file()
    assert "scores: 3 title x region rows (2 titles, 3 regions)" in output
    code, output = run(env, "ingest", "top10-countries", str(charts))
    assert "nothing changed" in output

    code, output = run(env, "ingest", "top10-countries", str(charts), "--strict")
    assert code == 1
    assert "nothing written (strict mode)" in output

    glob = tmp_path / "global.tsv"
    glob.write_text(global_tsv([("2021-10-03", "TV (Non-English)", 1, "Squid Game", 1000)]))
    code, output = run(env, "ingest", "top10-global", str(glob))
    assert code == 0, output
    assert "1 titles with global figures" in output

    viewing = tmp_path / "viewing.csv"
    viewing.write_text(
        viewing_csv([("Squid Game", "SHOW", "KR", "2021-09-20", "2021-09-26", "hours", 10)])
    )
    code, output = run(env, "ingest", "viewing", str(viewing))
    assert code == 0, output
    assert "1 matched" in output

    code, output = run(env, "scores")
    assert code == 0, output
    assert "3 title x region rows" in output
    code, output = run(env, "cohorts", "--k", "2")
    assert code == 0, output
    assert "2 cohorts" in output
    assert "KR" in output
    assert "US" in output


def test_ingest_errors(env: dict[str, str], tmp_path: Path) -> None:
    code, output = run(env, "ingest", "top10-countries", str(tmp_path / "missing.tsv"))
    assert code == 2
    assert "no such file" in output
    wrong = tmp_path / "wrong.tsv"
    wrong.write_text("week\tcategory\n2021-10-03\tTV\n")
    code, output = run(env, "ingest", "top10-global", str(wrong))
    assert code == 1
    assert "wrong header" in output
    assert "nothing written" in output
    code, output = run(env, "cohorts", "--k", "0")
    assert code == 2
