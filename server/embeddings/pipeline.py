"""The embedding pipeline: embed new or changed titles, fit the projection, write facets by COPY.

Two hashes per row keep re-runs cheap: ``text_hash`` (embedder + embedded text) says whether
the text model must run again; ``content_hash`` (every input of every facet, and the
projection) says whether the row must be rewritten at all. An unchanged catalog re-run reads
the titles, compares hashes and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pgvector.psycopg import register_vector
from sqlalchemy import Connection, text

from server.embeddings.embedders import Embedder, Matrix
from server.embeddings.facets import (
    PersonCredit,
    TitleFeatures,
    combined_matrix,
    metadata_features,
    metadata_vector,
    people_vector,
    person_weight,
    synopsis_matrix,
    tags_vector,
)
from server.embeddings.projection import MIN_TITLES, Projection, fit_and_evaluate
from server.ingest.bulk import drop_hnsw_for_bulk_write, recreate_indexes
from server.kit.batching import grouped
from server.models.dims import PROJECTED_DIM

PhaseProgress = Callable[[str, int, int], None]
"""(phase, done, total): ``embed`` (texts through the model), ``fit`` (titles the genre
projection is fitted and evaluated on: reported at its start and end), ``write`` (rows). Each
phase is first reported with ``done=0`` when it starts."""


@dataclass
class TitleInput:
    title_id: int
    text: str
    genres: list[str]
    features: TitleFeatures
    text_hash: str
    stored_text_hash: str | None
    stored_content_hash: str | None
    people: list[PersonCredit] = field(default_factory=list)
    """Shareable credits (names on at least two titles) with their weights (``people_facet``)."""


@dataclass
class EmbedSummary:
    embedder: str
    titles: int = 0
    changed: int = 0
    texts_embedded: int = 0
    projection_id: int | None = None
    projection_fitted: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    embed_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def texts_per_second(self) -> float:
        return self.texts_embedded / self.embed_seconds if self.embed_seconds else 0.0


_LOAD_TITLES = """
SELECT t.id, t.name, t.synopsis, t.kind, t.release_year, t.maturity_rating,
       t.duration_minutes, t.seasons, t.original_language, e.text_hash, e.content_hash
