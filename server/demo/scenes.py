"""Demo scene data: synthetic scenes, engagement and curves for a subset of the catalog.

Reads the titles from the database (so it works for the synthetic catalog and any other),
picks ``n_titles`` of them deterministically, generates their scene data
(``server.demo.scene_generator``) and loads it through the same validation and merge as the ingest
commands, then embeds the descriptions. Does nothing when scenes exist already.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from server.demo.scene_generator import choose_titles, generate_scene_data
from server.embeddings.embedders import Embedder
from server.scenes.embed import embed_scenes
from server.scenes.ingest import (
    load_scene_index,
    load_title_index,
    merge_engagement,
    merge_scenes,
    raw_rows,
    validate_engagement_rows,
    validate_scene_rows,
)

DEMO_SCENE_TITLES = 200


def catalog_records(conn: Connection) -> list[dict[str, Any]]:
    """Every title as the generator needs it: id, kind, runtime, genres and cast."""
    rows = conn.execute(
        text(
            """
            SELECT t.external_id, t.kind, t.duration_minutes,
                   array(SELECT g.name FROM title_tags tt JOIN tags g ON g.id = tt.tag_id
                         WHERE tt.title_id = t.id AND g.kind = 'GENRE' ORDER BY g.name),
                   array(SELECT p.name FROM credits c JOIN people p ON p.id = c.person_id
                         WHERE c.title_id = t.id AND c.role = 'CAST' ORDER BY c.position)
            FROM titles t ORDER BY t.id
            """
        )
    )
    return [
        {
            "external_id": r[0],
            "kind": str(r[1]),
            "duration_minutes": r[2],
            "genres": list(r[3]),
            "cast": list(r[4]),
        }
        for r in rows
    ]


def seed_demo_scenes(
    conn: Connection,
    *,
    seed: int,
    embedder: Embedder | None = None,
    n_titles: int = DEMO_SCENE_TITLES,
) -> str:
    """Load demo scene data when there are no scenes yet; returns what it did, for the log."""
    if conn.execute(text("SELECT EXISTS (SELECT 1 FROM scenes)")).scalar():
        return "scenes already loaded: keeping them (no demo scenes generated)"
    records = catalog_records(conn)
    if not records:
        return "no titles: no demo scenes"
    data = generate_scene_data(choose_titles(records, n_titles, seed), seed=seed)
    scenes = validate_scene_rows(raw_rows(data.scenes), load_title_index(conn))
    if scenes.rejected:
        raise RuntimeError(f"scene generator produced invalid records: {scenes.rejected[:3]}")
    merge_scenes(conn, scenes.scenes)
    engagement = validate_engagement_rows(
        raw_rows([*data.engagement, *data.curves]), load_title_index(conn), load_scene_index(conn)
    )
    if engagement.rejected:
        raise RuntimeError(f"scene generator produced invalid rows: {engagement.rejected[:3]}")
    merge_engagement(conn, engagement.engagement, engagement.curves)
    embedded = embed_scenes(conn, embedder).embedded if embedder is not None else 0
    return (
        f"demo scenes: {len(data.scenes):,} scenes of {data.titles:,} titles, "
        f"{len(data.engagement):,} engagement rows, {len(data.curves):,} retention curves, "
        f"{embedded:,} descriptions embedded (seed {seed})"
    )
