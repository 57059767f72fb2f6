"""Embed scene descriptions into ``scene_embeddings`` (384-d, HNSW cosine) with the configured
embedder. The embedded text is the description, or the scene's tags when it has none. Each row
keeps a hash of (embedder, text): an unchanged description is never embedded twice."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from server.embeddings.embedders import Embedder
from server.ingest.bulk import drop_hnsw_for_bulk_write, recreate_indexes
from server.ingest.summary import PhaseProgress

_BATCH = 2048


@dataclass(frozen=True)
class SceneEmbedSummary:
    embedder: str
    scenes: int
    embedded: int
    seconds: float


def scene_text(description: str | None, tags: Sequence[str]) -> str:
    if description and description.strip():
        return description.strip()
    return ", ".join(tags) + " scene" if tags else "scene"


def text_hash(embedder: str, value: str) -> str:
    return hashlib.sha256(f"{embedder}\x00{value}".encode()).hexdigest()


def vector_literal(vector: Any) -> str:
    return "[" + ",".join(f"{float(v):.7g}" for v in vector) + "]"


def embed_scenes(
    conn: Connection,
    embedder: Embedder,
    *,
    title_ids: Sequence[int] | None = None,
    progress: PhaseProgress | None = None,
) -> SceneEmbedSummary:
    """Bring the embeddings of ``title_ids``' scenes (all scenes when None) up to date."""
    started = time.perf_counter()
    where = "WHERE s.title_id = ANY(:ids)" if title_ids is not None else ""
    rows = conn.execute(
        text(
            f"""
            SELECT s.id, s.description,
                   coalesce(array(SELECT t.name FROM scene_tag_links l
                                  JOIN scene_tags t ON t.id = l.tag_id
                                  WHERE l.scene_id = s.id ORDER BY t.name), '{{}}') AS tags,
                   e.text_hash
            FROM scenes s LEFT JOIN scene_embeddings e ON e.scene_id = s.id
            {where}
            ORDER BY s.id
            """
        ),
        {"ids": list(title_ids or [])},
    ).all()
    todo: list[tuple[int, str, str]] = []
    for scene_id, description, tags, stored in rows:
        value = scene_text(description, tags)
        digest = text_hash(embedder.name, value)
        if digest != stored:
            todo.append((int(scene_id), value, digest))
    if todo:
        conn.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS stage_scene_embeddings "
                "(scene_id bigint, embedder text, text_hash text, embedding text) ON COMMIT DROP; "
                "TRUNCATE stage_scene_embeddings"
            )
        )
    done = 0
    for start in range(0, len(todo), _BATCH):
        part = todo[start : start + _BATCH]
        vectors = embedder.embed([value for _, value, _ in part])
        rows_out = [
            (scene_id, embedder.name, digest, vector_literal(vectors[n]))
            for n, (scene_id, _, digest) in enumerate(part)
        ]
        raw = conn.connection.driver_connection
        if raw is not None and hasattr(raw, "pipeline") and not _is_async(raw):
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY stage_scene_embeddings (scene_id, embedder, text_hash, embedding) "
                    "FROM STDIN"
                ) as copy,
            ):
                for row in rows_out:
                    copy.write_row(row)
        else:
            conn.execute(
                text(
                    "INSERT INTO stage_scene_embeddings VALUES "
                    "(:scene_id, :embedder, :text_hash, :embedding)"
                ),
                [
                    {"scene_id": r[0], "embedder": r[1], "text_hash": r[2], "embedding": r[3]}
                    for r in rows_out
                ],
            )
        done += len(part)
        if progress:
            progress("embed", done, len(todo))
    # The bulk-load rule (server.ingest.bulk), as for title embeddings.
    indexes = drop_hnsw_for_bulk_write(conn, "scene_embeddings", len(todo)) if todo else []
    if todo:
        conn.execute(
            text(
                """
                INSERT INTO scene_embeddings (scene_id, embedder, text_hash, embedding)
                SELECT scene_id, embedder, text_hash, embedding::vector
                FROM stage_scene_embeddings
                ON CONFLICT (scene_id) DO UPDATE SET
                    embedder = excluded.embedder, text_hash = excluded.text_hash,
                    embedding = excluded.embedding
                """
            )
        )
    recreate_indexes(conn, indexes)
    if todo:
        conn.execute(text("ANALYZE scene_embeddings"))
    return SceneEmbedSummary(embedder.name, len(rows), len(todo), time.perf_counter() - started)


def _is_async(raw: Any) -> bool:
    import psycopg

    return isinstance(raw, psycopg.AsyncConnection)
