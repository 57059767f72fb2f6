"""Throughput against the peer a user would pick: PostGraphile 4 on the same database.

    python bench/peers.py [--seconds 7] [--rounds 5] [--connections 32] [--procs 1,2]
                          [--queries trivial,titles,title,similar,explained]
                          [--pgdata DIR] [--url DATABASE_URL] [--variant NAME=K=V,...]

1. A throwaway embedded Postgres gets the real catalog (``../shared/data/netflix_titles.csv``;
   the synthetic demo catalog when the file is absent) embedded with the hashing embedder,
   then VACUUM ANALYZE and a CHECKPOINT (bench/load.py's ``settle``). ``--pgdata DIR`` keeps
   the cluster in DIR and reuses it when it already holds the embedded catalog; ``--url``
   uses an existing database. The PostGraphile side's SQL function lives in a schema of its
   own, ``peers``, created here (never in the product's migrations) and dropped at the end.
   The vector settings the API gives its connections (``server.db.tuning``) are set on the
   database (``ALTER DATABASE ... SET``) so that PostGraphile's connections run the same
   plans.
2. PostGraphile (pinned in ``bench/peers/package.json``) is installed with ``npm ci`` when
   node is present (a clear message and exit otherwise) and served over the same database
   (``--schema public,peers --simple-collections both --disable-query-log``, its default pool
   of 10 connections per process; ``--cluster-workers N`` for N processes). contentintel runs
   as ``contentintel serve --workers N`` (auth on with an API key, logs at WARNING, the pool
   as configured: 20 connections per worker).
3. For each query both servers must return the same data (a sample of requests, normalised
   where the two APIs order or shape a list differently); a mismatch stops the bench.
4. One load generator, ``wrk`` (``--connections`` keep-alive connections, one thread), takes
   each query to each server in turn, ``--rounds`` alternating rounds of ``--seconds``: the
   machine is shared, so only ratios within a round mean much. Per round: req/s, p50/p99,
   errors (non-200 or an ``errors`` key) and the server processes' CPU per request
   (user + system of the server and its workers, not Postgres); the load average is read
   before each round.
5. The floor: the same data as raw SQL through psycopg (the lean statement a careful
   hand-written service would run, in autocommit, ``--connections`` connections from one
   asyncio process), once per query.

``--procs 1,2`` runs the whole comparison with 1 process on each side, then 2 (same
worker-to-core fairness). ``--variant NAME=K=V,K=V`` adds a contentintel server started with
that environment to every round (e.g. to compare a setting on and off within one run);
``CWD=DIR`` among them serves from another checkout of the project (a variant of the code,
e.g. without the executor shortcut).

Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from load import free_port, load_catalog, make_key, raw_sql, settle  # noqa: E402

PEERS_DIR = ROOT / "bench" / "peers"
POSTGRAPHILE = PEERS_DIR / "node_modules" / ".bin" / "postgraphile"
PEER_SCHEMA = "peers"
DATABASE = "contentintel_peers"


# --- the queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One query asked of both servers, and the same data as raw SQL."""

    name: str
    ours: str
    peer: str | None
    variables: Callable[[random.Random, Ids], tuple[dict[str, Any], dict[str, Any]]]
    """(contentintel's variables, PostGraphile's) for one request."""
    same_ours: Callable[[Any], Any]
    same_peer: Callable[[Any], Any]
    raw: Callable[[Any, random.Random, Ids], Awaitable[None]]
    raw_label: str


@dataclass(frozen=True)
class Ids:
    titles: list[int]
    embedded: list[int]


def catalog_ids(libpq: str) -> Ids:
    """Every title's id, and the embedded ones', of the bench's catalog (printed)."""
    import psycopg

    with psycopg.connect(libpq) as conn:
        titles = [r[0] for r in conn.execute("SELECT id FROM titles ORDER BY id")]
        embedded = [r[0] for r in conn.execute("SELECT title_id FROM title_embeddings ORDER BY 1")]
    print(f"catalog: {len(titles):,} titles, {len(embedded):,} embedded")
    return Ids(titles, embedded)


