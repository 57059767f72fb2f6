"""Scene and engagement ingest against the real database: merge, idempotence, strictness."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from server.embeddings.embedders import HashingEmbedder
from server.scenes.embed import embed_scenes
from server.scenes.ingest import (
    InputFileError,
    StrictModeError,
    ingest_engagement_file,
    ingest_scenes_file,
)
from tests.helpers import create_titles, title_record
from tests.scenes.helpers import engagement, load_engagement, load_scenes, scene


@pytest.fixture
def titles(conn: Connection) -> dict[str, int]:
    create_titles(
        conn,
        title_record(external_id="sm1", duration_minutes=30),
        title_record(external_id="ss1", kind="SHOW", duration_minutes=None, seasons=1),
    )
    rows = conn.execute(
        text(
            "SELECT external_id, id FROM titles WHERE external_id LIKE 'sm1' OR external_id = 'ss1'"
        )
    )
    return {r[0]: r[1] for r in rows}


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_scenes_csv_loads_with_tags_people_and_embeddings(
    conn: Connection, titles: dict[str, int], tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "scenes.csv",
        ["external_id", "episode", "ordinal", "start", "end", "description", "tags", "people"],
        [
            ["sm1", "", 1, 0, 60, "Opening credits.", "opening-credits", ""],
            ["sm1", "", 2, 60, 400, "A chase across the rooftops.", "action|chase", "Ana Rivera"],
            ["ss1", 1, 1, 0, 120, "A recap.", "recap", ""],
        ],
    )
    summary = ingest_scenes_file(conn, path, fmt="csv", embedder=HashingEmbedder())
    assert (summary.inserted, summary.updated, summary.unchanged) == (3, 0, 0)
    assert summary.embedded == 3
    tags = conn.execute(
        text(
            "SELECT s.ordinal, array_agg(t.name ORDER BY t.name) FROM scenes s "
            "JOIN scene_tag_links l ON l.scene_id = s.id JOIN scene_tags t ON t.id = l.tag_id "
            "WHERE s.title_id = :id GROUP BY s.ordinal ORDER BY 1"
        ),
        {"id": titles["sm1"]},
    ).all()
    assert [tuple(r) for r in tags] == [(1, ["opening-credits"]), (2, ["action", "chase"])]
    people = (
        conn.execute(
            text(
                "SELECT p.name FROM scene_people sp JOIN people p ON p.id = sp.person_id "
                "JOIN scenes s ON s.id = sp.scene_id WHERE s.title_id = :id"
            ),
            {"id": titles["sm1"]},
        )
        .scalars()
        .all()
    )
    assert people == ["Ana Rivera"]

    again = ingest_scenes_file(conn, path, fmt="csv", embedder=HashingEmbedder())
    assert (again.inserted, again.updated, again.unchanged, again.deleted) == (0, 0, 3, 0)
    assert not again.changed
    assert again.embedded == 0


def test_a_group_is_replaced_by_the_file_and_unchanged_scenes_keep_their_ids(
    conn: Connection, titles: dict[str, int]
) -> None:
    load_scenes(conn, scene("sm1", 1, 0, 100), scene("sm1", 2, 100, 200), scene("sm1", 3, 200, 300))
    load_scenes(conn, scene("ss1", 1, 0, 100, episode=1))
    ids = dict(
        conn.execute(
            text("SELECT ordinal, id FROM scenes WHERE title_id = :id"), {"id": titles["sm1"]}
        ).all()
    )
    load_engagement(conn, engagement("sm1", 1), engagement("sm1", 2))
    counts = load_scenes(
        conn,
        scene("sm1", 1, 0, 100),
        scene("sm1", 2, 100, 250, description="Longer now."),
    )
    assert (counts.inserted, counts.updated, counts.unchanged, counts.deleted) == (0, 1, 1, 1)
    after = dict(
        conn.execute(
            text("SELECT ordinal, id FROM scenes WHERE title_id = :id"), {"id": titles["sm1"]}
        ).all()
    )
    assert after == {1: ids[1], 2: ids[2]}
    assert count(conn, "scene_engagement") == 2  # kept for the unchanged and updated scenes
    # The show's episode was not in the file: untouched.
    assert (
        conn.execute(
            text("SELECT count(*) FROM scenes WHERE title_id = :id"), {"id": titles["ss1"]}
        ).scalar_one()
        == 1
    )


def test_bad_rows_are_reported_with_lines_and_written_to_a_rejects_file(
    conn: Connection, titles: dict[str, int], tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "scenes.jsonl",
        [
            scene("sm1", 1, 0, 100),
            scene("nope", 1, 0, 100),
            scene("ss1", 1, 0, 100, episode=1),
            scene("ss1", 2, 50, 150, episode=1),
        ],
    )
    rejects = tmp_path / "rejects.csv"
    summary = ingest_scenes_file(conn, path, fmt="jsonl", rejects_path=rejects)
    assert summary.inserted == 1
    assert [(e.line, e.field) for e in summary.rejected] == [
        (2, "external_id"),
        (3, "row"),
        (4, "start"),
    ]
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,external_id,field,reason"
    assert lines[1].startswith("2,nope,external_id,unknown title")


def test_strict_mode_writes_nothing(
    conn: Connection, titles: dict[str, int], tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "scenes.jsonl", [scene("sm1", 1, 0, 100), scene("sm1", 2, 100, 50)]
    )
    with pytest.raises(StrictModeError) as raised:
        ingest_scenes_file(conn, path, fmt="jsonl", strict=True)
    assert raised.value.summary.rejected_rows == 2
    assert count(conn, "scenes") == 0


def test_a_wrong_header_rejects_the_file(
    conn: Connection, titles: dict[str, int], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "e.csv", ["external_id", "ordinal", "plays"], [["sm1", 1, 3]])
    with pytest.raises(InputFileError, match="wrong header"):
        ingest_engagement_file(conn, path, fmt="csv")


def test_engagement_csv_and_curves_load_idempotently_and_score(
    conn: Connection, titles: dict[str, int], tmp_path: Path
) -> None:
    load_scenes(conn, scene("sm1", 1, 0, 100), scene("sm1", 2, 100, 200), scene("sm1", 3, 200, 300))
    header = ["external_id", "episode", "ordinal", "region", "plays", "watched_fraction",
              "rewatch_rate", "skip_rate", "exit_rate"]  # fmt: skip
    rows = [
        ["sm1", "", 1, "", 1000, 0.95, 0.05, 0.01, 0.01],
        ["sm1", "", 2, "", 900, 0.60, 0.01, 0.30, 0.05],
        ["sm1", "", 3, "", 850, 0.90, 0.10, 0.02, 0.01],
        ["sm1", "", 3, "BR", 50, 0.90, 0.10, 0.02, 0.01],
        ["sm1", "", 3, "XX", 50, 0.90, 0.10, 0.02, 1.5],
    ]
    path = write_csv(tmp_path / "engagement.csv", header, rows)
    summary = ingest_engagement_file(conn, path, fmt="csv")
    assert (summary.inserted, summary.updated, summary.unchanged) == (4, 0, 0)
    assert [(e.line, e.field) for e in summary.rejected] == [(6, "region"), (6, "exit_rate")]
    assert summary.rescored_titles == 1
    scores = conn.execute(
        text(
            "SELECT s.ordinal, e.score FROM scene_engagement e JOIN scenes s ON s.id = e.scene_id "
            "WHERE e.region IS NULL ORDER BY s.ordinal"
        )
    ).all()
    assert scores[1][1] < 0 < scores[0][1]
    assert abs(sum(s for _, s in scores)) < 1e-5
    # A single regional row scores 0 (nothing to compare it with in its title and region).
    assert (
        conn.execute(text("SELECT score FROM scene_engagement WHERE region = 'BR'")).scalar_one()
        == 0
    )

    curves = write_jsonl(
        tmp_path / "curves.jsonl",
        [{"external_id": "sm1", "resolution_seconds": 60, "shares": [1, 0.9, 0.85, 0.8]}],
    )
    assert ingest_engagement_file(conn, curves, fmt="jsonl").curves_inserted == 1
    again = ingest_engagement_file(conn, curves, fmt="jsonl")
    assert (again.curves_inserted, again.curves_updated, again.curves_unchanged) == (0, 0, 1)
    repeat = ingest_engagement_file(conn, path, fmt="csv")
    assert (repeat.inserted, repeat.updated, repeat.unchanged) == (0, 0, 4)
    assert not repeat.changed
    assert repeat.rescored_titles == 0

    rows[1][5] = 0.7
    changed = ingest_engagement_file(conn, write_csv(path, header, rows[:4]), fmt="csv")
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 3)
    assert changed.rescored_titles == 1


def test_engagement_strict_mode_writes_nothing(
    conn: Connection, titles: dict[str, int], tmp_path: Path
) -> None:
    load_scenes(conn, scene("sm1", 1, 0, 100))
    path = write_jsonl(tmp_path / "e.jsonl", [engagement("sm1", 1), engagement("sm1", 2)])
    with pytest.raises(StrictModeError):
        ingest_engagement_file(conn, path, fmt="jsonl", strict=True)
    assert count(conn, "scene_engagement") == 0


def test_embedding_skips_unchanged_descriptions(conn: Connection, titles: dict[str, int]) -> None:
    load_scenes(conn, scene("sm1", 1, 0, 100), scene("sm1", 2, 100, 200))
    first = embed_scenes(conn, HashingEmbedder())
    assert first.embedded == 2
    load_scenes(conn, scene("sm1", 1, 0, 100), scene("sm1", 2, 100, 200, description="New text"))
    second = embed_scenes(conn, HashingEmbedder())
    assert (second.scenes, second.embedded) == (2, 1)
    assert embed_scenes(conn, HashingEmbedder()).embedded == 0


def test_deleting_a_title_cascades(conn: Connection, titles: dict[str, int]) -> None:
    load_scenes(conn, scene("sm1", 1, 0, 100))
    load_engagement(conn, engagement("sm1", 1))
    conn.execute(text("DELETE FROM titles WHERE id = :id"), {"id": titles["sm1"]})
    assert count(conn, "scenes") == 0
    assert count(conn, "scene_engagement") == 0
