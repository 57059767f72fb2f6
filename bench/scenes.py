"""Benchmark: scene and engagement ingest, and the latency of the scene queries.

    python bench/scenes.py [--titles 2400] [--regions 9] [--requests 100] [--embedder hashing]

In a throwaway embedded Postgres: the synthetic catalog (``--titles``), then synthetic scenes
for every title (``server.demo.scene_generator``; ~100,000 scenes for 2,400 titles) with engagement
in ``--regions`` regions plus the all-regions rows (~1,000,000 rows for 9 regions), written to
CSV files and loaded the way ``contentintel ingest`` loads them:

1. ``ingest scenes`` (with the description embeddings) and ``ingest engagement``: rows/s with a
   phase breakdown, then the no-op re-ingest of the engagement file;
2. p50/p99 of ``topScenes(first: 10)`` across the catalog, ``sceneTagLift`` (default
   arguments) and ``searchScenes(first: 10)`` through GraphQL over HTTP (uvicorn in a
   subprocess, one request at a time) against the same SQL through plain psycopg, interleaved
   request by request so both see the same load.

Figures are printed; nothing is asserted. Client, server and Postgres share the machine.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.similarity import start_server  # noqa: E402

ALL_REGIONS = ("US", "BR", "IN", "KR", "DE", "GB", "FR", "MX", "JP", "ES", "IT", "CA")
SEARCHES = (
    "a chase across the rooftops",
    "two sisters argue about money",
    "a secret identity is revealed",
    "a quiet kiss on the beach",
    "a shootout in the warehouse",
    "the lights go out and someone is gone",
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def write_files(
    records: list[dict[str, Any]], regions: Sequence[str], folder: Path
) -> tuple[Path, Path, Path, int, int]:
    from server.demo.scene_generator import generate_scene_data
    from server.scenes.readers import CURVE_COLUMNS, ENGAGEMENT_COLUMNS, SCENE_COLUMNS

    paths = folder / "scenes.csv", folder / "engagement.csv", folder / "curves.csv"
    handles = [p.open("w", newline="", encoding="utf-8") for p in paths]
    writers = [csv.writer(h) for h in handles]
    for writer, columns in zip(
        writers, (SCENE_COLUMNS, ENGAGEMENT_COLUMNS, CURVE_COLUMNS), strict=True
    ):
        writer.writerow(columns)
    scenes = rows = 0

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, list):
            return "|".join(str(v) for v in value)
        return value

    for start in range(0, len(records), 100):
        data = generate_scene_data(records[start : start + 100], seed=7, regions=regions)
        for record in data.scenes:
            writers[0].writerow([cell(record.get(c)) for c in SCENE_COLUMNS])
        for record in data.engagement:
            writers[1].writerow([cell(record.get(c)) for c in ENGAGEMENT_COLUMNS])
        for record in data.curves:
            writers[2].writerow([cell(record.get(c)) for c in CURVE_COLUMNS])
        scenes += len(data.scenes)
        rows += len(data.engagement)
    for handle in handles:
        handle.close()
    return *paths, scenes, rows


class Phases:
    """Progress callback recording when each phase was last reported."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last: dict[str, float] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        self.last[phase] = time.perf_counter() - self.started

    def text(self) -> str:
        previous, parts = 0.0, []
        for phase, at in sorted(self.last.items(), key=lambda kv: kv[1]):
            parts.append(f"{phase} {at - previous:.1f} s")
            previous = at
        return ", ".join(parts)