FROM titles t LEFT JOIN title_embeddings e ON e.title_id = t.id
ORDER BY t.id
"""

_LOAD_TAGS = """
SELECT tt.title_id, tg.kind::text AS kind, tg.name, tt.weight::text AS weight
FROM title_tags tt JOIN tags tg ON tg.id = tt.tag_id
ORDER BY tt.title_id, tg.kind, tg.name
"""
"""``weight`` as Postgres prints a ``real`` (0.8, not 0.800000011920929), the value the
content hash has always been computed from."""

_LOAD_CREDITS = """
SELECT c.title_id, c.role::text AS role, p.name, c.position
FROM credits c JOIN people p ON p.id = c.person_id
ORDER BY c.title_id, c.role, c.position
"""
"""Countries, tags and credits each in one statement, grouped in Python. As correlated
subqueries of ``_LOAD_TITLES`` they were at the planner's mercy right after a bulk write,
before statistics caught up: it joined all of ``people`` once per title (minutes on the real
catalog), and the tags once per title of the demo catalog (minutes in a test)."""

PEOPLE_WEIGHT_DECIMALS = 2
"""Credit weights are rounded before they enter the vector and the content hash: adding a title
moves every idf a little (``log(titles / df)``), and unrounded that would rewrite every row."""


def people_facet(
    credits: Sequence[Sequence[tuple[str, str, int]]],
) -> list[list[PersonCredit]]:
    """Per title, its shareable credits with weights: ``person_weight(role, position, idf)``,
    ``idf = log(titles / titles crediting the name)`` over the given titles (the catalog); names
    credited on one title only are left out (nobody can share them). A name credited twice on
    a title (cast and director) keeps its strongest credit."""
    df: dict[str, int] = {}
    for title in credits:
        for name in {n.casefold() for _, n, _ in title}:
            df[name] = df.get(name, 0) + 1
    n = max(len(credits), 1)
    out = []
    for title in credits:
        best: dict[str, PersonCredit] = {}
        for role, name, position in title:
            key = name.casefold()
            if df[key] < 2:
                continue
            weight = round(
                person_weight(role, position, math.log(n / df[key])), PEOPLE_WEIGHT_DECIMALS
            )
            if key not in best or weight > best[key][2]:
                best[key] = (role, name, weight)
        out.append(sorted(best.values(), key=lambda c: (-c[2], c[1])))
    return out


def embed_text_of(name: str, synopsis: str | None) -> str:
    """What the text model reads for a title: its synopsis, or its name when there is none."""
    return synopsis or name


def _sha(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def countries_of_titles(conn: Connection) -> dict[int, list[str]]:
    """Every title's origin countries, in their order, read in one statement (see
    ``_LOAD_CREDITS``): the embedding and clustering inputs."""
    rows = conn.execute(
        text("SELECT title_id, country_code FROM title_countries ORDER BY title_id, position")
    )
    return grouped((int(title_id), str(code)) for title_id, code in rows)


def load_inputs(conn: Connection, embedder: Embedder) -> list[TitleInput]:
    inputs = []
    by_title = grouped(
        (int(c.title_id), (str(c.role), str(c.name), int(c.position)))
        for c in conn.execute(text(_LOAD_CREDITS))
    )
    countries_of = countries_of_titles(conn)
    tags_of = grouped(
        (int(t.title_id), (str(t.kind), str(t.name), float(t.weight)))
        for t in conn.execute(text(_LOAD_TAGS))
    )
    credits: list[list[tuple[str, str, int]]] = []
    for row in conn.execute(text(_LOAD_TITLES)):
        credits.append(by_title.get(int(row.id), []))
        tags = tags_of.get(int(row.id), [])
        body = embed_text_of(row.name, row.synopsis)
        inputs.append(
            TitleInput(
                title_id=row.id,
                text=body,
                genres=[n for k, n, _ in tags if k == "GENRE"],
                features=TitleFeatures(
                    kind=str(row.kind),
                    release_year=row.release_year,
                    maturity_rating=row.maturity_rating,
                    duration_minutes=row.duration_minutes,
                    seasons=row.seasons,
                    original_language=row.original_language,
                    countries=countries_of.get(int(row.id), []),
                    tags=tags,
                ),
                text_hash=_sha(embedder.name, body),
                stored_text_hash=row.text_hash,
                stored_content_hash=row.content_hash,
            )
        )
    for item, people in zip(inputs, people_facet(credits), strict=True):
        item.people = people
    return inputs


def _content_hash(item: TitleInput, projection_id: int | None) -> str:
    return _sha(
        item.text_hash,
        projection_id,
        json.dumps(sorted(item.features.tags)),
        json.dumps(metadata_features(item.features)),
        json.dumps(item.people),
    )


def _stored_texts(conn: Connection, ids: Sequence[int]) -> dict[int, Matrix]:
    if not ids:
        return {}
    raw = _driver(conn)
    register_vector(raw)
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT title_id, text FROM title_embeddings WHERE title_id = ANY(%s)", (list(ids),)
        )
        return {tid: _as_array(vec) for tid, vec in cursor.fetchall()}


def _as_array(value: Any) -> Matrix:
    """A loaded ``vector`` as float32: pgvector >= 0.4 loads ``Vector`` objects, older numpy."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    array: Matrix = np.asarray(value, dtype=np.float32)
    return array


def _driver(conn: Connection) -> Any:
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("no driver connection")
    return raw


def current_projection(conn: Connection, embedder: str) -> tuple[int, Projection] | None:
    row = conn.execute(
        text(
            "SELECT id, genres, matrix, fitted_on FROM embedding_projections "
            "WHERE embedder = :e AND is_current"
        ),
        {"e": embedder},
    ).one_or_none()
    if row is None:
        return None
    return row.id, Projection.from_stored(list(row.genres), row.matrix, row.fitted_on)


def _store_projection(conn: Connection, embedder: str, projection: Projection) -> int:
    conn.execute(
        text(
            "UPDATE embedding_projections SET is_current = false WHERE embedder = :e AND is_current"
        ),
        {"e": embedder},
    )
    new_id: int = conn.execute(
        text(
            "INSERT INTO embedding_projections (embedder, genres, matrix, fitted_on, metrics, "
            "is_current) VALUES (:e, :g, :m, :n, CAST(:metrics AS jsonb), true) RETURNING id"
        ),
        {
            "e": embedder,
            "g": projection.genres,
            "m": projection.to_stored(),
            "n": projection.fitted_on,
            "metrics": json.dumps(projection.metrics),
        },
    ).scalar_one()
    return new_id


