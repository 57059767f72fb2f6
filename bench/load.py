"""Load benchmark: concurrent clients over loopback against the API served by uvicorn.

    python bench/load.py [--url DATABASE_URL] [--seconds 8] [--clients 32] [--rate 100]
                         [--workers 2] [--rounds 3]

A throwaway embedded Postgres gets the real catalog (``../shared/data/netflix_titles.csv``,
hashing embedder; the synthetic demo catalog when the file is absent) unless ``--url`` names
a database that already holds an embedded catalog. It also gets the regional Top 10 charts
(``../shared/data/top10/all-weeks-countries.tsv`` through the function behind `contentintel
ingest top10-countries`; the demo catalog brings its own charts from server/demo/audiences.py)
and a current forecast model trained as `contentintel train` does, but with the default
parameters instead of the tuning grid (a benchmark needs a model, not the best one; the
forecast costs the same). With ``--url``, a database without a current model gets one trained
only when it holds charts; otherwise the forecast mixes are skipped with a message. The
server runs in a subprocess as `contentintel serve --workers N` (default 2, one per core; auth
ON with an API key, logs at WARNING); the client is one asyncio process speaking HTTP/1.1
keep-alive on raw sockets (cheap enough that the server, not the client, is measured; both
share the 2 cores with Postgres).

Prints, per mix: req/s, p50/p99 latency, errors (non-200 or a GraphQL error), and the ratio
to the same work done as raw SQL through psycopg with as many connections:

1. closed loop, ``--clients`` connections: ``__typename`` (no database), ``title(id)``
   (one indexed row), ``titles(first: 20)`` (a keyset page after a random title plus the
   total count: two statements), ``similarTitles(first: 10)`` and
   ``forecast(titleId) { regions { region { code } probability expectedWeeks } }`` (every
   region of a random title, half of them charted titles, which the model holds, half
   uncharted embedded ones, whose facts are read from the database);
2. open loop at ``--rate`` req/s (latency from the scheduled send time, so queueing counts):
   ``similarTitles``, then ``forecast``;
3. abuse: ``--clients`` - 1 clients looping over ``title(id)``, ``titles(first: 20)`` and
   ``similarTitles`` with and without one more client looping over the adversarial requests
   of ``tests/faults/shapes.py`` (fragment fan-outs, megabyte documents, nested lists, a
   failing sibling, bad strings, deep variables), ``--rounds`` alternating pairs; prints the
   normal clients' throughput with the abuser / without it, and every 5xx;
4. limits on vs off: the trivial query on the product's path as it is, without the limits
   (no validation rules of theirs, no cost estimate), and with the limits' rules built anew
   for every request as strawberry's limiter extensions are (which defeats the validation
   cache); ``--rounds`` runs of each, alternating, the median reported (the machine is
   shared, so single runs are noisy).

``forecast`` has no raw-SQL counterpart: the model runs in Python (one indexed read of the
current model's id, the title's facts for an uncharted title, then numpy). Its reference is
the same service calls made directly (``server.forecast.service``: ``current_model``,
``title_facts``, ``forecast_facts``, in autocommit as the API's queries are) in
``--workers`` processes, one call at a time each, for as long as the API mix: the same work
minus HTTP, GraphQL and the async session, with as many processes as the server has workers
(a forecast is mostly Python under the GIL; more threads per process were not tried).

Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

DATA_FILE = ROOT.parent / "shared" / "data" / "netflix_titles.csv"
CHARTS_FILE = ROOT.parent / "shared" / "data" / "top10" / "all-weeks-countries.tsv"

TRIVIAL = "query Trivial { __typename }"
TITLE = "query Title($id: ID!) { title(id: $id) { id name releaseYear } }"
SIMILAR = """query Similar($id: ID!) { similarTitles(titleId: $id, first: 10) {
  score title { id name } } }"""
TITLES = """query Titles($after: String) { titles(first: 20, after: $after) {
  edges { cursor node { id name releaseYear } } pageInfo { hasNextPage endCursor } totalCount } }"""
FORECAST = """query Forecast($id: ID!) { forecast(titleId: $id) {
  regions { region { code } probability expectedWeeks } } }"""
FORECAST_PROBE = '{ __type(name: "Query") { fields { name } } }'

SERVER = """
import os, sys, uvicorn
from server.app import create_app
from server.config import load_settings
from server.observability.logs import configure