def _round(value: Any) -> float:
    return round(float(value), 4)


def _page_cursor(title_id: int) -> tuple[str, str]:
    """The cursor after ``title_id`` in each API's format (contentintel's keyset cursor;
    PostGraphile 4's base64 of ``["primary_key_asc", [id]]``)."""
    import base64

    from server.graphql.schema import TITLE_CURSOR
    from server.kit.pagination import encode_cursor

    peer = base64.b64encode(json.dumps(["primary_key_asc", [title_id]]).encode()).decode()
    return encode_cursor(TITLE_CURSOR, title_id), peer


TRIVIAL = Query(
    name="{ __typename }",
    ours="{ __typename }",
    peer="{ __typename }",
    variables=lambda rng, ids: ({}, {}),
    same_ours=lambda data: data,
    same_peer=lambda data: data,
    raw=lambda conn, rng, ids: _fetch(conn, "SELECT 1"),
    raw_label="SELECT 1",
)

TITLES_PAGE = Query(
    name="titles(first: 20)",
    ours="""query Page($after: String) { titles(first: 20, after: $after) {
  edges { node { id name kind releaseYear synopsis } } } }""",
    peer="""query Page($after: Cursor) { allTitles(first: 20, after: $after,
  orderBy: PRIMARY_KEY_ASC) { edges { node { id name kind releaseYear synopsis } } } }""",
    variables=lambda rng, ids: tuple(  # type: ignore[arg-type,return-value]
        {"after": c} for c in _page_cursor(rng.choice(ids.titles[:-20]))
    ),
    same_ours=lambda data: [e["node"] for e in data["titles"]["edges"]],
    same_peer=lambda data: [
        {**e["node"], "id": str(e["node"]["id"])} for e in data["allTitles"]["edges"]
    ],
    raw=lambda conn, rng, ids: _fetch(
        conn,
        "SELECT id, name, kind, release_year, synopsis FROM titles WHERE id > %s "
        "ORDER BY id LIMIT 20",
        (rng.choice(ids.titles),),
    ),
    raw_label="the page's columns",
)

TITLE_TAGS = Query(
    name="title(id) with its tags",
    ours="""query One($id: ID!) { title(id: $id) {
  id name kind releaseYear tags { kind name weight } } }""",
    peer="""query One($id: BigInt!) { titleById(id: $id) {
  id name kind releaseYear titleTagsByTitleIdList { weight tagByTagId { kind name } } } }""",
    variables=lambda rng, ids: (lambda i: ({"id": str(i)}, {"id": str(i)}))(rng.choice(ids.titles)),
    # PostGraphile lists a title's tags in key order, contentintel by kind and weight.
    same_ours=lambda data: {
        **{k: v for k, v in data["title"].items() if k != "tags"},
        "tags": sorted((t["kind"], t["name"], _round(t["weight"])) for t in data["title"]["tags"]),
    },
    same_peer=lambda data: {
        **{k: v for k, v in data["titleById"].items() if k != "titleTagsByTitleIdList"},
        "id": str(data["titleById"]["id"]),
        "tags": sorted(
            (t["tagByTagId"]["kind"], t["tagByTagId"]["name"], _round(t["weight"]))
            for t in data["titleById"]["titleTagsByTitleIdList"]
        ),
    },
    raw=lambda conn, rng, ids: _fetch(
        conn,
        "SELECT t.id, t.name, t.kind, t.release_year, (SELECT json_agg(json_build_array("
        "g.kind, g.name, tt.weight)) FROM title_tags tt JOIN tags g ON g.id = tt.tag_id "
        "WHERE tt.title_id = t.id) FROM titles t WHERE t.id = %s",
        (rng.choice(ids.titles),),
    ),
    raw_label="row + tags, one statement",
)