def embed_catalog(
    conn: Connection,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    refit: bool = False,
    progress: PhaseProgress | None = None,
) -> EmbedSummary:
    """Bring ``title_embeddings`` up to date on ``conn`` (the caller commits)."""
    started = time.perf_counter()
    summary = EmbedSummary(embedder=embedder.name)
    inputs = load_inputs(conn, embedder)
    summary.titles = len(inputs)
    if not inputs:
        return summary

    stale_text = [i for i in inputs if rebuild or i.text_hash != i.stored_text_hash]
    texts: dict[int, Matrix] = {}
    if stale_text:
        if progress:
            progress("embed", 0, len(stale_text))
        embed_started = time.perf_counter()
        vectors = embedder.embed(
            [i.text for i in stale_text],
            (lambda done: progress("embed", done, len(stale_text))) if progress else None,
        )
        summary.embed_seconds = time.perf_counter() - embed_started
        summary.texts_embedded = len(stale_text)
        texts.update({item.title_id: vectors[n] for n, item in enumerate(stale_text)})

    found = current_projection(conn, embedder.name)
    labelled = [i for i in inputs if i.genres]
    if (rebuild or refit or found is None) and len(labelled) >= MIN_TITLES:
        texts.update(_stored_texts(conn, [i.title_id for i in inputs if i.title_id not in texts]))
        matrix = np.stack([texts[i.title_id] for i in labelled])
        labels = [i.genres for i in labelled]
        if progress:
            progress("fit", 0, len(labelled))
        projection = fit_and_evaluate(matrix, labels)
        metrics = projection.metrics
        if progress:
            progress("fit", len(labelled), len(labelled))
        summary.projection_id = _store_projection(conn, embedder.name, projection)
        summary.projection_fitted = True
        summary.metrics = metrics
    elif found is not None:
        summary.projection_id, projection = found
        summary.metrics = {}
    else:
        projection = None

    changed = [
        i
        for i in inputs
        if rebuild or _content_hash(i, summary.projection_id) != i.stored_content_hash
    ]
    summary.changed = len(changed)
    if changed:
        texts.update(_stored_texts(conn, [i.title_id for i in changed if i.title_id not in texts]))
        _write(conn, embedder.name, summary.projection_id, projection, changed, texts, progress)
    summary.seconds = time.perf_counter() - started
    return summary


def _write(
    conn: Connection,
    embedder: str,
    projection_id: int | None,
    projection: Projection | None,
    items: Sequence[TitleInput],
    texts: dict[int, Matrix],
    progress: PhaseProgress | None,
) -> None:
    if progress:
        progress("write", 0, len(items))
    text_matrix = np.stack([texts[i.title_id] for i in items])
    projected = (
        projection.apply(text_matrix)
        if projection is not None
        else np.zeros((len(items), PROJECTED_DIM), dtype=np.float32)
    )
    synopsis = synopsis_matrix(text_matrix, projected)
    tags = np.stack([tags_vector(i.features.tags) for i in items])
    metadata = np.stack([metadata_vector(i.features) for i in items])
    people = np.stack([people_vector(i.people) for i in items])
    combined = combined_matrix(synopsis, tags, metadata, people)
    columns = (
        "title_id, embedder, projection_id, text_hash, content_hash, "
        "text, synopsis, projected, tags, metadata, people, combined"
    )
    # The bulk-load rule (server.ingest.bulk): a bulk write drops the HNSW indexes and replaces the
    # rows by COPY straight into the table (no staging: nothing else can write meanwhile);
    # smaller writes go through a staging table and an upsert, the indexes kept.
    indexes = drop_hnsw_for_bulk_write(conn, "title_embeddings", len(items))
    if indexes:
        conn.execute(
            text("DELETE FROM title_embeddings WHERE title_id = ANY(:ids)"),
            {"ids": [i.title_id for i in items]},
        )
        target = "title_embeddings"
    else:
        conn.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS stage_embeddings "
                "(LIKE title_embeddings INCLUDING DEFAULTS) ON COMMIT DROP; "
                "TRUNCATE stage_embeddings"
            )
        )
        target = "stage_embeddings"
    raw = _driver(conn)
    register_vector(raw)
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {target} ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int8", "text", "int8", "text", "text"] + ["vector"] * 7)
        for n, item in enumerate(items):
            copy.write_row(
                (
                    item.title_id,
                    embedder,
                    projection_id,
                    item.text_hash,
                    _content_hash(item, projection_id),
                    text_matrix[n],
                    synopsis[n],
                    projected[n],
                    tags[n],
                    metadata[n],
                    people[n],
                    combined[n],
                )
            )
            if progress and (n + 1) % 500 == 0:
                progress("write", n + 1, len(items))
    if indexes:
        recreate_indexes(conn, indexes)
    else:
        conn.execute(
            text(
                f"""
                INSERT INTO title_embeddings ({columns}, updated_at)
                SELECT {columns}, now() FROM stage_embeddings
                ON CONFLICT (title_id) DO UPDATE SET
                    embedder = excluded.embedder, projection_id = excluded.projection_id,
                    text_hash = excluded.text_hash, content_hash = excluded.content_hash,
                    text = excluded.text, synopsis = excluded.synopsis,
                    projected = excluded.projected, tags = excluded.tags,
                    metadata = excluded.metadata, people = excluded.people,
                    combined = excluded.combined,
                    updated_at = now();
                TRUNCATE stage_embeddings;
                """
            )
        )
    conn.execute(text("ANALYZE title_embeddings"))
    if progress:
        progress("write", len(items), len(items))