settings = load_settings(auth="on", log_level="WARNING", log_format="json")
configure("WARNING", "json")
variant = os.environ.get("BENCH_LIMITS", "on")
if variant != "on":
    # The product schema and the HTTP layer's lean path, with only the limits changed.
    from server.graphql import limits, operation
    if variant == "off":
        operation.settings_rules = lambda settings: ()
        operation.cost_refusal = lambda *args: None
    else:  # "per-request": new rule classes each request, as strawberry's limiter extensions
        operation.settings_rules = lambda settings: (
            limits.validation_rules.__wrapped__(
                settings.max_depth,
                settings.max_aliases,
                settings.introspection.value == "on",
                settings.max_fields,
            )
        )
        limits._shape_rule = limits._shape_rule.__wrapped__
app = create_app(settings, database_url=sys.argv[1])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_config=None, access_log=False,
            log_level="warning")
"""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self, raw: Result | None = None, raw_label: str = "raw SQL's") -> str:
        text = (
            f"{self.name:<34} {self.rate:8,.0f} req/s  p50 {ms(percentile(self.latencies, 0.5)):>9}"
            f"  p99 {ms(percentile(self.latencies, 0.99)):>9}  errors {self.errors}"
        )
        if raw is not None and raw.rate > 0:
            text += f"  ({self.rate / raw.rate:.2f}x {raw_label} {raw.rate:,.0f} req/s)"
        if self.first_error:
            text += f"\n    first error: {self.first_error[:200]}"
        return text


class Connection:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.head = (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Accept: application/graphql-response+json\r\nAuthorization: Bearer {key}\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def payload(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def check(result: Result, status: int, body: bytes) -> None:
    if status != 200 or b'"errors"' in body:
        result.errors += 1
        result.first_error = result.first_error or f"{status} {body.decode()[:300]}"


async def closed_loop(
    name: str,
    port: int,
    key: str,
    make: Callable[[random.Random], bytes],
    clients: int,
    secs: float,
) -> Result:
    result = Result(name, secs)
    stop = time.perf_counter() + secs

    async def client(slot: int) -> None:
        rng = random.Random(slot)
        conn = Connection(port, key)
        try:
            while time.perf_counter() < stop:
                body = make(rng)
                started = time.perf_counter()
                status, data = await conn.post(body)
                result.latencies.append(time.perf_counter() - started)
                check(result, status, data)
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


async def abuser(port: int, key: str, stop_at: float, result: Result) -> None:
    """One client looping over the adversarial requests until ``stop_at``; a 5xx or an
    answer without the expected code counts as an error."""
    from tests.faults.shapes import SHAPES

    shapes = [(json.dumps(body).encode(), code.encode()) for body, code in SHAPES.values()]
    conn = Connection(port, key)
    try:
        while time.perf_counter() < stop_at:
            for body, code in shapes:
                started = time.perf_counter()
                status, data = await conn.post(body)
                result.latencies.append(time.perf_counter() - started)
                if status >= 500 or code not in data:
                    result.errors += 1
                    result.first_error = result.first_error or f"{status} {data[:300]!r}"
    finally:
        conn.close()


async def open_loop(
    name: str, port: int, key: str, make: Callable[[random.Random], bytes], rate: float, secs: float
) -> Result:
    """Requests sent on a fixed schedule; latency counted from the scheduled time."""
    result = Result(name, secs)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(Connection(port, key))
    rng = random.Random(7)
    total = int(rate * secs)
    t0 = time.perf_counter()

    async def one(scheduled: float, body: bytes) -> None:
        conn = await pool.get()
        try:
            status, data = await conn.post(body)
            result.latencies.append(time.perf_counter() - scheduled)
            check(result, status, data)
        finally:
            pool.put_nowait(conn)

    tasks = []
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, make(rng))))
    await asyncio.gather(*tasks)
    result.seconds = secs
    while not pool.empty():
        pool.get_nowait().close()
    return result


async def raw_sql(
    name: str,
    libpq: str,
    work: Callable[[Any, random.Random], Awaitable[None]],
    clients: int,
    secs: float,
) -> Result:
    import psycopg

    from server.db.tuning import CONNECTION_SETTINGS

    result = Result(name, secs)
    stop = time.perf_counter() + secs

    async def client(slot: int) -> None:
        rng = random.Random(slot)
        async with await psycopg.AsyncConnection.connect(libpq, autocommit=True) as conn:
            # The session settings the app's engines give every connection (server.db.tuning).
            for setting, value in CONNECTION_SETTINGS.items():
                await conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
            while time.perf_counter() < stop:
                started = time.perf_counter()
                await work(conn, rng)
                result.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def _direct_forecast_worker(
    url: str, ids: list[int], secs: float, seed: int, barrier: Any, out: Any
) -> None:
    """One process calling the forecast service as the resolver does, one call at a time."""
    from server.db.engine import make_engine
    from server.forecast import service

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    rng = random.Random(seed)
    latencies: list[float] = []

    def once() -> list[tuple[str, float, float]]:
        with engine.connect() as conn:
            model = service.current_model(conn)
            facts = service.title_facts(conn, model, rng.choice(ids))
            result = service.forecast_facts(model, [facts])[0]
            return [(r.region.code, r.probability, r.expected_weeks) for r in result.regions]

    try:
        for _ in range(20):  # decode the model state, warm the pool (as the API's warm-up)
            once()
        barrier.wait()
        stop = time.perf_counter() + secs
        while time.perf_counter() < stop:
            started = time.perf_counter()
            once()
            latencies.append(time.perf_counter() - started)
    finally:
        engine.dispose()
        out.put(latencies)


def direct_forecast(name: str, url: str, ids: list[int], processes: int, secs: float) -> Result:
    """``forecast``'s reference: the service functions called directly in ``processes``
    processes (spawned: the parent runs an event loop), timed together after their warm-up."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_direct_forecast_worker, args=(url, ids, secs, i, barrier, out))
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    result = Result(name, secs)
    pending = len(procs)
    while pending:
        try:
            result.latencies.extend(out.get(timeout=1.0 if any_alive(procs) else 5.0))
            pending -= 1
        except queue.Empty:
            if not any_alive(procs):
                raise RuntimeError(
                    "a direct forecast process died (its traceback is above)"
                ) from None
    for proc in procs:
        proc.join()
    return result


