"""Benchmark: HNSW recall@10 and the latency and throughput of ``similarTitles``.

    python bench/similarity.py [--catalog-url URL] [--embedder minilm|hashing]
                               [--distribution clustered|uniform|both|none] [--vectors 100000]
                               [--queries 200] [--requests 300] [--seconds 10]

1. Synthetic: ``--vectors`` unit vectors of 384 dims, ``clustered`` (1,000 Gaussian clusters,
   each point at cosine ~0.7 from its centre, like sentence embeddings; the default) or
   ``uniform`` (random directions: no neighbourhood structure at all, the worst case for a
   graph index, where HNSW recall collapses), in a table the script creates in a
   scratch database of a throwaway embedded Postgres, with the product's HNSW parameters
   (m=16, ef_construction=64, cosine). Recall@10 of ``ORDER BY v <=> q LIMIT 10`` for
   held-out queries against the exact (sequential) scan in SQL, per ``hnsw.ef_search`` (the
   service uses ``EF_SEARCH``), with the latency of both.
2. Real catalog (``../shared/data/netflix_titles.csv``): unless ``--catalog-url`` names a
   database that already holds the embedded catalog, it is ingested and embedded (with
   ``--embedder``, default minilm) into the throwaway cluster.
   - recall@10 of ``similarTitles`` (default weights, no filter: the SQL the service runs)
     against exact scores computed with numpy from the stored ``combined`` vectors;
   - p50/p99 latency of ``similarTitles(first: 10)`` through GraphQL over HTTP (uvicorn on
     127.0.0.1 in a subprocess, one request at a time; the client is a keep-alive
     http.client connection, and httpx is timed too to show what a heavier client adds)
     against the same SQL (compiled from
     ``similar_statement``, on a connection with the same ``server.db.tuning`` settings)
     through plain psycopg, both in autocommit as the API's queries are (the statement alone,
     no BEGIN / ROLLBACK), the two taking turns in blocks of requests so that both see the
     same machine load;
   - requests/s with 8 concurrent clients, GraphQL and raw SQL.

Figures are printed; nothing here asserts on them. Everything runs on one machine: client,
server and Postgres share the CPUs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "netflix_titles.csv"
DIM = 384
K = 10
CONCURRENCY = 8

GRAPHQL = """query($id: ID!) { similarTitles(titleId: $id, first: 10) {
  score
  title { id externalId kind name synopsis releaseYear }
  explanation { sharedTags { kind name weight } facetScores { synopsis tags metadata } } } }"""


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# --- synthetic ----------------------------------------------------------------------------------


def unit_rows(points: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    unit: np.ndarray[Any, Any] = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(
        np.float32
    )
    return unit


def synthetic(distribution: str, n: int, queries: int) -> tuple[Any, Any]:
    """(data, held-out queries): ``clustered`` (1,000 Gaussian clusters, each point at cosine
    ~0.7 from its centre, like sentence embeddings) or ``uniform`` (random directions, the
    hardest case for a graph index: no structure, near-equal distances)."""
    rng = np.random.default_rng(42)
    if distribution == "uniform":
        return (
            unit_rows(rng.standard_normal((n, DIM), dtype=np.float32)),
            unit_rows(rng.standard_normal((queries, DIM), dtype=np.float32)),
        )
    centres = unit_rows(rng.standard_normal((1000, DIM), dtype=np.float32))

    def draw(count: int) -> np.ndarray[Any, Any]:
        picks = rng.integers(0, len(centres), count)
        noise = rng.standard_normal((count, DIM), dtype=np.float32) / np.float32(np.sqrt(DIM))
        return unit_rows(centres[picks] + noise)

    return draw(n), draw(queries)


def bench_synthetic(
    libpq_url: str, distribution: str, n: int, queries: int, ef_values: Sequence[int]
) -> None:
    import psycopg
    from pgvector.psycopg import register_vector

    print(f"\n== synthetic, {distribution}: {n:,} vectors, {DIM} dims, {queries} held-out queries")
    data, probes = synthetic(distribution, n, queries)
    query = "SELECT id FROM bench_items ORDER BY v <=> %s LIMIT 10"

    # No server-side prepared statements: a cached plan would ignore enable_indexscan.
    with psycopg.connect(libpq_url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS bench_items")
        conn.execute(f"CREATE TABLE bench_items (id integer PRIMARY KEY, v vector({DIM}))")
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_items (id, v) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["int4", "vector"])
            for i, row in enumerate(data):
                copy.write_row((i, row))
        loaded = time.perf_counter() - started
        conn.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        conn.execute(
            "CREATE INDEX ON bench_items USING hnsw (v vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        built = time.perf_counter() - started
        conn.execute("ANALYZE bench_items")
        print(f"COPY {n / loaded:,.0f} rows/s; HNSW build (m=16, ef_construction=64) {built:.1f} s")

        # Ground truth: the exact scan in SQL (same float arithmetic as the index; numpy's
        # float32 sums order near-ties differently, which matters for uniform data).
        conn.execute("SET enable_indexscan = off")
        plan = conn.execute("EXPLAIN " + query, (probes[0],)).fetchall()
        scans = sorted({line.split("(")[0].strip(" ->") for (line,) in plan if "Scan" in line})
        exact, times = [], []
        for q in probes:
            started = time.perf_counter()
            exact.append({r[0] for r in conn.execute(query, (q,))})
            times.append(time.perf_counter() - started)
        numpy_truth = np.argsort(-(probes @ data.T), axis=1)[:, :K]
        agree = sum(len(e & set(t.tolist())) for e, t in zip(exact, numpy_truth, strict=True))
        print(
            f"exact ({', '.join(scans)}): p50 {ms(statistics.median(times))}  "
            f"p99 {ms(percentile(times, 99))}; agrees with numpy on "
            f"{agree / (K * len(probes)):.4f} of the top 10"
        )
        conn.execute("RESET enable_indexscan")
        conn.execute("SET enable_seqscan = off")  # measure the index even where a scan is cheaper
        for ef in ef_values:
            conn.execute(f"SET hnsw.ef_search = {ef}")
            hits, times = 0, []
            for q, truth in zip(probes, exact, strict=True):
                started = time.perf_counter()
                found = conn.execute(query, (q,)).fetchall()
                times.append(time.perf_counter() - started)
                hits += len({r[0] for r in found} & truth)
            print(
                f"HNSW ef_search {ef:>4}: recall@10 {hits / (K * len(probes)):.4f}   "
                f"p50 {ms(statistics.median(times))}  p99 {ms(percentile(times, 99))}"
            )
        conn.execute("DROP TABLE bench_items")


# --- real catalog -------------------------------------------------------------------------------


def prepare_catalog(url: str, embedder_name: str) -> None:
    """Migrate, ingest the real catalog and embed it (in the throwaway database)."""
    from server.catalog.ingest import ingest_catalog_file
    from server.db import migrations
    from server.db.engine import make_engine
    from server.embeddings.embedders import get_embedder
    from server.embeddings.pipeline import embed_catalog

    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with engine.begin() as conn:
            ingest_catalog_file(conn, DATA_FILE, fmt="netflix-csv")
        print(f"ingested the real catalog in {time.perf_counter() - started:.1f} s")
        embedder = get_embedder(embedder_name)
        with engine.begin() as conn:
            summary = embed_catalog(conn, embedder)
        print(
            f"embedded {summary.titles:,} titles with {summary.embedder} in "
            f"{summary.seconds:.1f} s ({summary.texts_per_second:.0f} texts/s)"
        )
    finally:
        engine.dispose()


def tuned_connect(libpq_url: str) -> Any:
    """A psycopg connection with the session settings the app's engines give theirs, in
    autocommit as the API's queries are: the statement alone, no BEGIN / ROLLBACK."""
    import psycopg

    from server.db.tuning import apply_connection_settings

    conn = psycopg.connect(libpq_url, autocommit=True)
    apply_connection_settings(conn)
    return conn


