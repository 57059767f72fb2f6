"""The scene commands end to end, against their own database (these commands commit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from server.cli import app
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_engine
from server.scenes.plot import draw_curve, load_curve

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cli_env(pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pg.ensure_database("contentintel_scenes_cli")
    env = {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url("contentintel_scenes_cli"),
        "CONTENTINTEL_DATA_DIR": str(tmp_path_factory.mktemp("scenes-cli-data")),
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
        "CONTENTINTEL_EMBEDDER": "hashing",
    }
    code, output = run(env, "db", "upgrade")
    assert code == 0, output
    return env


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def jsonl(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_ingest_scenes_engagement_and_draw_the_curve(
    cli_env: dict[str, str], tmp_path: Path, pg: EmbeddedPostgres
) -> None:
    catalog = jsonl(
        tmp_path / "catalog.jsonl",
        {"external_id": "cli1", "kind": "MOVIE", "name": "Curve Movie", "duration_minutes": 10},
    )
    assert run(cli_env, "ingest", "catalog", str(catalog))[0] == 0
    scenes = tmp_path / "scenes.csv"
    scenes.write_text(
        "external_id,ordinal,start,end,description,tags\n"
        "cli1,1,0,60,Opening credits,opening-credits\n"
        "cli1,2,60,300,A chase on the rooftops,action|chase\n"
        "cli1,3,300,590,A reveal in the cellar,reveal\n",
        encoding="utf-8",
    )
    code, output = run(cli_env, "ingest", "scenes", str(scenes))
    assert code == 0, output
    assert "3 scenes in the file accepted" in output
    code, output = run(cli_env, "ingest", "scenes", str(scenes))
    assert "nothing changed" in output

    bad = tmp_path / "bad.csv"
    bad.write_text("external_id,ordinal,start,end\ncli1,1,0,60\ncli1,2,50,100\n", encoding="utf-8")
    code, output = run(cli_env, "ingest", "scenes", str(bad), "--strict")
    assert code == 1
    assert "line 3" in output
    assert "overlaps" in output
    assert "nothing written" in output

    engagement = jsonl(
        tmp_path / "engagement.jsonl",
        *(
            {
                "external_id": "cli1",
                "ordinal": k,
                "plays": 100,
                "watched_fraction": w,
                "rewatch_rate": r,
                "skip_rate": s,
                "exit_rate": x,
            }
            for k, w, r, s, x in (
                (1, 0.4, 0, 0.6, 0.05),
                (2, 0.9, 0.05, 0.02, 0.02),
                (3, 0.97, 0.2, 0.01, 0.01),
            )
        ),
        {
            "external_id": "cli1",
            "resolution_seconds": 30,
            "shares": [round(1 - 0.02 * i, 2) for i in range(20)],
        },
    )
    code, output = run(cli_env, "ingest", "engagement", str(engagement))
    assert code == 0, output
    assert "4 rows in the file accepted" in output

    engine = make_engine(pg.sqlalchemy_url("contentintel_scenes_cli"))
    try:
        with engine.connect() as conn:
            title_id = conn.execute(
                text("SELECT id FROM titles WHERE external_id = 'cli1'")
            ).scalar_one()
            embedded = conn.execute(text("SELECT count(*) FROM scene_embeddings")).scalar_one()
    finally:
        engine.dispose()
    assert embedded == 3
    out = tmp_path / "curve.png"
    code, output = run(cli_env, "curve", str(title_id), "--out", str(out))
    assert code == 0, output
    assert out.read_bytes().startswith(PNG)
    code, output = run(cli_env, "curve", "999999", "--out", str(tmp_path / "x.png"))
    assert code == 1
    code, output = run(cli_env, "embed-scenes")
    assert code == 0
    assert "0 embedded" in output


def test_draw_curve_writes_a_png_for_a_derived_curve(conn: object, tmp_path: Path) -> None:
    from sqlalchemy import Connection

    from tests.helpers import create_titles, title_record
    from tests.scenes.helpers import engagement, load_engagement, load_scenes, scene

    assert isinstance(conn, Connection)
    create_titles(conn, title_record(external_id="pl1", duration_minutes=20))
    load_scenes(conn, *(scene("pl1", k, (k - 1) * 100, k * 100) for k in range(1, 9)))
    load_engagement(
        conn,
        *(
            engagement("pl1", k, exit_rate=0.01 * k, rewatch_rate=0.01 * (9 - k))
            for k in range(1, 9)
        ),
    )
    title_id = conn.execute(text("SELECT id FROM titles WHERE external_id = 'pl1'")).scalar_one()
    data = load_curve(conn, title_id)
    assert data is not None
    assert data.curve.derived
    out = tmp_path / "derived.png"
    draw_curve(data, out)
    assert out.read_bytes().startswith(PNG)
    assert load_curve(conn, 10**9) is None
