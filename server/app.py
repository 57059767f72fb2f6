"""ASGI app factory: /graphql (GraphiQL in the browser), /explore, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from prometheus_client.core import Metric
from sqlalchemy import QueuePool, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from server.config import Settings
from server.db.engine import make_async_engine, make_async_sessionmaker
from server.db.migrations import head_revision
from server.db.reads import DriverReads
from server.embeddings.embedders import EmbedderUnavailable
from server.explorer.routes import explorer_routes, graphiql_html
from server.graphql.http import GraphQLHTTP
from server.observability.metrics import CONTENT_TYPE, METRICS, gauge_family
from server.observability.multiprocess import multiprocess_dir
from server.similarity.service import query_embedder

log = logging.getLogger("contentintel.app")


class AppState:
    """Holds the engine (created in the lifespan) or a session factory given by tests."""

    def __init__(
        self,
        url: str | None,
        session_factory: async_sessionmaker[AsyncSession] | None,
        settings: Settings,
        read_url: str | None = None,
    ) -> None:
        self.url = url
        self.read_url = read_url
        self.settings = settings
        self.engine: AsyncEngine | None = None
        self.read_engine: AsyncEngine | None = None
        self._sessions = session_factory
        self._read_sessions: async_sessionmaker[AsyncSession] | None = None
        self.reads: DriverReads | None = None
        """Single read statements outside a session; None over a session factory (tests)."""
        self._reporting: asyncio.Future[None] | None = None

    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("the database is not open yet (lifespan not started)")
        return self._sessions

    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for read-only operations: the replica's when one is configured."""
        return self._read_sessions or self.sessions()

    async def open(self) -> None:
        if self._sessions is None and self.url is not None:
            self.engine = make_api_engine(self.url, self.settings)
            self._sessions = make_async_sessionmaker(transactional(self.engine))
        if self._read_sessions is None and self.read_url is not None:
            self.read_engine = make_api_engine(self.read_url, self.settings)
        reads = self.read_engine or self.engine
        if self._read_sessions is None and reads is not None:
            self._read_sessions = make_async_sessionmaker(reads)
            self.reads = DriverReads(reads)
        self.report_pool_usage()

    async def close(self) -> None:
        if self._reporting is not None:
            self._reporting.cancel()
        if self.reads is not None:
            await self.reads.close()
        for engine in (self.engine, self.read_engine):
            if engine is not None:
                await engine.dispose()

    def pool_usage(self) -> dict[str, float]:
        pool = self.engine.pool if self.engine is not None else None
        if not isinstance(pool, QueuePool):
            return {}
        # connections the driver reads keep are idle, though checked out of the pool
        kept = self.reads.idle if self.reads is not None and self.reads.engine is self.engine else 0
        return {
            "checked_out": float(pool.checkedout() - kept),
            "idle": float(pool.checkedin() + kept),
            "overflow": float(max(pool.overflow(), 0)),
            "size": float(pool.size()),
        }

    def report_pool_usage(self) -> None:
        """With several workers, a scrape is answered by one of them: each worker writes its
        pool's usage to the shared metrics files every ``POOL_REPORT_S``, so the sum is at
        most that old. (One process reads its pool at scrape time instead.) Writing it at
        each checkout and checkin cost ~25 us of CPU per request (two writes of four mapped
        values)."""
        if self.engine is None or multiprocess_dir() is None:
            return

        async def report() -> None:
            while True:
                METRICS.set_pool(self.pool_usage())
                await asyncio.sleep(POOL_REPORT_S)

        self._reporting = asyncio.ensure_future(report())


