"""Demo seeding of scene data: loads once, through the ingest's validation and merge."""

from __future__ import annotations

from sqlalchemy import Connection, text

from server.demo.scenes import seed_demo_scenes
from server.demo.seed import seed_demo_catalog
from server.embeddings.embedders import HashingEmbedder


def test_demo_scenes_load_once(conn: Connection) -> None:
    conn.execute(text("DELETE FROM titles"))
    seed_demo_catalog(conn, n_titles=60, seed=5)
    message = seed_demo_scenes(conn, seed=5, embedder=HashingEmbedder(), n_titles=12)
    assert "of 12 titles" in message
    counts = conn.execute(
        text(
            "SELECT (SELECT count(DISTINCT title_id) FROM scenes), "
            "(SELECT count(*) FROM scene_embeddings) = (SELECT count(*) FROM scenes), "
            "(SELECT count(*) FROM scene_engagement WHERE score IS NULL), "
            "(SELECT count(DISTINCT region) FROM scene_engagement)"
        )
    ).one()
    assert tuple(counts) == (12, True, 0, 5)
    assert "keeping them" in seed_demo_scenes(conn, seed=5)
