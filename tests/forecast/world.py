"""A small synthetic world for forecast tests: demo catalog, hashing embeddings, demo charts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from server.catalog.ingest import merge_titles, validate_rows
from server.catalog.records import RecordValidator
from server.demo.forecast import seed_demo_charts
from server.demo.generator import generate_catalog
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog
from server.ingest.rows import RawRow

SEED = 7
WEEKS = 30
CUTOFF = date(2021, 12, 5)
"""Week 22 of 30 from the demo's first week: about a quarter of the launches come after."""
EMBEDDER = HashingEmbedder.name


def build_world(conn: Connection, titles: int = 500) -> None:
    records = generate_catalog(n_titles=titles, seed=SEED)
    batch = validate_rows((RawRow(i, r) for i, r in enumerate(records, 1)), RecordValidator())
    assert not batch.rejected
    merge_titles(conn, batch.titles, use_copy=True)
    embed_catalog(conn, HashingEmbedder())
    summary = seed_demo_charts(conn, seed=SEED, weeks=WEEKS, launches_per_week=4)
    assert summary is not None
