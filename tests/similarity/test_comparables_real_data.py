"""Audience overlap@10 on the real shared data (skipped without ../shared/data; minilm-marked):
the measure itself (random, the most-charted list, the ceiling) and the learned comparables
against content similarity, in-sample and on the 2021-09-15 time split."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection

from server.embeddings.embedders import get_embedder
from server.embeddings.pipeline import embed_catalog
from server.similarity.comparables.service import (
    format_table,
    load_catalog,
    measure_all_titles,
    measure_time_split,
)
from tests.conftest import NETFLIX_CSV, SHARED_DATA, requires_shared_data
from tests.helpers import charting_catalog

COUNTRIES = SHARED_DATA / "top10" / "all-weeks-countries.tsv"
CUTOFF = date(2021, 9, 15)


@requires_shared_data
@pytest.mark.skipif(not COUNTRIES.is_file(), reason=f"Top 10 file not found: {COUNTRIES}")
@pytest.mark.minilm
def test_learned_comparables_beat_content_and_the_biggest_hits(conn: Connection) -> None:
    # Only charting titles are queries and candidates: embedding just those keeps the test
    # short (the genre projection and the people idf then come from them alone, so figures
    # differ a little from bench/comparables.py, which embeds the whole catalog).
    charting_catalog(conn, NETFLIX_CSV, COUNTRIES)
    embed_catalog(conn, get_embedder("minilm"))
    catalog = load_catalog(conn)
    everything = measure_all_titles(conn, catalog)
    split = measure_time_split(conn, CUTOFF, catalog)
    print("\n" + format_table([everything, split]))

    assert 520 <= everything.queries <= 560
    assert everything.regions == 94
    assert 100 <= split.queries <= 115
    assert 420 <= split.candidates <= 440
    for table in (everything, split):
        s = table.scores
        assert s["random"] < 0.04
        assert s["ceiling (own profiles)"] > 0.6
        # Content similarity is a weaker guide to who watches than the biggest hits ...
        assert s["combined (default weights)"] < s["most chart points"]
        # ... and the learned comparables beat both.
        assert s["learned comparables"] > 2 * s["combined (default weights)"]
        assert s["learned comparables"] > 1.15 * s["most chart points"]
