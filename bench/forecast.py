"""Benchmark: forecast training time on the shared data and the latency of one draft forecast
through GraphQL.

    python bench/forecast.py [--embedder minilm|hashing] [--requests 50] [--runs 3]

Loads ``../shared/data`` (catalog and country Top 10) into a throwaway embedded Postgres,
embeds the charted titles (the only ones the forecaster reads) with ``--embedder`` (default
minilm), then prints:

- ``contentintel train`` time (load + tuning grid on the inner split + fit + store), median of
  ``--runs``, and a fit with fixed parameters (no tuning);
- p50/p90/p99 latency of ``forecast(draft: ...)`` through GraphQL (the app in-process over
  httpx's ASGI transport: no sockets; the draft's text is embedded with the configured
  embedder on every request, as in production), after one warm-up request that loads the
  model and the embedder. Each request uses a different synopsis so no cache helps.

Figures are printed; nothing is asserted. Client, server and Postgres share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.throwaway import throwaway_database  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUERY = """query ($draft: DraftTitleInput!) {
  forecast(draft: $draft) { modelVersion regions { region { code } probability expectedWeeks
                                                   low high rank }
                            comparables(first: 5) { similarity title { name } } } }"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from sqlalchemy import text

    from server.audiences.ingest import ingest_viewing_file
    from server.catalog.ingest import ingest_catalog_file
    from server.embeddings.embedders import get_embedder
    from server.embeddings.pipeline import embed_catalog
    from server.forecast.training import train_model

    with throwaway_database() as (url, engine):
        embedder = get_embedder(args.embedder)
        with engine.begin() as conn:
            ingest_catalog_file(conn, DATA / "netflix_titles.csv", fmt="netflix-csv")
            ingest_viewing_file(conn, DATA / "top10" / "all-weeks-countries.tsv", "top10-countries")
            conn.execute(
                text(
                    "DELETE FROM titles WHERE id NOT IN "
                    "(SELECT title_id FROM top10_country_weeks WHERE title_id IS NOT NULL)"
                )
            )
            embed_catalog(conn, embedder)
        timings, fixed = [], []
        for _ in range(args.runs):
            with engine.begin() as conn:
                started = time.perf_counter()
                summary = train_model(conn, embedder.name)
                timings.append(time.perf_counter() - started)
            with engine.begin() as conn:
                started = time.perf_counter()
                train_model(conn, embedder.name, params=summary.params)
                fixed.append(time.perf_counter() - started)
        print(
            f"train ({embedder.name}, {summary.training_titles} titles x {summary.regions} "
            f"regions): median {statistics.median(timings):.1f} s with the tuning grid "
            f"(runs {', '.join(f'{t:.1f}' for t in timings)}), "
            f"{statistics.median(fixed):.1f} s with fixed parameters"
        )
        engine.dispose()
        asyncio.run(_latency(url, args.embedder, args.requests))


async def _latency(url: str, embedder: str, requests: int) -> None:
    import httpx

    from server.app import create_app
    from server.config import load_settings

    settings = load_settings(auth="off", embedder=embedder, database_url=None)
    app = create_app(settings, database_url=url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            draft = {
                "name": "The Last Lighthouse",
                "kind": "SHOW",
                "genres": ["Crime TV Shows", "International TV Shows"],
                "originCountries": ["ES"],
                "originalLanguage": "es",
            }

            async def one(i: int) -> float:
                body = {
                    "query": QUERY,
                    "variables": {
                        "draft": {
                            **draft,
                            "synopsis": f"A detective returns to island village {i} to solve "
                            "a decades-old murder that divides her family.",
                        }
                    },
                }
                started = time.perf_counter()
                response = await client.post("/graphql", json=body)
                elapsed = time.perf_counter() - started
                payload = response.json()
                assert "errors" not in payload, payload
                return elapsed * 1000

            await one(-1)  # warm-up: loads the model state and the embedder
            samples = sorted([await one(i) for i in range(requests)])
    q = statistics.quantiles(samples, n=100)
    print(
        f"forecast(draft) through GraphQL ({embedder}, {requests} requests): "
        f"p50 {statistics.median(samples):.0f} ms, p90 {q[89]:.0f} ms, p99 {q[98]:.0f} ms"
    )


if __name__ == "__main__":
    main()