def ingest(url: str, scenes: Path, engagement: Path, curves: Path, embedder_name: str) -> None:
    from server.db.engine import make_engine
    from server.embeddings.embedders import get_embedder
    from server.scenes.ingest import ingest_engagement_file, ingest_scenes_file

    engine = make_engine(url)
    try:
        phases = Phases()
        with engine.begin() as conn:
            s = ingest_scenes_file(
                conn, scenes, fmt="csv", embedder=get_embedder(embedder_name), progress=phases
            )
        print(
            f"ingest scenes: {s.rows:,} scenes in {s.seconds:.1f} s "
            f"({s.rows / s.seconds:,.0f} scenes/s; {phases.text()}; {s.embedded:,} embedded)"
        )
        for label in ("ingest engagement", "re-ingest (no-op)"):
            phases = Phases()
            with engine.begin() as conn:
                e = ingest_engagement_file(conn, engagement, fmt="csv", progress=phases)
            print(
                f"{label}: {e.rows:,} rows in {e.seconds:.1f} s ({e.rows / e.seconds:,.0f} rows/s; "
                f"{phases.text()}; inserted {e.inserted:,}, unchanged {e.unchanged:,}, "
                f"{e.rescored_titles:,} titles rescored)"
            )
        with engine.begin() as conn:
            c = ingest_engagement_file(conn, curves, fmt="csv")
        print(f"ingest curves: {c.rows:,} curves in {c.seconds:.1f} s")
        with engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def latency(url: str, libpq: str, requests: int, embedder_name: str) -> None:
    import httpx
    import psycopg

    from server.embeddings.embedders import get_embedder
    from server.scenes import service

    top_sql = service.top_scenes_sql(
        service.SceneMetric.ENGAGEMENT, by_title=False, by_region=False
    )
    lift_sql = service.tag_lift_sql(by_region=False)
    embedder = get_embedder(embedder_name)
    search_sql = (
        "SELECT scene_id, 1 - (embedding <=> %(q)s::vector) FROM scene_embeddings "
        "WHERE embedder = %(e)s ORDER BY embedding <=> %(q)s::vector LIMIT 10"
    )

    def psql(sql: str) -> str:
        # SQLAlchemy-style :name parameters -> psycopg's %(name)s.
        import re

        return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)

    os.environ["CONTENTINTEL_EMBEDDER"] = embedder_name
    proc, base = start_server(url)
    try:
        with httpx.Client(base_url=base, timeout=60) as http, psycopg.connect(libpq) as conn:
            cases: list[tuple[str, Callable[[int], None], Callable[[int], None]]] = []

            def gql(query: str, variables: dict[str, Any] | None = None) -> None:
                body = http.post(
                    "/graphql", json={"query": query, "variables": variables or {}}
                ).json()
                if body.get("errors"):
                    raise RuntimeError(body["errors"])

            def sql(statement: str, params: dict[str, Any]) -> None:
                with conn.cursor() as cur:
                    cur.execute(statement, params)
                    cur.fetchall()
                conn.rollback()

            cases.append(
                (
                    "topScenes(first: 10)",
                    lambda i: gql(
                        "{ topScenes(first: 10) { id ordinal start end description tags score "
                        "plays watchedFraction rewatchRate skipRate exitRate } }"
                    ),
                    lambda i: sql(psql(top_sql), {"region": None, "title_id": None, "first": 10}),
                )
            )
            cases.append(
                (
                    "sceneTagLift",
                    lambda i: gql("{ sceneTagLift { tag lift low high scenes titles } }"),
                    lambda i: sql(psql(lift_sql), {"region": None, "min_scenes": 30}),
                )
            )
            vectors = [embedder.embed([q])[0] for q in SEARCHES]
            literals = ["[" + ",".join(f"{v:.7g}" for v in vec) + "]" for vec in vectors]
            cases.append(
                (
                    f"searchScenes(first: 10) [{embedder.name}]",
                    lambda i: gql(
                        "query($q: String!) { searchScenes(query: $q) { "
                        "score scene { id description tags score } } }",
                        {"q": SEARCHES[i % len(SEARCHES)]},
                    ),
                    lambda i: sql(
                        search_sql, {"q": literals[i % len(literals)], "e": embedder.name}
                    ),
                )
            )
            with conn.cursor() as cur:
                cur.execute(
                    "EXPLAIN " + psql(top_sql), {"region": None, "title_id": None, "first": 10}
                )
                plan = [line for (line,) in cur.fetchall()]
            conn.rollback()
            print("topScenes plan: " + " / ".join(p.strip() for p in plan[:4]))
            for name, via_graphql, via_sql in cases:
                via_graphql(0)
                via_sql(0)  # warm up
                g_times, s_times = [], []
                for i in range(requests):
                    started = time.perf_counter()
                    via_graphql(i)
                    g_times.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    via_sql(i)
                    s_times.append(time.perf_counter() - started)
                g50, s50 = statistics.median(g_times), statistics.median(s_times)
                print(
                    f"{name}: GraphQL p50 {ms(g50)} p99 {ms(float(np.percentile(g_times, 99)))}; "
                    f"raw SQL p50 {ms(s50)} p99 {ms(float(np.percentile(s_times, 99)))}; "
                    f"ratio {g50 / s50:.2f}x"
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--titles", type=int, default=2400)
    parser.add_argument("--regions", type=int, default=9, help=f"1..{len(ALL_REGIONS)}")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--embedder", default="hashing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore", DeprecationWarning)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from server.catalog.ingest import merge_titles, validate_rows
    from server.catalog.records import RecordValidator
    from server.db import migrations
    from server.db.embedded import EmbeddedPostgres
    from server.db.engine import make_engine
    from server.demo.generator import generate_catalog
    from server.ingest.rows import RawRow

    with tempfile.TemporaryDirectory(prefix="contentintel-bench-") as tmp:
        folder = Path(tmp)
        records = generate_catalog(args.titles, seed=7)
        started = time.perf_counter()
        scenes, engagement, curves, n_scenes, n_rows = write_files(
            records, ALL_REGIONS[: args.regions], folder
        )
        print(
            f"generated {n_scenes:,} scenes and {n_rows:,} engagement rows for {len(records):,} "
            f"titles in {time.perf_counter() - started:.1f} s "
            f"({engagement.stat().st_size / 1e6:.0f} MB of engagement CSV)"
        )
        with EmbeddedPostgres(folder / "pg", cleanup_mode="delete") as pg:
            pg.ensure_database("contentintel_bench")
            url = pg.sqlalchemy_url("contentintel_bench")
            migrations.upgrade(url)
            engine = make_engine(url)
            try:
                batch = validate_rows(
                    (RawRow(i, r) for i, r in enumerate(records, start=1)), RecordValidator()
                )
                with engine.begin() as conn:
                    merge_titles(conn, batch.titles, use_copy=True)
            finally:
                engine.dispose()
            ingest(url, scenes, engagement, curves, args.embedder)
            latency(url, pg.libpq_url("contentintel_bench"), args.requests, args.embedder)


if __name__ == "__main__":
    main()
