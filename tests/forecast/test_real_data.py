"""The forecaster on the real shared data (skipped without ../shared/data; minilm-marked)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection

from server.embeddings.embedders import get_embedder
from server.embeddings.pipeline import embed_catalog
from server.forecast.training import TARGET_LIFT, run_backtest
from tests.conftest import NETFLIX_CSV, SHARED_DATA, requires_shared_data
from tests.helpers import charting_catalog

COUNTRIES = SHARED_DATA / "top10" / "all-weeks-countries.tsv"
CUTOFF = date(2021, 9, 15)


@requires_shared_data
@pytest.mark.skipif(not COUNTRIES.is_file(), reason=f"Top 10 file not found: {COUNTRIES}")
@pytest.mark.minilm
def test_model_beats_the_baselines_on_the_real_data(conn: Connection) -> None:
    # Only charted titles enter the forecaster (its training rows, comparables and test
    # titles): embedding just those keeps the test short and changes no figure.
    charting_catalog(conn, NETFLIX_CSV, COUNTRIES)
    embedder = get_embedder("minilm")
    embed_catalog(conn, embedder)
    result = run_backtest(conn, embedder.name, CUTOFF)
    rows = "\n".join(
        f"  {m.method:16s} NDCG@10 {m.ndcg10:.4f}  P@10 {m.precision10:.4f}  AUC {m.auc:.4f}"
        for m in result.methods
    )
    print(
        f"\nbacktest at {CUTOFF}: {result.train_titles} train / {result.test_titles} test "
        f"titles, params {result.params.as_dict()}, lift {result.lift:+.1%}\n{rows}"
    )
    assert 100 <= result.test_titles <= 115
    best = result.best_baseline
    assert best is not None
    assert best.method == "prior+origin"
    assert result.lift is not None
    assert result.lift >= TARGET_LIFT
    assert result.model.auc > best.auc