def _similar_sql(source: str, first: str) -> str:
    """The lean nearest-neighbour query of ``similarTitles`` (default weights, no filter):
    the service's scan without the facet scores and shared tags nobody asked for."""
    from server.embeddings.facets import DEFAULT_WEIGHTS
    from server.models.dims import METADATA_DIM, PEOPLE_DIM, SYNOPSIS_DIM, TAGS_DIM
    from server.similarity.service import facet_factors

    dims = (SYNOPSIS_DIM, TAGS_DIM, METADATA_DIM, PEOPLE_DIM)
    blocks = [
        f"array_fill({f!r}::real, ARRAY[{d}])"
        for f, d in zip(facet_factors(DEFAULT_WEIGHTS), dims, strict=True)
    ]
    scale = f"({' || '.join(blocks)})::vector"
    return f"""
    SELECT n.score, t.id, t.name
    FROM (SELECT title_id, combined * {scale} AS q FROM title_embeddings
          WHERE title_id = {source}) AS src
    CROSS JOIN LATERAL (
        SELECT e.title_id, -(e.combined <#> src.q) AS score
        FROM title_embeddings e
        WHERE e.title_id <> src.title_id
        ORDER BY e.combined <#> src.q
        LIMIT {first}) AS n
    JOIN titles t ON t.id = n.title_id
    ORDER BY n.score DESC, t.id"""


SIMILAR_FIELDS = "score title { id name }"

SIMILAR = Query(
    name="similarTitles(first: 10)",
    ours=f"""query Similar($id: ID!) {{ similarTitles(titleId: $id, first: 10) {{
  {SIMILAR_FIELDS} }} }}""",
    peer="""query Similar($id: BigInt!) { similarTitlesList(sourceId: $id, size: 10) {
  score id name } }""",
    variables=lambda rng, ids: (lambda i: ({"id": str(i)}, {"id": str(i)}))(
        rng.choice(ids.embedded)
    ),
    same_ours=lambda data: [
        (_round(n["score"]), n["title"]["id"], n["title"]["name"]) for n in data["similarTitles"]
    ],
    same_peer=lambda data: [
        (_round(n["score"]), str(n["id"]), n["name"]) for n in data["similarTitlesList"]
    ],
    raw=lambda conn, rng, ids: _fetch(
        conn, _similar_sql("%s", "10"), (rng.choice(ids.embedded),), prepare=True
    ),
    raw_label="the lean nearest-neighbour SQL",
)

EXPLAINED = Query(
    name="similarTitles with explanation",
    ours="""query Explained($id: ID!) { similarTitles(titleId: $id, first: 10) {
  score title { id name }
  explanation { sharedTags { kind name weight } facetScores { synopsis tags metadata } } } }""",
    peer=None,  # no PostGraphile counterpart: compared with the lean query's raw SQL
    variables=lambda rng, ids: (lambda i: ({"id": str(i)}, {}))(rng.choice(ids.embedded)),
    same_ours=lambda data: data,
    same_peer=lambda data: data,
    raw=SIMILAR.raw,
    raw_label="the lean nearest-neighbour SQL",
)

QUERIES = {
    "trivial": TRIVIAL,
    "titles": TITLES_PAGE,
    "title": TITLE_TAGS,
    "similar": SIMILAR,
    "explained": EXPLAINED,
}


async def _fetch(conn: Any, sql: str, params: Any = None, prepare: bool | None = None) -> None:
    cur = await conn.execute(sql, params, prepare=prepare)
    await cur.fetchall()


# --- the database -------------------------------------------------------------------------


def prepare_catalog(url: str) -> str:
    """Migrations, the catalog and its hashing embeddings unless already there; then settle."""
    from sqlalchemy import text

    from server.db import migrations
    from server.db.engine import make_engine

    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            titles = conn.execute(text("SELECT count(*) FROM titles")).scalar_one()
            embedded = conn.execute(text("SELECT count(*) FROM title_embeddings")).scalar_one()
        if titles and embedded:
            return f"the catalog already there ({titles:,} titles, {embedded:,} embedded)"
        started = time.perf_counter()
        what = load_catalog(engine)
    finally:
        engine.dispose()
    settle(url)
    return f"loaded and embedded {what} in {time.perf_counter() - started:.1f} s"