class RawSimilar:
    """similarTitles' SQL, compiled once from the service, run through plain psycopg."""

    def __init__(self) -> None:
        from sqlalchemy.dialects.postgresql import psycopg as dialect

        from server.embeddings.facets import DEFAULT_WEIGHTS
        from server.similarity import service

        d = dialect.dialect()
        statement = service.similar_statement(None).compile(dialect=d)
        self.sql = statement.string
        self.params = {**statement.params, **service.similar_params([], K, DEFAULT_WEIGHTS)}

    def __call__(self, conn: Any, title_id: int) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(self.sql, {**self.params, "ids": [title_id]})
            rows: list[tuple[Any, ...]] = cur.fetchall()
            self.columns = [c.name for c in cur.description or ()]
            return rows


def catalog_recall(libpq_url: str, sample: Sequence[int], raw: RawSimilar) -> None:
    from pgvector.psycopg import register_vector

    from server.embeddings.facets import DEFAULT_WEIGHTS
    from server.similarity.service import weight_scale

    with tuned_connect(libpq_url) as conn:
        register_vector(conn)
        rows = conn.execute("SELECT title_id, combined FROM title_embeddings").fetchall()
        ids = np.array([r[0] for r in rows])
        matrix = np.stack(
            [
                np.asarray(r[1].to_numpy() if hasattr(r[1], "to_numpy") else r[1], dtype=np.float32)
                for r in rows
            ]
        )
        position = {int(t): i for i, t in enumerate(ids)}
        scale = weight_scale(DEFAULT_WEIGHTS)
        hits = 0
        for title_id in sample:
            scores = matrix @ (matrix[position[title_id]] * scale)
            scores[position[title_id]] = -np.inf
            truth = set(ids[np.argsort(-scores)[:K]].tolist())
            found = raw(conn, title_id)
            got = {r[raw.columns.index("id")] for r in found}
            hits += len(got & truth)
        with conn.cursor() as cur:
            cur.execute("EXPLAIN " + raw.sql, {**raw.params, "ids": [sample[0]]})
            plan = "\n".join(line for (line,) in cur.fetchall())
    index = "title_embeddings_combined_hnsw_idx"
    print(
        f"similarTitles recall@10 vs exact ({len(sample)} titles, {len(ids):,} embedded): "
        f"{hits / (K * len(sample)):.4f} (plan uses {index}: {index in plan})"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER = """
import sys, uvicorn
from server.app import create_app
from server.config import load_settings
app = create_app(load_settings(auth="off", log_level="WARNING"), database_url=sys.argv[1])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, url, str(port)], cwd=ROOT, env={**os.environ}
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the GraphQL server did not start")


class LeanClient:
    """A keep-alive JSON POST client on http.client: little client-side overhead, so that the
    latency measured is the server's (psycopg, the SQL side's client, is C underneath)."""

    def __init__(self, base: str) -> None:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)

    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        self.conn.request(
            "POST",
            "/graphql",
            body,
            {"Content-Type": "application/json", "Accept": "application/json"},
        )
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        result: dict[str, Any] = json.loads(data)
        return result

    def __enter__(self) -> LeanClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


BLOCK = 20


def interleaved_blocks(
    calls: dict[str, Callable[[int], None]], ids: Sequence[int]
) -> dict[str, list[float]]:
    """Latencies of every call on every id, the calls taking turns in blocks of ``BLOCK``.

    Taking turns lets all of them see the same machine load. Blocks rather than single
    requests: a GraphQL request alternated one by one with a SQL query finds the server
    process asleep every time, and on a busy 2-core machine waking it (and the Postgres
    backend behind it) costs milliseconds that a server under steady traffic does not pay.
    """
    times: dict[str, list[float]] = {name: [] for name in calls}
    for start in range(0, len(ids), BLOCK):
        block = ids[start : start + BLOCK]
        for name, call in calls.items():
            for title_id in block:
                started = time.perf_counter()
                call(title_id)
                times[name].append(time.perf_counter() - started)
    return times


def throughput(
    make_worker: Callable[[], Callable[[int], None]], ids: Sequence[int], seconds: float
) -> float:
    done = [0] * CONCURRENCY
    stop = time.perf_counter() + seconds

    def run(slot: int) -> None:
        call = make_worker()
        rng = random.Random(slot)
        while time.perf_counter() < stop:
            call(rng.choice(ids))
            done[slot] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CONCURRENCY)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def bench_catalog(url: str, libpq_url: str, queries: int, requests: int, seconds: float) -> None:
    import httpx
    import psycopg

    with psycopg.connect(libpq_url) as conn:
        all_ids = [r[0] for r in conn.execute("SELECT title_id FROM title_embeddings ORDER BY 1")]
        embedder = conn.execute("SELECT min(embedder) FROM title_embeddings").fetchone()
    if not all_ids:
        raise SystemExit("the catalog database holds no embeddings: run `contentintel embed`")
    print(
        f"\n== real catalog: {len(all_ids):,} embedded titles ({embedder[0] if embedder else '?'})"
    )
    rng = random.Random(7)
    raw = RawSimilar()
    catalog_recall(libpq_url, rng.sample(all_ids, min(queries, len(all_ids))), raw)

    ids = [rng.choice(all_ids) for _ in range(requests)]
    warm = [rng.choice(all_ids) for _ in range(30)]
    proc, base = start_server(url)
    try:
        with (
            httpx.Client(base_url=base, timeout=30) as http,
            LeanClient(base) as lean,
            tuned_connect(libpq_url) as conn,
        ):

            def check(body: dict[str, Any]) -> None:
                if body.get("errors") or len(body["data"]["similarTitles"]) != K:
                    raise RuntimeError(json.dumps(body)[:500])

            def graphql_httpx(title_id: int) -> None:
                response = http.post(
                    "/graphql", json={"query": GRAPHQL, "variables": {"id": str(title_id)}}
                )
                check(response.json())

            def graphql_lean(title_id: int) -> None:
                check(lean.post({"query": GRAPHQL, "variables": {"id": str(title_id)}}))

            def sql(title_id: int) -> None:
                if len(raw(conn, title_id)) != K:
                    raise RuntimeError(f"raw SQL returned no neighbours for {title_id}")

            calls = {"lean": graphql_lean, "httpx": graphql_httpx, "sql": sql}
            for call in calls.values():
                for title_id in warm:
                    call(title_id)
            times = interleaved_blocks(calls, ids)

        g50, h50, s50 = (statistics.median(times[n]) for n in ("lean", "httpx", "sql"))
        print(
            f"similarTitles(first: 10), {requests} sequential requests each, "
            f"in alternating blocks of {BLOCK}:"
        )
        for label, name in (
            ("GraphQL over HTTP (http.client)", "lean"),
            ("GraphQL over HTTP (httpx)      ", "httpx"),
            ("raw SQL (psycopg)              ", "sql"),
        ):
            values = times[name]
            print(
                f"  {label}  p50 {ms(statistics.median(values))}  p99 {ms(percentile(values, 99))}"
            )
        print(f"  GraphQL p50 / SQL p50 = {g50 / s50:.2f}x (target <= 2x)")
        print(f"  (with httpx as the client: {h50 / s50:.2f}x; the difference is client overhead)")

        def http_worker() -> Callable[[int], None]:
            client = LeanClient(base)

            def call(title_id: int) -> None:
                client.post({"query": GRAPHQL, "variables": {"id": str(title_id)}})

            return call

        def sql_worker() -> Callable[[int], None]:
            conn = tuned_connect(libpq_url)

            def call(title_id: int) -> None:
                raw(conn, title_id)

            return call

        print(f"{CONCURRENCY} concurrent clients, {seconds:.0f} s each:")
        print(f"  GraphQL over HTTP  {throughput(http_worker, all_ids, seconds):,.0f} requests/s")
        print(f"  raw SQL (psycopg)  {throughput(sql_worker, all_ids, seconds):,.0f} queries/s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog-url", help="a database already holding the embedded catalog")
    parser.add_argument("--embedder", default="minilm", help="for the throwaway catalog")
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--distribution",
        choices=["clustered", "uniform", "both", "none"],
        default="clustered",
        help="synthetic data: clustered (like embeddings), uniform (worst case), both, none",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore", DeprecationWarning)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from server.db.embedded import EmbeddedPostgres, to_sqlalchemy_url
    from server.db.tuning import EF_SEARCH

    with tempfile.TemporaryDirectory(prefix="contentintel-bench-") as tmp:
        with EmbeddedPostgres(Path(tmp), cleanup_mode="delete") as pg:
            if args.distribution != "none":
                pg.ensure_database("bench_vectors")
                ef_values = sorted({40, EF_SEARCH, 200, 400})
                kinds = (
                    ["clustered", "uniform"] if args.distribution == "both" else [args.distribution]
                )
                for kind in kinds:
                    bench_synthetic(
                        pg.libpq_url("bench_vectors"), kind, args.vectors, args.queries, ef_values
                    )
            if args.catalog_url:
                url = to_sqlalchemy_url(args.catalog_url)
            else:
                pg.ensure_database("contentintel_bench")
                url = pg.sqlalchemy_url("contentintel_bench")
                prepare_catalog(url, args.embedder)
            libpq = "postgresql://" + url.split("://", 1)[1]
            bench_catalog(url, libpq, args.queries, args.requests, args.seconds)


if __name__ == "__main__":
    main()
