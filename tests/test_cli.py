"""The CLI end to end, against its own database (these commands commit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import app
from server.db import migrations
from server.db.embedded import EmbeddedPostgres

HEADER = (
    "show_id,type,title,director,cast,country,date_added,release_year,rating,duration,"
    "listed_in,description\n"
)
GOOD = [
    's1,Movie,First,Dir A,"Ann, Bob",United States,"September 25, 2021",2020,PG-13,90 min,'
    "Dramas,A story.\n",
    's2,TV Show,Second,,Cy,"France, Atlantis","June 1, 2020",2019,TV-MA,2 Seasons,'
    '"TV Dramas, Crime TV Shows",Another story.\n',
]
BAD = 's3,Film,Third,,,,,"20x1",,,Dramas,Bad.\n'


@pytest.fixture(scope="module")
def cli_env(pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pg.ensure_database("contentintel_cli")
    return {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url("contentintel_cli"),
        "CONTENTINTEL_DATA_DIR": str(tmp_path_factory.mktemp("cli-data")),
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_db_commands(cli_env: dict[str, str]) -> None:
    code, output = run(cli_env, "db", "upgrade")
    assert code == 0, output
    code, output = run(cli_env, "db", "current")
    assert f"current: {migrations.head_revision()}" in output
    code, output = run(cli_env, "db", "check")
    assert code == 0, output
    assert "no drift" in output
    code, output = run(cli_env, "db", "downgrade", "base")
    assert code == 0, output
    code, output = run(cli_env, "db", "check")
    assert code == 1
    assert "drift" in output
    code, output = run(cli_env, "db", "upgrade")
    assert code == 0


def test_ingest_catalog_reports_and_is_idempotent(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "db", "upgrade")
    path = tmp_path / "catalog.csv"
    path.write_text(HEADER + "".join(GOOD) + BAD, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    code, output = run(cli_env, "ingest", "catalog", str(path), "--rejects", str(rejects))
    assert code == 0, output
    assert "line 4 (s3): type: unknown type 'Film'" in output
    assert "unknown country 'Atlantis'" in output
    row = next(line for line in output.splitlines() if line.startswith("│"))
    assert [cell.strip() for cell in row.strip("│").split("│")][:4] == ["2", "0", "0", "1"]
    assert rejects.read_text().splitlines()[0] == "line,external_id,field,reason"

    code, output = run(cli_env, "ingest", "catalog", str(path), "--rejects", str(rejects))
    assert code == 0
    assert "nothing changed" in output


def test_ingest_strict_writes_nothing(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "db", "upgrade")
    path = tmp_path / "strict.csv"
    path.write_text(HEADER + GOOD[0].replace("s1", "strict1") + BAD, encoding="utf-8")
    code, output = run(cli_env, "ingest", "catalog", str(path), "--strict")
    assert code == 1
    assert "nothing written" in output
    path.write_text(HEADER + GOOD[0].replace("s1", "strict1"), encoding="utf-8")
    code, output = run(cli_env, "ingest", "catalog", str(path), "--strict")
    assert code == 0
    row = next(line for line in output.splitlines() if line.startswith("│"))
    assert row.split("│")[1].strip() == "1", "the title refused before was never written"


def test_ingest_file_errors(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "db", "upgrade")
    code, output = run(cli_env, "ingest", "catalog", str(tmp_path / "missing.csv"))
    assert code == 2
    assert "no such file" in output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,name\n1,x\n", encoding="utf-8")
    code, output = run(cli_env, "ingest", "catalog", str(wrong))
    assert code == 1
    assert "wrong header" in output
    assert "nothing written" in output
    odd = tmp_path / "catalog.xlsx"
    odd.write_text("x", encoding="utf-8")
    code, output = run(cli_env, "ingest", "catalog", str(odd))
    assert code == 2
    assert "--format" in output


def test_commands_refuse_an_unmigrated_database(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "db", "downgrade", "base")
    try:
        path = tmp_path / "c.csv"
        path.write_text(HEADER + GOOD[0], encoding="utf-8")
        code, output = run(cli_env, "ingest", "catalog", str(path))
        assert code == 1
        assert "contentintel db upgrade" in output
    finally:
        run(cli_env, "db", "upgrade")


def test_invalid_setting_fails_at_start_naming_it(cli_env: dict[str, str]) -> None:
    code, output = run({**cli_env, "CONTENTINTEL_PORT": "eighty"}, "db", "current")
    assert code == 2
    assert "CONTENTINTEL_PORT" in output


def test_schema_export(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    code, output = run({}, "schema", "--output", str(target))
    assert code == 0, output
    assert "type Query" in target.read_text()


def test_embedded_cluster_is_shared_between_processes(tmp_path: Path) -> None:
    """A second process reuses the running cluster and does not stop it when it exits."""
    holder = EmbeddedPostgres(tmp_path).start()
    try:
        pid_before = holder._server.get_pid()
        env = {
            **os.environ,
            "CONTENTINTEL_DATA_DIR": str(tmp_path),
            "CONTENTINTEL_DATABASE_URL": "",
            "CONTENTINTEL_LOG_LEVEL": "WARNING",
        }
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-m", "server", "db", "current"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert "head:" in done.stdout
        holder.ensure_database()
        assert holder._server.get_pid() == pid_before
        # A holder killed without releasing the cluster must not keep it running forever.
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        holders = tmp_path / "pg" / ".handle_pids.json"
        holders.write_text(json.dumps([*json.loads(holders.read_text()), int(dead.stdout)]))
    finally:
        holder.stop()
    assert not (tmp_path / "pg" / "postmaster.pid").exists(), "the last holder stops the cluster"


def test_comparables_command_explains_what_it_needs(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    run(cli_env, "db", "upgrade")
    code, output = run(cli_env, "comparables", "--before", "2021-13-01")
    assert code == 2
    assert "--before must be a date YYYY-MM-DD" in output
    path = tmp_path / "catalog.csv"
    path.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    assert run(cli_env, "ingest", "catalog", str(path))[0] == 0
    code, output = run(cli_env, "embed", "--embedder", "hashing")
    assert code == 0, output
    # Embedded titles but no chart history: nothing to learn audiences from.
    code, output = run(cli_env, "comparables")
    assert code == 1
    assert "at least two titles with chart history" in output