def install_peer_schema(libpq: str, database: str) -> None:
    """The SQL function PostGraphile serves ``similarTitlesList`` from, in schema ``peers``,
    and the API's vector settings as database defaults (so PostGraphile's plans match)."""
    import psycopg
    from psycopg import sql

    from server.db.tuning import CONNECTION_SETTINGS

    with psycopg.connect(libpq, autocommit=True) as conn:
        for name, value in CONNECTION_SETTINGS.items():
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(database), sql.SQL(name), sql.Literal(value)
                )
            )
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {PEER_SCHEMA}")
        conn.execute(
            f"""CREATE OR REPLACE FUNCTION {PEER_SCHEMA}.similar_titles(
                source_id bigint, size integer DEFAULT 10)
            RETURNS TABLE (score double precision, id bigint, name text)
            LANGUAGE sql STABLE AS $$ {_similar_sql("source_id", "size")} $$"""
        )


def drop_peer_schema(libpq: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    from server.db.tuning import CONNECTION_SETTINGS

    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PEER_SCHEMA} CASCADE")
        for name in CONNECTION_SETTINGS:
            conn.execute(
                sql.SQL("ALTER DATABASE {} RESET {}").format(
                    sql.Identifier(database), sql.SQL(name)
                )
            )


MAX_CONNECTIONS = 400
"""Every server's pool (contentintel: 20 per worker, variants too; PostGraphile: 10 per
process) plus the raw-SQL floor's connections, with room to spare."""


def raise_max_connections(libpq: str) -> bool:
    """Raise the throwaway cluster's ``max_connections`` (Postgres' default 100 is less than
    the pools of three contentintel servers of 2 workers); True when a restart is needed."""
    import psycopg

    with psycopg.connect(libpq, autocommit=True) as conn:
        current = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        if current >= MAX_CONNECTIONS:
            return False
        conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    return True