def make_api_engine(url: str, settings: Settings) -> AsyncEngine:
    """The API's engine: a bounded pool with a wait timeout, a statement timeout on every
    connection (set at connect, so it costs nothing per request), and connections in
    autocommit, for queries.

    A query's statements each see the latest committed data either way (READ COMMITTED takes
    a snapshot per statement), so wrapping them in BEGIN ... ROLLBACK bought nothing and cost
    two round trips a request (~0.4 ms of a 2 ms ``title(id)`` request, measured with
    bench/similarity.py's server). Autocommit is the engine's own level, set once per
    connection, rather than an option of the sessions that read: switching each checked-out
    connection to autocommit and back cost ~0.12 ms of CPU per request (measured in-process,
    one statement a request: 0.65 against 0.53 ms). Mutations opt into their transaction
    (``transactional``).
    """
    options = f"-c statement_timeout={settings.statement_timeout_ms}"
    return make_async_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.pool_size,
        # Overflow connections are closed when returned: under steady concurrency above
        # pool_size they are opened and closed (a Postgres backend forked) per request.
        max_overflow=settings.pool_overflow,
        pool_timeout=settings.pool_timeout_s,
        connect_args={"options": options},
    )


def transactional(engine: AsyncEngine) -> AsyncEngine:
    """The API engine's pool, handing out connections in a transaction (READ COMMITTED): for
    mutations, whose writes commit together or not at all."""
    return engine.execution_options(isolation_level="READ COMMITTED")


def freeze_what_lives_on() -> None:
    """Move everything alive now (modules, the schema, the engine, the embedder: ~230,000
    objects) out of the garbage collector's sight for the rest of the process.

    A full collection walks every tracked object: with all of these it took ~230 ms (once in
    9,000 requests measured in-process), during which the worker answers nothing and every
    request in flight waits: with 32 connections, that lands in the p99. Frozen, a full
    collection of what the requests leave behind took ~3 ms. Objects frozen here that
    would later become cyclic garbage are not reclaimed; nothing built at startup is
    discarded before the process ends.
    """
    gc.collect()
    gc.freeze()


async def preload_query_embedder(settings: Settings) -> None:
    """Load the search embedder before serving: loading MiniLM takes ~6 s, which the first
    semantic search would otherwise wait (measured on the real catalog). A missing model is
    logged and left to the searches, which explain it; the rest of the API serves."""
    try:
        await asyncio.to_thread(query_embedder, settings.embedder)
    except EmbedderUnavailable as exc:
        log.warning("search embedder %s unavailable: %s", settings.embedder.value, exc)


