"""The embed pipeline on the test database with the hashing embedder: incremental re-embeds,
stored vectors, the projection. The session database may hold other tests' titles: every check
is on this module's own external ids, or relative to what was there before."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, text

from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import (
    EmbedSummary,
    current_projection,
    embed_catalog,
    embed_text_of,
    people_facet,
)
from server.embeddings.projection import MIN_TITLES
from server.ingest import bulk
from tests.helpers import create_titles, title_record

_ids = itertools.count()
GENRES = ["Dramas", "Comedies", "Documentaries", "Horror Movies", "Thrillers"]
PLOTS = {
    "Dramas": "A family torn apart by grief learns to live again after the loss of a son.",
    "Comedies": "Two hapless roommates stumble into a hilarious scheme to pay the rent.",
    "Documentaries": "This documentary follows scientists studying glaciers melting in Greenland.",
    "Horror Movies": "A haunted house terrifies the new owners with ghosts and bloody visions.",
    "Thrillers": "A detective hunts a serial killer who leaves coded messages at crime scenes.",
}


def _records(n: int, **overrides: Any) -> list[dict[str, Any]]:
    prefix = f"emb-{next(_ids)}-"
    records = []
    for i in range(n):
        genre = GENRES[i % len(GENRES)]
        values: dict[str, Any] = {
            "external_id": f"{prefix}{i}",
            "name": f"Embedding Test {prefix}{i}",
            "synopsis": f"{PLOTS[genre]} Part {i}.",
            "genres": [genre],
        }
        records.append(title_record(**{**values, **overrides}))
    return records


def _ids_of(conn: Connection, records: list[dict[str, Any]]) -> list[int]:
    externals = [r["external_id"] for r in records]
    rows = conn.execute(
        text("SELECT id FROM titles WHERE external_id = ANY(:e) ORDER BY id"), {"e": externals}
    ).scalars()
    return list(rows)


def _count(conn: Connection, sql: str) -> int:
    value: int = conn.execute(text(sql)).scalar_one()
    return value


def _embed(conn: Connection, **flags: Any) -> EmbedSummary:
    return embed_catalog(conn, HashingEmbedder(), **flags)


def test_incremental_reembedding(conn: Connection) -> None:
    records = _records(6)
    create_titles(conn, *records)
    titles = _count(conn, "SELECT count(*) FROM titles")
    unembedded = _count(
        conn,
        "SELECT count(*) FROM titles t WHERE NOT EXISTS (SELECT FROM title_embeddings e"
        " WHERE e.title_id = t.id AND e.embedder = 'hashing-v2')",
    )
    assert unembedded >= len(records)

    first = _embed(conn)
    assert first.embedder == "hashing-v2"
    assert first.titles == titles
    assert first.texts_embedded == unembedded
    assert first.changed >= unembedded
    mine = _ids_of(conn, records)
    assert _count(conn, "SELECT count(*) FROM title_embeddings") == titles
    stored = conn.execute(
        text("SELECT count(*) FROM title_embeddings WHERE title_id = ANY(:ids)"), {"ids": mine}
    ).scalar_one()
    assert stored == len(records)

    again = _embed(conn)
    assert (again.changed, again.texts_embedded, again.projection_fitted) == (0, 0, False)

    # A new synopsis: exactly that text goes through the model again.
    create_titles(conn, {**records[0], "synopsis": "An entirely new plot about pirates at sea."})
    synopsis_changed = _embed(conn)
    assert (synopsis_changed.changed, synopsis_changed.texts_embedded) == (1, 1)

    # New tags only: the row is rewritten, the text is not embedded again.
    before = conn.execute(
        text("SELECT tags, text FROM title_embeddings WHERE title_id = :id"),
        {"id": mine[1]},
    ).one()
    create_titles(
        conn, {**records[1], "tags": [{"kind": "MOOD", "name": "uplifting", "weight": 0.9}]}
    )
    tags_changed = _embed(conn)
    assert (tags_changed.changed, tags_changed.texts_embedded) == (1, 0)
    after = conn.execute(
        text("SELECT tags, text FROM title_embeddings WHERE title_id = :id"), {"id": mine[1]}
    ).one()
    assert str(after.text) == str(before.text)
    assert str(after.tags) != str(before.tags)

    rebuilt = _embed(conn, rebuild=True)
    assert rebuilt.texts_embedded == rebuilt.changed == rebuilt.titles == titles


def test_a_title_without_synopsis_embeds_its_name(conn: Connection) -> None:
    (record,) = _records(1, synopsis=None)
    create_titles(conn, record)
    _embed(conn)
    (title_id,) = _ids_of(conn, [record])
    row = conn.execute(
        text("SELECT text::text AS vector FROM title_embeddings WHERE title_id = :id"),
        {"id": title_id},
    ).one()
    stored = np.asarray([float(v) for v in row.vector.strip("[]").split(",")], dtype=np.float32)
    assert embed_text_of(record["name"], None) == record["name"]
    expected = HashingEmbedder().embed([record["name"]])[0]
    np.testing.assert_allclose(stored, expected, atol=1e-6)


def test_stored_vectors_are_unit_length(conn: Connection) -> None:
    records = _records(MIN_TITLES + 10)
    for i, record in enumerate(records):  # each lead shares a title with one other
        record["cast"], record["directors"] = [f"Lead {i // 2}"], []
    create_titles(conn, *records)
    summary = _embed(conn, refit=True)
    assert summary.projection_fitted
    assert summary.projection_id is not None
    mine = _ids_of(conn, records)
    norms = conn.execute(
        text(
            "SELECT min(vector_norm(text)), max(vector_norm(text)),"
            " min(vector_norm(synopsis)), max(vector_norm(synopsis)),"
            " min(vector_norm(projected)), max(vector_norm(projected)),"
            " min(vector_norm(tags)), max(vector_norm(tags)),"
            " min(vector_norm(metadata)), max(vector_norm(metadata)),"
            " min(vector_norm(people)), max(vector_norm(people)),"
            " min(vector_norm(combined)), max(vector_norm(combined)),"
            " count(DISTINCT projection_id), min(projection_id)"
            " FROM title_embeddings WHERE title_id = ANY(:ids)"
        ),
        {"ids": mine},
    ).one()
    for value in norms[:14]:
        assert value == pytest.approx(1.0, abs=1e-4)
    assert (norms[14], norms[15]) == (1, summary.projection_id)


def test_people_facet_is_zero_for_names_nobody_shares_and_idf_weighted(
    conn: Connection,
) -> None:
    """A name on one title cannot be shared: left out. A name on every title says nothing
    (idf 0). A title with neither has a zero people facet (combined then has norm sqrt(3)/2)."""
    facets = people_facet(
        [
            [("CAST", "Solo Star", 0), ("CAST", "Everywhere", 1)],
            [("CAST", "Pair A", 0), ("DIRECTOR", "Everywhere", 0)],
            [("CAST", "pair a", 6), ("CAST", "Everywhere", 9), ("DIRECTOR", "Duo D", 0)],
            [("CAST", "Everywhere", 0), ("DIRECTOR", "Duo D", 0), ("CAST", "Late", 7)],
        ]
    )
    idf2 = math.log(4 / 2)
    assert facets[0] == [("CAST", "Everywhere", 0.0)]
    assert facets[1] == [("CAST", "Pair A", round(idf2, 2)), ("DIRECTOR", "Everywhere", 0.0)]
    # the director weighs double; "pair a" is the same name; cast after the 5th counts half
    assert facets[2] == [
        ("DIRECTOR", "Duo D", round(2 * idf2, 2)),
        ("CAST", "pair a", round(idf2 / 2, 2)),
        ("CAST", "Everywhere", 0.0),
    ]

    records = _records(3)
    records[0]["cast"], records[0]["directors"] = ["Only Here"], []
    create_titles(conn, *records)
    _embed(conn)
    row = conn.execute(
        text(
            "SELECT vector_norm(people), vector_norm(combined) FROM title_embeddings "
            "WHERE title_id = :id"
        ),
        {"id": _ids_of(conn, records[:1])[0]},
    ).one()
    assert row[0] == 0
    assert row[1] == pytest.approx(math.sqrt(3) / 2, abs=1e-4)


def test_the_projection_is_stored_evaluated_and_reused(conn: Connection) -> None:
    records = _records(MIN_TITLES + 10)
    create_titles(conn, *records)
    summary = _embed(conn, refit=True)
    metrics = summary.metrics
    assert metrics["held_out_titles"] + metrics["train_titles"] >= len(records)
    for key in ("random", "raw", "projected", "synopsis_facet"):
        assert 0.0 <= metrics[f"genre_agreement_{key}"] <= 1.0

    found = current_projection(conn, "hashing-v2")
    assert found is not None
    projection_id, projection = found
    assert projection_id == summary.projection_id
    assert set(GENRES) <= set(projection.genres)
    stored_metrics = conn.execute(
        text("SELECT metrics FROM embedding_projections WHERE id = :id"), {"id": projection_id}
    ).scalar_one()
    assert stored_metrics["genre_agreement_projected"] == metrics["genre_agreement_projected"]

    # The stored projection reproduces the stored projected vectors.
    (title_id, *_) = _ids_of(conn, records)
    row = conn.execute(
        text(
            "SELECT text::text AS text_vector, projected::text AS projected FROM title_embeddings"
            " WHERE title_id = :id"
        ),
        {"id": title_id},
    ).one()

    def parse(value: str) -> np.ndarray:
        return np.asarray([float(v) for v in value.strip("[]").split(",")], dtype=np.float32)

    np.testing.assert_allclose(
        projection.apply(parse(row.text_vector)), parse(row.projected), atol=1e-5
    )

    # An unchanged re-run keeps the projection; refit makes a new one and rewrites every row.
    assert _embed(conn).projection_id == projection_id
    refitted = _embed(conn, refit=True)
    assert refitted.projection_id != projection_id
    assert refitted.changed == refitted.titles
    assert refitted.texts_embedded == 0
    assert _count(conn, "SELECT count(*) FROM embedding_projections WHERE is_current") >= 1


def test_progress_reports_each_phase(conn: Connection) -> None:
    records = _records(MIN_TITLES + 5)
    create_titles(conn, *records)
    seen: dict[str, list[tuple[int, int]]] = {}
    summary = embed_catalog(
        conn,
        HashingEmbedder(),
        rebuild=True,
        progress=lambda phase, done, total: seen.setdefault(phase, []).append((done, total)),
    )
    n = summary.titles
    assert list(seen) == ["embed", "fit", "write"]
    for phase in ("embed", "write"):
        assert seen[phase][0] == (0, n)
        assert seen[phase][-1] == (n, n)
    assert seen["fit"][0][0] == 0
    assert seen["fit"][-1][0] == seen["fit"][-1][1] >= len(records)


def _hnsw_definitions(conn: Connection) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'title_embeddings'"
            " AND indexdef ILIKE '%USING hnsw%' ORDER BY indexname"
        )
    ).scalars()
    return list(rows)


def test_a_bulk_write_rebuilds_the_hnsw_indexes_as_they_were(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records(8)
    create_titles(conn, *records)
    _embed(conn)
    definitions = _hnsw_definitions(conn)
    assert len(definitions) == 2
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    # Rewrite every row (bulk: drop the indexes, replace the rows by COPY, recreate them)...
    create_titles(conn, {**records[2], "synopsis": "A brand new synopsis about dragons."})
    summary = _embed(conn, rebuild=True)
    assert summary.changed == summary.titles == _count(conn, "SELECT count(*) FROM titles")
    assert _hnsw_definitions(conn) == definitions
    assert _count(conn, "SELECT count(*) FROM title_embeddings") == summary.titles
    # ...with the same content as an incremental write would give, the index usable.
    (title_id,) = _ids_of(conn, [records[2]])
    nearest = conn.execute(
        text(
            "SELECT title_id FROM title_embeddings ORDER BY text <=> "
            "(SELECT text FROM title_embeddings WHERE title_id = :id) LIMIT 1"
        ),
        {"id": title_id},
    ).scalar_one()
    assert nearest == title_id
    again = _embed(conn)
    assert (again.changed, again.texts_embedded) == (0, 0)