def database_name(libpq: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return str(conninfo_to_dict(libpq)["dbname"])


# --- the servers --------------------------------------------------------------------------


@dataclass
class Server:
    label: str
    proc: subprocess.Popen[bytes]
    port: int
    query_of: Callable[[Query], str | None]
    variables_of: Callable[[tuple[dict[str, Any], dict[str, Any]]], dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its workers so far."""
        import psutil

        total = 0.0
        try:
            parent = psutil.Process(self.proc.pid)
            for proc in [parent, *parent.children(recursive=True)]:
                try:
                    times = proc.cpu_times()
                    total += times.user + times.system
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            pass
        return total

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], port: int, headers: Mapping[str, str]) -> None:
    import httpx

    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {proc.returncode}")
        try:
            answer = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ __typename }"},
                headers=dict(headers),
                timeout=2,
            )
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"the server on port {port} did not start")


def start_contentintel(
    url: str, key: str, workers: int, env: Mapping[str, str], label: str, log: Path
) -> Server:
    port = free_port()
    environment = {
        **os.environ,
        "CONTENTINTEL_DATABASE_URL": url,
        "CONTENTINTEL_PORT": str(port),
        "CONTENTINTEL_AUTH": "on",
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    command = [sys.executable, "-m", "server", "serve", "--workers", str(workers)]
    # CWD: another checkout of the project to serve from (a variant of the code)
    cwd = Path(environment.pop("CWD", ROOT))
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=environment, stdout=out, stderr=out)
    headers = {"Authorization": f"Bearer {key}"}
    _wait_ready(proc, port, headers)
    return Server(label, proc, port, lambda q: q.ours, lambda v: v[0], headers)


def install_postgraphile() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        sys.exit(
            "bench/peers.py needs node and npm to run PostGraphile (bench/peers/package.json); "
            "install Node.js 18+ and run it again"
        )
    if POSTGRAPHILE.exists():
        return
    print("installing PostGraphile with npm ci (bench/peers/package-lock.json) ...")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEERS_DIR, check=True)


def start_postgraphile(libpq: str, processes: int, log: Path) -> Server:
    port = free_port()
    command = [
        str(POSTGRAPHILE),
        "--connection",
        libpq,
        "--schema",
        f"public,{PEER_SCHEMA}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--simple-collections",
        "both",
        "--disable-query-log",
        "--disable-graphiql",
    ]
    if processes > 1:
        command += ["--cluster-workers", str(processes)]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command,
            cwd=PEERS_DIR,
            env={**os.environ, "NODE_ENV": "production"},
            stdout=out,
            stderr=out,
        )
    _wait_ready(proc, port, {})
    label = f"PostGraphile ({processes} proc)"
    return Server(label, proc, port, lambda q: q.peer, lambda v: v[1])


# --- the same data ------------------------------------------------------------------------


def same_data(servers: list[Server], peer: Server, query: Query, ids: Ids, samples: int) -> str:
    """Both servers' answers to ``samples`` requests, normalised, must be equal."""
    import httpx

    rng = random.Random(99)
    for _ in range(samples):
        pair = query.variables(rng, ids)
        answers = {}
        for server in [*servers, peer]:
            text = server.query_of(query)
            if text is None:
                continue
            reply = httpx.post(
                f"http://127.0.0.1:{server.port}/graphql",
                json={"query": text, "variables": server.variables_of(pair)},
                headers=server.headers,
                timeout=30,
            ).json()
            if "errors" in reply or reply.get("data") is None:
                raise SystemExit(f"{server.label} answered {query.name} with {reply}")
            normalise = query.same_peer if server is peer else query.same_ours
            answers[server.label] = normalise(reply["data"])
        distinct = {json.dumps(a, sort_keys=True) for a in answers.values()}
        if len(distinct) > 1:
            detail = json.dumps(answers, indent=1, sort_keys=True)[:3000]
            raise SystemExit(f"different data for {query.name} ({pair}):\n{detail}")
    return f"same data on {samples} requests" if query.peer else "no peer to compare with"


# --- the load generator -------------------------------------------------------------------

WRK_SCRIPT = r"""
local bodies = dofile(os.getenv("PEERS_BODIES"))
local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
local auth = os.getenv("PEERS_AUTH")
if auth ~= nil and auth ~= "" then headers["Authorization"] = auth end
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  index = 0
  failed = 0
  first_failure = ""
end

function request()
  index = index % #bodies + 1
  return wrk.format("POST", "/graphql", headers, bodies[index])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failed = failed + 1
    if first_failure == "" then first_failure = status .. " " .. string.sub(body, 1, 200) end
  end
end

function done(summary, latency, requests)
  local failures = 0
  local first = ""
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
    if first == "" then first = thread:get("first_failure") end
  end
  io.write(string.format(
    "WRK-RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), failures,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  io.write("WRK-FIRST-FAILURE " .. first .. "\n")
end
"""


@dataclass
class Round:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float
    load: float
    first_failure: str = ""


def lua_bodies(bodies: list[bytes], path: Path) -> None:
    """The request bodies as a Lua file returning a table of strings."""
    with path.open("w") as out:
        out.write("return {\n")
        for body in bodies:
            text = body.decode()
            assert "]==]" not in text
            out.write(f"[==[{text}]==],\n")
        out.write("}\n")


def run_wrk(server: Server, bodies: Path, script: Path, seconds: float, connections: int) -> Round:
    env = {
        **os.environ,
        "PEERS_BODIES": str(bodies),
        "PEERS_AUTH": server.headers.get("Authorization", ""),
    }
    load = os.getloadavg()[0]
    cpu_before = server.cpu_seconds()
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{server.port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = server.cpu_seconds() - cpu_before
    fields = next(
        line.split()[1:] for line in done.stdout.splitlines() if line.startswith("WRK-RESULT")
    )
    first = next(
        (line[18:] for line in done.stdout.splitlines() if line.startswith("WRK-FIRST-FAILURE")),
        "",
    )
    requests, duration_us, p50, p99, failed, socket_errors, _status = map(int, fields)
    return Round(
        rate=requests / (duration_us / 1e6),
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        errors=failed + socket_errors,
        cpu_ms=cpu * 1000 / max(requests, 1),
        load=load,
        first_failure=first.strip(),
    )


# --- where a request's time goes ----------------------------------------------------------


async def asgi_post(app: Any, body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """One POST /graphql straight into the ASGI app (no client, no socket)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    received = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


def service_call(query_key: str) -> Callable[[Any, int], Awaitable[Any]] | None:
    """The service call(s) a query's resolver makes, as the resolver makes them."""
    from server.catalog import service as catalog
    from server.similarity import service as similarity

    if query_key == "titles":
        columns = {"name", "kind", "release_year", "synopsis"}
        return lambda s, i: catalog.list_titles(s, None, 20, i, columns=columns, count=False)
    if query_key == "title":
        columns = {"name", "kind", "release_year"}
        return lambda s, i: catalog.title_with_tags(s, title_id=i, columns=columns, with_tags=True)
    if query_key in ("similar", "explained"):
        explain = query_key == "explained"
        return lambda s, i: similarity.similar_titles(s, i, 10, explain=explain, columns={"name"})
    return None


async def breakdown(url: str, libpq: str, key: str, ids: Ids, queries: list[str], n: int) -> None:
    """Per query, one request at a time, in-process (CPU ms of this process, mean of ``n``;
    Postgres' own work is not in it): the whole request
    through the ASGI app; the operation alone (``run_operation``: validation, execution,
    resolvers, service, session); the service call alone through a session; the same
    data as raw SQL on one psycopg connection; and opening a session and checking out its
    connection. The differences are the layers: HTTP (starlette, auth, metrics, JSON) =
    request - operation; GraphQL (validation, execution, types) = operation - service;
    SQLAlchemy over psycopg = service - raw SQL - session."""
    import psycopg
    from strawberry.types.graphql import OperationType

    from server.app import AppState, create_app
    from server.config import load_settings
    from server.db.tuning import CONNECTION_SETTINGS
    from server.graphql.documents import parse_document
    from server.graphql.operation import run_operation
    from server.graphql.schema import schema
    from server.kit.resolving.context import Context
    from server.observability.logs import configure

    settings = load_settings(auth="on", log_level="WARNING")
    configure("WARNING", "json")
    app = create_app(settings, database_url=url)
    state = AppState(url, None, settings)
    await state.open()
    headers = [(b"authorization", f"Bearer {key}".encode())]
    raw = await psycopg.AsyncConnection.connect(libpq, autocommit=True)
    for setting, value in CONNECTION_SETTINGS.items():
        await raw.execute("SELECT set_config(%s, %s, false)", (setting, value))
    print(f"\n== where the CPU goes: one request at a time, in-process, mean of {n} (CPU ms)")
    print(
        f"   {'query':<32} {'request':>8} {'operation':>9} {'service':>8} {'raw SQL':>8} "
        f"{'session':>8} | {'HTTP':>6} {'GraphQL':>7} {'SQLA':>6}"
    )

    async def interleaved(steps: list[Callable[[int], Awaitable[Any]]], count: int) -> list[float]:
        """Mean CPU ms of this process per call of each step, the steps taking turns. CPU,
        not wall time: on a loaded machine each round trip to Postgres waits milliseconds for
        the scheduler, which would swamp every layer."""
        spent: list[list[float]] = [[] for _ in steps]
        for i in range(count + 50):
            for step, out in zip(steps, spent, strict=True):
                started = time.process_time()
                await step(i)
                if i >= 50:
                    out.append((time.process_time() - started) * 1000)
        return [statistics.fmean(out) for out in spent]

    async def layers(query_key: str) -> None:
        query = QUERIES[query_key]
        rng = random.Random(5)
        variables = [query.variables(rng, ids)[0] for _ in range(n + 50)]
        bodies = [json.dumps({"query": query.ours, "variables": v}).encode() for v in variables]
        document = parse_document(query.ours, settings.max_tokens)
        raw_rng = random.Random(5)
        call = service_call(query_key)
        keys = [int(v["id"]) if "id" in v else rng.choice(ids.titles) for v in variables]

        async def request(i: int) -> None:
            await asgi_post(app, bodies[i], headers)

        async def operation(i: int) -> None:
            context = Context(
                settings=settings,
                sessions=state.read_sessions(),
                write_sessions=state.sessions(),
                reads=state.reads,
                document=document,
            )
            try:
                await run_operation(
                    schema,
                    query.ours,
                    document,
                    context,
                    variables[i],
                    None,
                    {OperationType.QUERY},
                    encoded=True,
                )
            finally:
                await context.close()

        async def service(i: int) -> None:
            assert call is not None
            async with state.read_sessions()() as session:
                await call(session, keys[i])

        async def floor(i: int) -> None:
            await query.raw(raw, raw_rng, ids)

        async def session_only(i: int) -> None:
            async with state.read_sessions()() as session:
                await session.connection()

        steps = [request, operation, floor, session_only] + ([service] if call else [])
        times = await interleaved(steps, n)
        whole, op, sql, sess = times[:4]
        svc = times[4] if call is not None else 0.0
        orm = svc - sql - sess if call is not None else 0.0
        print(
            f"   {query.name:<32} {whole:8.2f} {op:9.2f} {svc:8.2f} {sql:8.2f} "
            f"{sess:8.2f} | {whole - op:6.2f} {op - svc:7.2f} {orm:6.2f}"
        )

    try:
        async with app.router.lifespan_context(app):
            for query_key in queries:
                await layers(query_key)
    finally:
        await raw.close()
        await state.close()


# --- the comparison -----------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def compare(
    args: argparse.Namespace,
    url: str,
    libpq: str,
    key: str,
    ids: Ids,
    processes: int,
    tmp: Path,
) -> None:
    log = tmp / "servers.log"
    ours = [start_contentintel(url, key, processes, {}, f"contentintel ({processes} proc)", log)]
    for name, env in args.variant:
        label = f"contentintel {name} ({processes} proc)"
        ours.append(start_contentintel(url, key, processes, env, label, log))
    peer = start_postgraphile(libpq, processes, log)
    script = tmp / "peers.lua"
    script.write_text(WRK_SCRIPT)
    try:
        print(
            f"\n== {processes} process(es) each: "
            + ", ".join(s.label for s in [*ours, peer])
            + f"; wrk, {args.connections} connections, {args.rounds} alternating rounds of "
            f"{args.seconds:g} s"
        )
        for query_key in args.queries:
            query = QUERIES[query_key]
            check = same_data(ours, peer, query, ids, args.samples)
            rng = random.Random(7)
            pairs = [query.variables(rng, ids) for _ in range(2000)]
            files: dict[str, Path] = {}
            sides = [s for s in [*ours, peer] if s.query_of(query) is not None]
            for server in sides:
                text = server.query_of(query)
                bodies = [
                    json.dumps({"query": text, "variables": server.variables_of(p)}).encode()
                    for p in pairs
                ]
                files[server.label] = tmp / f"bodies-{len(files)}.lua"
                lua_bodies(bodies, files[server.label])
            # warm-up: caches, pools, JIT
            for server in sides:
                run_wrk(server, files[server.label], script, 2, args.connections)
            rounds: dict[str, list[Round]] = {s.label: [] for s in sides}
            for index in range(args.rounds):
                order = sides if index % 2 == 0 else sides[::-1]
                for server in order:
                    rounds[server.label].append(
                        run_wrk(server, files[server.label], script, args.seconds, args.connections)
                    )
            print(f"\n-- {query.name}  ({check})")
            report(rounds, peer.label if query.peer else None)
            floor = asyncio.run(
                raw_sql(
                    f"raw SQL: {query.raw_label}",
                    libpq,
                    lambda conn, rng, q=query: q.raw(conn, rng, ids),
                    args.connections,
                    args.seconds,
                )
            )
            from load import percentile

            print(
                f"   floor, {floor.name}: {floor.rate:,.0f} req/s, "
                f"p50 {percentile(floor.latencies, 0.5) * 1000:.2f} ms, "
                f"p99 {percentile(floor.latencies, 0.99) * 1000:.2f} ms "
                f"({args.connections} psycopg connections, one asyncio process)"
            )
    finally:
        for server in [*ours, peer]:
            server.stop()


def report(rounds: dict[str, list[Round]], peer: str | None) -> None:
    for label, runs in rounds.items():
        errors = sum(r.errors for r in runs)
        line = (
            f"   {label:<34} {median([r.rate for r in runs]):8,.0f} req/s  "
            f"p50 {median([r.p50_ms for r in runs]):6.1f} ms  "
            f"p99 {median([r.p99_ms for r in runs]):6.1f} ms  "
            f"cpu {median([r.cpu_ms for r in runs]):5.2f} ms/req  errors {errors}  "
            f"[req/s per round: {', '.join(f'{r.rate:,.0f}' for r in runs)}; "
            f"load {', '.join(f'{r.load:.1f}' for r in runs)}]"
        )
        print(line)
        first = next((r.first_failure for r in runs if r.first_failure), "")
        if first:
            print(f"      first failure: {first}")
    if peer is None:
        return
    for label, runs in rounds.items():
        if label == peer:
            continue
        ratios = [a.rate / b.rate for a, b in zip(runs, rounds[peer], strict=True)]
        print(
            f"   {label} / {peer}: {median(ratios):.2f} "
            f"[{min(ratios):.2f}-{max(ratios):.2f}] per round"
        )


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, rest = text.partition("=")
    env = dict(item.split("=", 1) for item in rest.split(",") if item)
    return name, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=7.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--procs", default="1,2", help="processes per side, e.g. 1,2")
    parser.add_argument("--queries", default=",".join(QUERIES), help=f"some of {','.join(QUERIES)}")
    parser.add_argument("--samples", type=int, default=20, help="requests compared per query")
    parser.add_argument(
        "--breakdown",
        type=int,
        default=300,
        help="requests per layer for the in-process breakdown (0: skip it)",
    )
    parser.add_argument("--no-load", action="store_true", help="only the breakdown")
    parser.add_argument("--pgdata", help="keep the embedded cluster here and reuse it")
    parser.add_argument("--url", help="an existing database holding the embedded catalog")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        type=parse_variant,
        help="NAME=K=V,K=V: one more contentintel server with this environment",
    )
    args = parser.parse_args()
    args.queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    unknown = set(args.queries) - set(QUERIES)
    if unknown:
        parser.error(f"unknown queries {sorted(unknown)}; choose from {list(QUERIES)}")
    if shutil.which("wrk") is None:
        sys.exit("bench/peers.py needs wrk (apt-get install wrk)")
    install_postgraphile()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from server.db.embedded import EmbeddedPostgres, to_sqlalchemy_url

    if args.url:
        url = to_sqlalchemy_url(args.url)
        run(args, url, "postgresql://" + url.split("://", 1)[1])
        return
    with tempfile.TemporaryDirectory(prefix="contentintel-peers-") as scratch:
        where = Path(args.pgdata) if args.pgdata else Path(scratch)
        mode = "stop" if args.pgdata else "delete"
        with EmbeddedPostgres(where, cleanup_mode=mode) as pg:
            if raise_max_connections(pg.libpq_url("postgres")):
                pg.stop()
                pg.start()
            pg.ensure_database(DATABASE)
            run(args, pg.sqlalchemy_url(DATABASE), pg.libpq_url(DATABASE))


def run(args: argparse.Namespace, url: str, libpq: str) -> None:

    print(prepare_catalog(url))
    database = database_name(libpq)
    install_peer_schema(libpq, database)
    try:
        ids = catalog_ids(libpq)
        key = make_key(url)
        if args.breakdown:
            asyncio.run(breakdown(url, libpq, key, ids, args.queries, args.breakdown))
        if args.no_load:
            return
        with tempfile.TemporaryDirectory(prefix="contentintel-peers-run-") as tmp:
            for processes in [int(p) for p in args.procs.split(",")]:
                compare(args, url, libpq, key, ids, processes, Path(tmp))
    finally:
        drop_peer_schema(libpq, database)


if __name__ == "__main__":
    main()
