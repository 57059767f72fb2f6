"""Training, storage and the backtest's no-leak property on the synthetic world."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import Connection, text

from server.forecast.data import load_training
from server.forecast.model import Forecaster, Params, evaluate, ndcg_at, precision_at, roc_auc
from server.forecast.service import current_model, list_backtests, list_models
from server.forecast.training import run_backtest, train_model
from tests.forecast.world import CUTOFF, EMBEDDER


def test_metrics_on_a_known_ranking() -> None:
    relevance = np.array([10.0, 0.0, 5.0, 0.0])
    perfect = np.array([4.0, 1.0, 3.0, 2.0])
    assert ndcg_at(perfect, relevance) == pytest.approx(1.0)
    assert ndcg_at(-perfect, relevance) < 0.7
    assert precision_at(perfect, relevance, k=2) == 1.0
    assert roc_auc(perfect, relevance > 0) == 1.0
    assert roc_auc(-perfect, relevance > 0) == 0.0
    assert math.isnan(roc_auc(perfect, np.zeros(4, dtype=bool)))
    flat = evaluate("x", True, np.zeros((1, 4)), relevance[None, :])
    assert flat.auc == 0.5


def test_backtest_scores_model_and_baselines_on_the_same_titles(wconn: Connection) -> None:
    result = run_backtest(wconn, EMBEDDER, CUTOFF, params=Params())
    names = [m.method for m in result.methods]
    assert names == ["model", "prior", "prior+origin", "knn comparables"]
    assert result.test_titles > 20
    assert result.train_titles > 50
    # The synthetic world has learnable structure: the model beats every baseline.
    best = result.best_baseline
    assert best is not None
    assert result.model.ndcg10 > best.ndcg10
    assert result.model.auc > 0.6
    stored = list_backtests(wconn, 5)[0]
    assert stored.id == result.backtest_id
    assert stored.cutoff == CUTOFF
    assert stored.test_titles == result.test_titles
    assert [m["method"] for m in stored.methods] == names
    assert stored.best_baseline == best.method
    assert stored.lift == pytest.approx(result.lift)


def _rotate_titles(conn: Connection, where: str) -> int:
    """Reassign chart rows of training titles (first charted before the cutoff) matching
    ``where`` to other training titles (name and id), leaving every test title's rows alone."""
    return conn.execute(
        text(
            f"""
            WITH training AS (
                SELECT title_id, row_number() OVER (ORDER BY title_id) AS n,
                       count(*) OVER () AS total
                FROM top10_country_weeks WHERE title_id IS NOT NULL
                GROUP BY title_id HAVING min(week) < :cutoff
            ), target AS (
                SELECT a.title_id AS old, b.title_id AS new, t.name
                FROM training a JOIN training b ON b.n = a.n % a.total + 1
                JOIN titles t ON t.id = b.title_id
            )
            UPDATE top10_country_weeks w SET title_id = target.new, show_title = target.name
            FROM target WHERE w.title_id = target.old AND {where}
            """
        ),
        {"cutoff": CUTOFF},
    ).rowcount


def test_backtest_cannot_see_weeks_after_the_cutoff(wconn: Connection) -> None:
    params = Params()
    before = run_backtest(wconn, EMBEDDER, CUTOFF, params=params, store=False)
    data, _ = load_training(wconn, EMBEDDER, CUTOFF)
    coef = Forecaster(data, params).fit().coef
    # Rewrite who charted after the cutoff (training titles only: test outcomes unchanged).
    assert _rotate_titles(wconn, "w.week >= :cutoff") > 0
    after = run_backtest(wconn, EMBEDDER, CUTOFF, params=params, store=False)
    data_after, _ = load_training(wconn, EMBEDDER, CUTOFF)
    assert np.array_equal(data.charted, data_after.charted)
    assert np.allclose(data.region_similarity, data_after.region_similarity)
    assert np.allclose(coef, Forecaster(data_after, params).fit().coef)
    assert after.test_titles == before.test_titles
    assert after.methods == before.methods
    # Positive control: the same change before the cutoff does move the model.
    assert _rotate_titles(wconn, "w.week < :cutoff") > 0
    moved = run_backtest(wconn, EMBEDDER, CUTOFF, params=params, store=False)
    assert moved.methods != before.methods


def test_tuning_uses_an_inner_split_of_the_training_weeks(wconn: Connection) -> None:
    result = run_backtest(wconn, EMBEDDER, CUTOFF, store=False)
    assert result.tuning is not None
    assert result.tuning.inner_cutoff is not None
    assert result.tuning.inner_cutoff < CUTOFF
    # Learned comparables (the default): k x C; the tags weight only shapes content ones.
    assert len(result.tuning.grid) == 6
    assert {g["comparables"] for g in result.tuning.grid} == {"learned"}
    assert result.params in [Params.from_dict(g) for g in result.tuning.grid]
    content = run_backtest(wconn, EMBEDDER, CUTOFF, store=False, comparables="content")
    assert content.tuning is not None
    assert len(content.tuning.grid) == 12


def test_train_stores_a_new_current_version(wconn: Connection) -> None:
    first = current_model(wconn)
    summary = train_model(wconn, EMBEDDER, params=Params(k=15))
    assert summary.version == first.version + 1
    models = list_models(wconn, 10)
    assert [m.version for m in models][:2] == [summary.version, first.version]
    assert [m.is_current for m in models][:2] == [True, False]
    assert models[0].parameters == {
        "k": 15,
        "C": 1.0,
        "tag_weight": 0.0,
        "comparables": "learned",
    }
    assert models[0].metrics["training_pairs"] == summary.training_titles * summary.regions
    loaded = current_model(wconn)
    assert loaded.version == summary.version
    assert loaded.forecaster.params.k == 15
    # The stored state round-trips: same predictions as the freshly fitted model.
    data, _ = load_training(wconn, EMBEDDER, None)
    fresh = Forecaster(data, Params(k=15)).fit()
    probs, _ = fresh.predict(data.titles[:5])
    stored, _ = loaded.forecaster.predict(data.titles[:5])
    assert np.allclose(probs, stored)


def test_decoding_a_stored_model_reads_each_array_once(
    wconn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-title reads of the npz (each one decompressing a whole array again) made loading a
    540-title model take 3.3 s on the first forecast request of every server process."""
    data, _ = load_training(wconn, EMBEDDER, None)
    model = Forecaster(data, Params()).fit()
    reads: list[str] = []
    original = np.lib.npyio.NpzFile.__getitem__

    def counted(self: np.lib.npyio.NpzFile, key: str) -> object:
        reads.append(key)
        return original(self, key)

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", counted)
    decoded = Forecaster.from_bytes(model.to_bytes(), model.params, EMBEDDER)
    assert len(data.titles) > 1
    assert sorted(reads) == sorted(set(reads))  # no array read twice
    assert [t.title_id for t in decoded.data.titles] == [t.title_id for t in data.titles]
    assert np.allclose(decoded.predict(data.titles[:3])[0], model.predict(data.titles[:3])[0])


def test_training_without_charts_is_a_clear_error(conn: Connection) -> None:
    with pytest.raises(ValueError, match="no chart data"):
        train_model(conn, EMBEDDER)