GRAPHQL_PATH = "/graphql"
GRAPHQL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""The methods the endpoint answers (with a 405 for all but GET and POST)."""


class App(Starlette):
    """Starlette, with a request to ``/graphql`` handed straight to its endpoint.

    Starlette's error middlewares, router and route wrapper cost ~8% of the CPU of a
    compiled query (py-spy, in-process); the endpoint answers every error itself (masked
    and logged with the request id), so they added nothing there. Anything else (other
    paths, other methods, a ``root_path``) takes Starlette's path, where the same endpoint
    is also routed."""

    def __init__(self, *, graphql: Callable[[Request], Awaitable[Response]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == GRAPHQL_PATH
            and not scope.get("root_path")
            and scope["method"] in GRAPHQL_METHODS
        ):
            scope["app"] = self
            response = await self.graphql(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    database_url: str | None = None,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
    read_database_url: str | None = None,
    freeze_after_startup: bool = False,
) -> Starlette:
    """Build the app over a database URL, or over a ready session factory (tests). Queries go
    to ``read_database_url`` (a replica) when given. ``freeze_after_startup`` (a server's
    worker, whose process is the app's alone): see ``freeze_what_lives_on``."""
    state = AppState(database_url, session_factory, settings, read_database_url)
    graphql = GraphQLHTTP(
        settings,
        state.sessions,
        state.read_sessions,
        graphiql_html(),
        reads=lambda: state.reads,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.open()
        await preload_query_embedder(settings)
        if freeze_after_startup:
            freeze_what_lives_on()
        log.info(
            "serving (auth %s, introspection %s, graphiql %s)",
            settings.auth.value,
            settings.introspection.value,
            settings.graphiql.value,
        )
        try:
            yield
        finally:
            # The server has stopped accepting and finished in-flight requests by now.
            await state.close()
            METRICS.worker_stopped()
            log.info("stopped")

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> JSONResponse:
        try:
            async with state.sessions()() as session:
                current = await session.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception as exc:  # the point is to report any failure as not ready
            log.warning("readiness check failed: %s", exc)
            return JSONResponse({"ready": False, "reason": "database unreachable"}, status_code=503)
        head = head_revision()
        if current != head:
            return JSONResponse(
                {"ready": False, "reason": f"migrations at {current}, head is {head}"},
                status_code=503,
            )
        return JSONResponse({"ready": True, "revision": current})

    catalog_figures = Cached(catalog_gauges, state, ttl=METRICS_CACHE_S)

    async def metrics(request: Request) -> Response:
        METRICS.set_pool(state.pool_usage())
        body = METRICS.render(await catalog_figures.get())
        return Response(body, media_type=CONTENT_TYPE)

    return App(
        graphql=graphql.handle,
        routes=[
            Route(GRAPHQL_PATH, graphql.handle, methods=list(GRAPHQL_METHODS)),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *explorer_routes(),
        ],
        lifespan=lifespan,
    )


def worker_app(target: str, *, settings: Settings, database_url: str) -> Starlette:
    """The app of one worker process of ``serve`` (granian calls this in each worker, with
    the import target it was given, unused here): ``serve``'s settings and the database URL
    it resolved, logging configured in the worker."""
    from server.db.embedded import to_sqlalchemy_url
    from server.observability.logs import configure

    configure(settings.log_level.value, settings.log_format.value)
    return create_app(
        settings,
        freeze_after_startup=True,
        database_url=database_url,
        read_database_url=to_sqlalchemy_url(settings.read_database_url)
        if settings.read_database_url
        else None,
    )


POOL_REPORT_S = 1.0
"""How often each worker writes its pool's usage for scrapes (with several workers)."""
METRICS_CACHE_S = 5.0
"""Scrapes within this many seconds share one read of the catalog gauges."""


T = TypeVar("T")


class Cached(Generic[T]):
    """What ``produce(state)`` returned less than ``ttl`` seconds ago, or a fresh value;
    concurrent callers share one call, so a flood of scrapes costs one query per ``ttl``."""

    def __init__(
        self,
        produce: Callable[[AppState], Awaitable[T]],
        state: AppState,
        ttl: float,
    ) -> None:
        self.produce = produce
        self.state = state
        self.ttl = ttl
        self._value: T | None = None
        self._at = -float("inf")
        self._lock = asyncio.Lock()

    async def get(self) -> T:
        if self._value is None or time.monotonic() - self._at >= self.ttl:
            async with self._lock:
                if self._value is None or time.monotonic() - self._at >= self.ttl:
                    self._value = await self.produce(self.state)
                    self._at = time.monotonic()
        return self._value


async def catalog_gauges(state: AppState) -> list[Metric]:
    """Catalog size and embedding coverage, read from the database at scrape time (what the
    embed and ingest jobs, run as separate processes, have produced)."""
    up = "contentintel_database_up"
    up_help = "1 when the database answered this scrape."
    try:
        async with state.sessions()() as session:
            titles = await session.scalar(text("SELECT count(*) FROM titles")) or 0
            embedded = (
                await session.execute(
                    text("SELECT embedder, count(*) FROM title_embeddings GROUP BY 1 ORDER BY 1")
                )
            ).all()
            await session.rollback()
    except Exception as exc:  # metrics must render even when the database is down
        log.warning("catalog gauges unavailable: %s", exc)
        return [gauge_family(up, up_help, {(): 0}, ())]
    return [
        gauge_family(up, up_help, {(): 1}, ()),
        gauge_family(
            "contentintel_catalog_titles", "Titles in the catalog.", {(): titles or 0}, ()
        ),
        gauge_family(
            "contentintel_embedded_titles",
            "Titles with an embedding, by embedder.",
            {(str(embedder),): count for embedder, count in embedded},
            ("embedder",),
        ),
    ]
