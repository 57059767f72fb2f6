"""Seed the demo database with the synthetic catalog, through the same merge as real ingests."""

from __future__ import annotations

from sqlalchemy import Connection, text

from server.catalog.ingest import IngestSummary, merge_titles, validate_rows
from server.catalog.records import RecordValidator
from server.demo.audiences import seed_demo_charts
from server.demo.generator import generate_catalog
from server.ingest.rows import RawRow


def seed_demo_catalog(conn: Connection, *, n_titles: int, seed: int) -> IngestSummary | None:
    """Load the synthetic catalog when the catalog is empty; None when it already has titles."""
    if conn.execute(text("SELECT EXISTS (SELECT 1 FROM titles)")).scalar():
        return None
    records = generate_catalog(n_titles=n_titles, seed=seed)
    batch = validate_rows(
        (RawRow(line, record) for line, record in enumerate(records, start=1)), RecordValidator()
    )
    if batch.rejected:
        # The generator is ours: a rejected record is a bug, not bad input.
        raise RuntimeError(f"demo generator produced invalid records: {batch.rejected[:3]}")
    summary = IngestSummary(source=f"synthetic catalog (seed {seed})")
    summary.inserted, summary.updated, summary.unchanged = merge_titles(
        conn, batch.titles, use_copy=True
    )
    summary.warnings = batch.warnings
    seed_demo_charts(conn, seed=seed)  # regional Top 10 charts and scores (server/demo/audiences)
    return summary
