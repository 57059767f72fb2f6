"""Benchmark: audience overlap@10 of every comparables method, the learned comparables'
neighbours of a few well-known titles, and the forecast backtest with and without them.

    python bench/comparables.py [--url URL] [--cutoff 2021-09-15] [--no-backtest]

Without ``--url`` the shared data (``../shared/data``: catalog and country Top 10) is ingested
and embedded with MiniLM into a throwaway embedded Postgres (about 10 minutes on two busy
cores); ``--url`` names a database that already holds them (``contentintel embed`` done).
Prints (nothing is asserted):

1. the overlap@10 table (README, "Learned comparables"): all titles in-sample, and the time
   split at ``--cutoff``, per method: random, each facet, the default combined similarity,
   the 10 titles with the most chart points (the same for every title), the learned
   comparables, and the ceiling (comparables chosen by the audience profiles themselves);
2. the five nearest titles of "The Irishman", "Squid Game", "Sex Education", "Stranger
   Things" and "Narcos" under content similarity (default weights) and under the learned
   comparables (fitted on every week), over the whole catalog;
3. the forecast backtest at ``--cutoff`` with today's comparables (text/tags cosine) and with
   the learned ones (NDCG@10, precision@10, ROC-AUC).

The database is left as it was: everything runs in a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.throwaway import throwaway_database  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
NAMES = ("The Irishman", "Squid Game", "Sex Education", "Stranger Things", "Narcos")
SHOW = 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="a database holding the embedded catalog and charts")
    parser.add_argument("--cutoff", type=date.fromisoformat, default=date(2021, 9, 15))
    parser.add_argument("--no-backtest", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.url:
        run(args.url, args.cutoff, not args.no_backtest)
        return
    from server.audiences.ingest import ingest_viewing_file
    from server.catalog.ingest import ingest_catalog_file
    from server.embeddings.embedders import get_embedder
    from server.embeddings.pipeline import embed_catalog

    with throwaway_database() as (url, engine):
        with engine.begin() as conn:
            ingest_catalog_file(conn, DATA / "netflix_titles.csv", fmt="netflix-csv")
            ingest_viewing_file(conn, DATA / "top10" / "all-weeks-countries.tsv", "top10-countries")
            embed_catalog(conn, get_embedder("minilm"))
        engine.dispose()
        run(url, args.cutoff, not args.no_backtest)


def run(url: str, cutoff: date, backtest: bool) -> None:
    from sqlalchemy import text

    from server.db.engine import make_engine
    from server.similarity.comparables import service

    engine = make_engine(url)
    with engine.connect() as conn, conn.begin() as transaction:
        started = time.perf_counter()
        catalog = service.load_catalog(conn)
        tables = [
            service.measure_all_titles(conn, catalog),
            service.measure_time_split(conn, cutoff, catalog),
        ]
        for t in tables:
            print(
                f"{t.setting}: {t.queries} query titles, {t.candidates} candidates, "
                f"{t.regions} regions"
            )
        print(service.format_table(tables))
        print(f"(measured in {time.perf_counter() - started:.1f} s)\n")

        fitted = service.fit_comparables(conn)
        print(
            f"learned comparables v{fitted.version}: {fitted.training_titles} titles with chart "
            f"history, {fitted.vectors} vectors ({fitted.observed} observed, the rest predicted), "
            f"{fitted.seconds:.1f} s\n"
        )
        names = dict(conn.execute(text("SELECT id, name FROM titles")).all())
        vectors = {
            int(r.title_id): np.asarray(r.vector, dtype=np.float32)
            for r in conn.execute(
                text("SELECT title_id, vector::real[] AS vector FROM title_comparables")
            )
        }
        ids = catalog.ids
        learned = np.stack([vectors[t] for t in ids])
        everyone = list(range(len(ids)))
        for name in NAMES:
            matches = [t for t in ids if names[t] == name]
            if not matches:
                print(f"{name}: not in the catalog")
                continue
            source = ids.index(matches[0])
            content = service.combined_similarity(catalog.content, [source], everyone)[0]
            audience = learned @ learned[source]
            for label, scores in (("content", content), ("learned", audience)):
                scores = scores.copy()
                scores[source] = -np.inf
                best = np.argsort(-scores, kind="stable")[:SHOW]
                listed = ", ".join(f"{names[ids[j]]} ({scores[j]:.2f})" for j in best)
                print(f"{name} [{label}]: {listed}")
        print()
        if backtest:
            _backtest(conn, cutoff, catalog.embedder or "minilm")
        transaction.rollback()
    engine.dispose()


def _backtest(conn: object, cutoff: date, embedder: str) -> None:
    from server.forecast.model import Params
    from server.forecast.training import run_backtest

    for comparables in ("content", "learned"):
        started = time.perf_counter()
        result = run_backtest(conn, embedder, cutoff, comparables=comparables)  # type: ignore[arg-type,call-arg]
        print(
            f"forecast backtest at {cutoff}, comparables {comparables}: {result.train_titles} "
            f"train / {result.test_titles} test titles, params {result.params.as_dict()}, lift "
            f"{result.lift:+.1%} over the best baseline ({time.perf_counter() - started:.0f} s)"
        )
        for m in result.methods:
            print(
                f"  {m.method:16s} NDCG@10 {m.ndcg10:.4f}  P@10 {m.precision10:.4f}  "
                f"AUC {m.auc:.4f}"
            )
    del Params


if __name__ == "__main__":
    main()
