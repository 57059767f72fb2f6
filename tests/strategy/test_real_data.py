"""Time-split validation of content gaps on the shared data (skipped without ../shared/data).

Hashing embedder (fast; micro-genres differ from minilm's, so the figures differ from the
README's minilm ones). Asserts what holds with either: the method's predicted demand share
ranks micro-genres better than the supply share and the global demand share, and its flagged
micro-genres catch new chart entries better than the catalog supply.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection

from server.audiences.ingest import ingest_viewing_file
from server.catalog.ingest import ingest_catalog_file
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog
from server.similarity.microgenres.clustering import cluster_catalog
from server.strategy.pipeline import rescore
from server.strategy.validation import validate
from tests.conftest import NETFLIX_CSV, SHARED_DATA, requires_shared_data

COUNTRIES = SHARED_DATA / "top10" / "all-weeks-countries.tsv"
CUTOFF = date(2021, 9, 15)


@requires_shared_data
@pytest.mark.skipif(not COUNTRIES.is_file(), reason=f"Top 10 file not found: {COUNTRIES}")
def test_time_split_validation_on_the_real_data(conn: Connection) -> None:
    ingest_catalog_file(conn, NETFLIX_CSV, fmt="netflix-csv")
    embed_catalog(conn, HashingEmbedder())
    cluster_catalog(conn, with_layout=False)
    ingest_viewing_file(conn, COUNTRIES, "top10-countries", rescore=rescore)
    figures = validate(conn, CUTOFF)
    print(
        f"\ntime split at {CUTOFF}: {figures.regions} regions, {figures.new_entries} new "
        f"region x title entries, tuned {figures.params}\n"
        f"  mean Spearman: method {figures.spearman['method']:.3f}, supply share "
        f"{figures.spearman['supply']:.3f}, global demand share {figures.spearman['global']:.3f}\n"
        "  lift: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.lift.items())
    )
    assert figures.regions == 94
    assert 1800 <= figures.new_entries <= 2000
    assert figures.spearman["method"] > figures.spearman["global"] > figures.spearman["supply"]
    assert figures.lift["method"] > 1.5 > figures.lift["supply"]