def any_alive(procs: Sequence[Any]) -> bool:
    return any(proc.is_alive() for proc in procs)


def forecast_model(url: str) -> tuple[str | None, str]:
    """(the current forecast model's embedder, what to print); trains one with the default
    parameters when there is none and the database holds Top 10 country charts."""
    from sqlalchemy import text

    from server.db.engine import make_engine
    from server.forecast.data import NotEmbedded
    from server.forecast.model import Params
    from server.forecast.training import train_model

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            current = conn.execute(
                text(
                    "SELECT version, embedder, training_titles, regions FROM forecast_models "
                    "WHERE is_current"
                )
            ).one_or_none()
            charted = conn.execute(
                text("SELECT count(DISTINCT title_id) FROM top10_country_weeks")
            ).scalar_one()
            embedder = conn.execute(
                text(
                    "SELECT embedder FROM title_embeddings GROUP BY embedder "
                    "ORDER BY count(*) DESC LIMIT 1"
                )
            ).scalar_one_or_none()
        if current is not None:
            return str(current.embedder), (
                f"forecast: current model v{current.version} ({current.embedder}, "
                f"{current.training_titles:,} titles x {current.regions} regions)"
            )
        if not charted:
            return None, (
                "forecast: no current model and no Top 10 country charts to train one on "
                "(`contentintel ingest top10-countries`, then `contentintel train`): "
                "forecast mixes skipped"
            )
        if embedder is None:
            return None, "forecast: no title embeddings to train on: forecast mixes skipped"
        params = Params()
        try:
            with engine.begin() as conn:
                summary = train_model(conn, str(embedder), params=params)
        except (ValueError, NotEmbedded) as exc:
            return None, f"forecast: training failed ({exc}): forecast mixes skipped"
        return str(embedder), (
            f"forecast: trained model v{summary.version} ({embedder}, "
            f"{summary.training_titles:,} titles x {summary.regions} regions) in "
            f"{summary.seconds:.1f} s with the default parameters {params.as_dict()}, not the "
            "tuning grid of `contentintel train` (the forecast costs the same)"
        )
    finally:
        engine.dispose()


