"""Real-catalog titles take scene files: synthetic scene data for real titles, through the
ingest commands' file path (runtimes, kinds and cast from the public catalog)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from server.catalog.ingest import ingest_catalog_file
from server.demo.scene_generator import choose_titles, generate_scene_data
from server.demo.scenes import catalog_records
from server.embeddings.embedders import HashingEmbedder
from server.scenes.ingest import ingest_engagement_file, ingest_scenes_file
from tests.conftest import NETFLIX_CSV, requires_shared_data


@requires_shared_data
@pytest.mark.slow
def test_real_titles_take_scene_files(conn: Connection, tmp_path: Path) -> None:
    ingest_catalog_file(conn, NETFLIX_CSV, fmt="netflix-csv")
    records = catalog_records(conn)
    assert len(records) > 8000
    data = generate_scene_data(choose_titles(records, 40, seed=1), seed=1)
    scenes = tmp_path / "scenes.jsonl"
    scenes.write_text("".join(json.dumps(s) + "\n" for s in data.scenes), encoding="utf-8")
    rows = tmp_path / "engagement.jsonl"
    rows.write_text(
        "".join(json.dumps(r) + "\n" for r in [*data.engagement, *data.curves]), encoding="utf-8"
    )
    loaded = ingest_scenes_file(conn, scenes, fmt="jsonl", embedder=HashingEmbedder())
    assert loaded.rejected == []
    assert loaded.inserted == len(data.scenes)
    engagement = ingest_engagement_file(conn, rows, fmt="jsonl")
    assert engagement.rejected == []
    assert engagement.rescored_titles == 40
    # A scene past a real movie's runtime is caught.
    movie = next(r for r in records if r["kind"] == "MOVIE" and r["duration_minutes"])
    late = tmp_path / "late.jsonl"
    end = movie["duration_minutes"] * 60 + 61
    late.write_text(
        json.dumps({"external_id": movie["external_id"], "ordinal": 1, "start": 0, "end": end})
        + "\n",
        encoding="utf-8",
    )
    result = ingest_scenes_file(conn, late, fmt="jsonl")
    assert [e.field for e in result.rejected] == ["end"]
    assert "past the runtime" in result.rejected[0].reason
    assert conn.execute(text("SELECT count(DISTINCT title_id) FROM scenes")).scalar_one() == 40
