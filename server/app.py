"""ASGI app factory: /graphql (GraphiQL in the browser), /healthz, /readyz."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from server.config import Settings
from server.db.engine import make_async_engine, make_async_sessionmaker
from server.db.migrations import head_revision
from server.graphql.context import Context
from server.graphql.schema import schema

log = logging.getLogger("contentintel.app")


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, settings: Settings, state: AppState) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.settings = settings
        self.state = state

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(session=self.state.sessions()(), settings=self.settings)


class AppState:
    """Holds the engine (created in the lifespan) or a session factory given by tests."""

    def __init__(
        self, url: str | None, session_factory: async_sessionmaker[AsyncSession] | None
    ) -> None:
        self.url = url
        self.engine: AsyncEngine | None = None
        self._sessions = session_factory

    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("the database is not open yet (lifespan not started)")
        return self._sessions

    async def open(self) -> None:
        if self._sessions is None and self.url is not None:
            self.engine = make_async_engine(self.url, pool_size=10, max_overflow=10)
            self._sessions = make_async_sessionmaker(self.engine)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()


def create_app(
    settings: Settings,
    *,
    database_url: str | None = None,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
) -> Starlette:
    """Build the app over a database URL, or over a ready session factory (tests)."""
    state = AppState(database_url, session_factory)
    graphql = GraphQLApp(settings, state)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.open()
        try:
            yield
        finally:
            await state.close()

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

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