def load_catalog(engine: Engine) -> str:
    """The real catalog (the demo's synthetic one when the shared data is absent) and its
    hashing embeddings; says which."""
    from server.catalog.ingest import ingest_catalog_file
    from server.embeddings.embedders import get_embedder
    from server.embeddings.pipeline import embed_catalog

    with engine.begin() as conn:
        if DATA_FILE.is_file():
            ingest_catalog_file(conn, DATA_FILE, fmt="netflix-csv")
            what = "the real catalog"
        else:
            from server.demo.seed import seed_demo_catalog

            seed_demo_catalog(conn, n_titles=2400, seed=1)
            what = "the synthetic demo catalog (real data absent)"
    with engine.begin() as conn:
        embed_catalog(conn, get_embedder("hashing"))
    return what


def prepare(url: str) -> tuple[str | None, str]:
    """Catalog, hashing embeddings, Top 10 country charts and a current forecast model; returns
    ``forecast_model``'s answer."""
    from server.audiences.ingest import ingest_viewing_file
    from server.db import migrations
    from server.db.engine import make_engine

    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        what = load_catalog(engine)
        real = DATA_FILE.is_file()
        print(f"loaded and embedded {what} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with engine.begin() as conn:
            if real and CHARTS_FILE.is_file():
                s = ingest_viewing_file(conn, CHARTS_FILE, "top10-countries")
                m = s.matches
                print(
                    f"loaded the Top 10 country charts ({s.accepted:,} rows, {m.matched:,} of "
                    f"{m.names:,} names matched to the catalog) in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            elif not real:
                from server.demo.audiences import seed_demo_charts

                seed_demo_charts(conn, seed=1)  # a no-op when the demo seed already made them
                print("Top 10 country charts: the demo charts (server/demo/audiences.py)")
            else:
                print(f"Top 10 country charts: {CHARTS_FILE} is absent")
    finally:
        engine.dispose()
    answer = forecast_model(url)
    settle(url)
    return answer


def settle(url: str) -> None:
    """VACUUM ANALYZE and a CHECKPOINT after the bulk load: autovacuum and the checkpointer
    would otherwise start on the fresh tables in the middle of a measurement, and on a 2-core
    machine they compete with the server for a CPU."""
    from sqlalchemy import text

    from server.db.engine import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    finally:
        engine.dispose()


def make_key(url: str) -> str:
    from server.auth.service import create_key
    from server.db.engine import make_engine
    from server.kit.roles import Role

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _, key = create_key(conn, f"bench-{os.getpid()}-{time.time_ns()}", Role.ANALYST)
    finally:
        engine.dispose()
    return key


def start_server(url: str, limits: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    """``limits="serve"``: `contentintel serve --workers N` itself; otherwise a one-worker
    uvicorn over the product schema or a variant of it (see SERVER)."""
    import httpx

    port = free_port()
    env = {**os.environ, "BENCH_LIMITS": limits}
    if limits == "serve":
        env.update(
            CONTENTINTEL_DATABASE_URL=url,
            CONTENTINTEL_PORT=str(port),
            CONTENTINTEL_AUTH="on",
            CONTENTINTEL_LOG_LEVEL="WARNING",
        )
        command = [sys.executable, "-m", "server", "serve", "--workers", str(workers)]
    else:
        command = [sys.executable, "-c", SERVER, url, str(port)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


async def run(
    url: str, libpq: str, args: argparse.Namespace, forecast: tuple[str | None, str]
) -> None:
    """``forecast``: ``forecast_model``'s answer (the model's embedder or None, a message)."""
    import psycopg
    from similarity import RawSimilar

    from server.graphql.schema import TITLE_CURSOR
    from server.kit.pagination import encode_cursor

    model_embedder, forecast_note = forecast
    forecast_ids: list[int] = []
    charted: list[int] = []
    sample: list[int] = []
    with psycopg.connect(libpq) as conn:
        ids = [r[0] for r in conn.execute("SELECT title_id FROM title_embeddings ORDER BY 1")]
        all_ids = [r[0] for r in conn.execute("SELECT id FROM titles ORDER BY 1")]
        if model_embedder is not None:
            charted = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT w.title_id FROM top10_country_weeks w JOIN title_embeddings "
                    "e ON e.title_id = w.title_id AND e.embedder = %s ORDER BY 1",
                    (model_embedder,),
                )
            ]
            uncharted = [
                r[0]
                for r in conn.execute(
                    "SELECT title_id FROM title_embeddings WHERE embedder = %s AND title_id "
                    "NOT IN (SELECT title_id FROM top10_country_weeks WHERE title_id IS NOT "
                    "NULL) ORDER BY 1",
                    (model_embedder,),
                )
            ]
            sample = random.Random(1).sample(uncharted, min(len(charted), len(uncharted)))
            forecast_ids = charted + sample
    print(f"catalog: {len(all_ids):,} titles, {len(ids):,} embedded")
    print(forecast_note)
    if forecast_ids:
        print(
            f"forecast titles: {len(charted):,} charted + {len(sample):,} uncharted embedded, "
            "drawn at random"
        )
    key = make_key(url)
    raw_similar = RawSimilar()
    cursors = [None, *(encode_cursor(TITLE_CURSOR, i) for i in all_ids)]

    async def raw_title(conn: Any, rng: random.Random) -> None:
        cur = await conn.execute(
            "SELECT id, name, release_year FROM titles WHERE id = %s", (rng.choice(ids),)
        )
        await cur.fetchall()

    async def raw_titles(conn: Any, rng: random.Random) -> None:
        # list_titles: a keyset page of whole rows (first + 1) and the filter's total count.
        after = rng.choice(all_ids)
        await (
            await conn.execute(
                "SELECT * FROM titles WHERE id > %s ORDER BY id LIMIT 21",
                (after,),
            )
        ).fetchall()
        await (await conn.execute("SELECT count(titles.id) FROM titles")).fetchall()

    async def raw_trivial(conn: Any, rng: random.Random) -> None:
        await (await conn.execute("SELECT 1")).fetchall()

    async def raw_sim(conn: Any, rng: random.Random) -> None:
        async with conn.cursor() as cur:  # autocommit, like the API's queries
            await cur.execute(raw_similar.sql, {**raw_similar.params, "ids": [rng.choice(ids)]})
            await cur.fetchall()

    def trivial(rng: random.Random) -> bytes:
        return payload(TRIVIAL)

    def title(rng: random.Random) -> bytes:
        return payload(TITLE, {"id": rng.choice(ids)})

    def titles(rng: random.Random) -> bytes:
        return payload(TITLES, {"after": rng.choice(cursors)})

    def similar(rng: random.Random) -> bytes:
        return payload(SIMILAR, {"id": rng.choice(ids)})

    def forecast_of(rng: random.Random) -> bytes:
        return payload(FORECAST, {"id": str(rng.choice(forecast_ids))})

    c, secs = args.clients, args.seconds
    if args.limits_only:
        await limits_comparison(url, key, c, secs, args.rounds)
        return
    proc, port = start_server(url, "serve", args.workers)
    try:
        probe = Connection(port, key)
        _, body = await probe.post(payload(FORECAST_PROBE))
        probe.close()
        has_forecast = b'"forecast"' in body
        run_forecast = has_forecast and bool(forecast_ids)
        warm = [trivial, title, titles, similar] + ([forecast_of] if run_forecast else [])
        for make in warm:  # warm the caches and the pool (and decode the forecast model)
            await closed_loop("warm-up", port, key, make, 4, 1.0)
        if args.abuse_only:
            await abuse_mix(port, key, [title, titles, similar], c, secs, args.rounds)
            return
        print(
            f"\n-- `contentintel serve --workers {args.workers}`, closed loop, {c} connections, "
            f"{secs:.0f} s each (auth on, limits on)"
        )
        pairs = [
            ("__typename", trivial, raw_trivial, "SELECT 1"),
            ("title(id)", title, raw_title, "SELECT by id"),
            ("titles(first: 20)", titles, raw_titles, "page + count"),
            ("similarTitles(first: 10)", similar, raw_sim, "its SQL"),
        ]
        for name, make, raw_work, raw_name in pairs:
            api = await closed_loop(name, port, key, make, c, secs)
            raw = await raw_sql(f"raw SQL: {raw_name}", libpq, raw_work, c, secs)
            print(api.line(raw))
        if run_forecast:
            api = await closed_loop("forecast(titleId)", port, key, forecast_of, c, secs)
            direct = await asyncio.to_thread(
                direct_forecast,
                f"  direct service calls, {args.workers} procs",
                url,
                forecast_ids,
                args.workers,
                secs,
            )
            print(api.line(direct, "direct service calls'"))
            print(direct.line())
        print(f"\n-- open loop at {args.rate:.0f} req/s for {secs:.0f} s")
        open_mixes = [("similarTitles(first: 10)", similar)]
        if run_forecast:
            open_mixes.append(("forecast(titleId)", forecast_of))
        for name, make in open_mixes:
            print((await open_loop(name, port, key, make, args.rate, secs)).line())
        await abuse_mix(port, key, [title, titles, similar], c, secs, args.rounds)
        if not has_forecast:
            print("forecast: not in this schema: skipped")
        elif not forecast_ids:
            print("forecast: no current model or no title to forecast: skipped (see above)")
    finally:
        stop_server(proc)

    await limits_comparison(url, key, c, secs, args.rounds)


async def limits_comparison(url: str, key: str, c: int, secs: float, rounds: int) -> None:
    """Mix 4: ``{ __typename }`` with the limits on, off, and their rules built per request."""

    def trivial(rng: random.Random) -> bytes:
        return payload(TRIVIAL)

    print(
        f"\n-- limits: {TRIVIAL!r}, closed loop, {c} connections, {secs:.0f} s per run, "
        f"{rounds} rounds alternating the variants (median)"
    )
    variants = (
        ("on", "limits on (rules built once)"),
        ("off", "limits off"),
        ("per-request", "limit rules built per request"),
    )
    runs: dict[str, list[Result]] = {v: [] for v, _ in variants}
    for _ in range(rounds):
        for variant, label in variants:
            proc, port = start_server(url, variant)
            try:
                await closed_loop("warm-up", port, key, trivial, 4, 1.0)
                runs[variant].append(await closed_loop(label, port, key, trivial, c, secs))
            finally:
                stop_server(proc)
    rates: dict[str, float] = {}
    for variant, _ in variants:
        ordered = sorted(runs[variant], key=lambda r: r.rate)
        median = ordered[len(ordered) // 2]
        rates[variant] = median.rate
        spread = ", ".join(f"{r.rate:,.0f}" for r in runs[variant])
        print(f"{median.line()}  [runs: {spread}]")
    print(
        f"limits on / off: {rates['on'] / rates['off']:.2f}; "
        f"rules built per request / off: {rates['per-request'] / rates['off']:.2f}"
    )


async def abuse_mix(
    port: int,
    key: str,
    makes: list[Callable[[random.Random], bytes]],
    clients: int,
    secs: float,
    rounds: int,
) -> None:
    normal = clients - 1

    def mixed(rng: random.Random) -> bytes:
        return rng.choice(makes)(rng)

    print(
        f"\n-- abuse: {normal} normal clients (title, titles, similarTitles) with and without "
        f"1 client looping over tests/faults/shapes.py, {secs:.0f} s each, {rounds} rounds"
    )
    ratios: list[float] = []
    for _ in range(rounds):
        alone = await closed_loop(f"{normal} normal clients alone", port, key, mixed, normal, secs)
        shapes = Result("  the abuser's requests", secs)
        stop_at = time.perf_counter() + secs
        beside, _ = await asyncio.gather(
            closed_loop(f"{normal} normal clients + abuser", port, key, mixed, normal, secs),
            abuser(port, key, stop_at, shapes),
        )
        print(alone.line())
        print(beside.line())
        print(shapes.line())
        ratios.append(beside.rate / alone.rate)
    print("normal throughput with / without the abuser: " + ", ".join(f"{r:.2f}" for r in ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        help="a database already holding an embedded catalog (and a forecast model, or charts "
        "to train one on)",
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument(
        "--workers", type=int, default=2, help="`serve --workers` for mixes 1 and 2"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs per limits variant")
    parser.add_argument("--abuse-only", action="store_true", help="only the abuse mix (3)")
    parser.add_argument("--limits-only", action="store_true", help="only the limits (4)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    from server.db.embedded import EmbeddedPostgres, to_sqlalchemy_url

    if args.url:
        url = to_sqlalchemy_url(args.url)
        forecast = forecast_model(url)
        asyncio.run(run(url, "postgresql://" + url.split("://", 1)[1], args, forecast))
        return
    with tempfile.TemporaryDirectory(prefix="contentintel-load-") as tmp:
        with EmbeddedPostgres(Path(tmp), cleanup_mode="delete") as pg:
            pg.ensure_database("contentintel_load")
            url = pg.sqlalchemy_url("contentintel_load")
            forecast = prepare(url)
            asyncio.run(run(url, pg.libpq_url("contentintel_load"), args, forecast))


if __name__ == "__main__":
    main()
