"""Per-request GraphQL context: a session opened on first use, fresh DataLoaders, settings.

It knows no feature: a resolver asks for its feature's loaders by class
(``info.context.loaders(CatalogLoaders).title``), so the context sits below the features."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from graphql import DocumentNode
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from server.config import Settings
from server.kit.errors import ErrorCode, ExpectedError
from server.kit.loaders import RunInSession
from server.kit.roles import AUTH_OFF, Principal

T = TypeVar("T")
L = TypeVar("L")

SessionFactory = async_sessionmaker[AsyncSession]


class ReadOne(Protocol):
    """The first row of one read statement (driver SQL, ``%(name)s`` placeholders), run
    outside any session (``server.db.reads.DriverReads``)."""

    async def __call__(self, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None: ...


class RequestFinished(ExpectedError):
    """A database call made after the request's answer was decided (by a resolver whose
    sibling failed the whole operation); its result could not reach the client anyway."""

    def __init__(self) -> None:
        super().__init__("the request has already finished", code=ErrorCode.TIMEOUT)


@dataclass
class Context:
    """What every resolver sees.

    Sibling fields resolve concurrently, and one AsyncSession cannot run two statements at
    once: every database call goes through ``db()``, which serialises them on a lock.

    A resolver can be cancelled mid-statement (graphql-core cancels the siblings of a field
    whose error nulls the whole operation) or abandoned (its error bubbled synchronously).
    A cancelled statement would leave the connection half-way through a protocol exchange, and
    closing the session under a running statement fails the sibling with a driver error. So
    each call runs in its own task that finishes its statement even when its caller is
    cancelled, and holds the lock until then; ``close()`` takes the lock, so the session
    outlives every statement of the request, and refuses calls that come later.
    """

    settings: Settings
    sessions: SessionFactory | None = None
    """Where queries read (the replica when there is one); a session is opened on first use."""
    write_sessions: SessionFactory | None = None
    """Where mutations run (the primary); defaults to ``sessions``."""
    reads: ReadOne | None = None
    """Where a query's single statements may read without a session (the compiled paths);
    without it, ``fetch_one`` reads on the session."""
    principal: Principal = AUTH_OFF
    """Who the request runs as (set from the API key; everything allowed when auth is off)."""
    request_id: str = "-"
    operation: tuple[str, str] | None = None
    """(type, name) of the operation being executed, for metrics, logs and routing."""
    deadline: float = float("inf")
    """``time.monotonic()`` past which execution stops with TIMEOUT."""
    timed_out: bool = False
    document: DocumentNode | None = None
    """The parsed query, when the HTTP layer parsed it already."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: dict[Callable[[RunInSession], Any], Any] = field(default_factory=dict, init=False)
    _session: AsyncSession | None = field(default=None, init=False)
    _closed: bool = field(default=False, init=False)

    def loaders(self, kind: Callable[[RunInSession], L]) -> L:
        """The request's DataLoaders of one feature (``CatalogLoaders``, ``SceneLoaders``…),
        built on first use: most requests use one or two features' loaders, ``__typename``
        none. The context knows no feature; each feature names the loaders it wants."""
        found = self._loaders.get(kind)
        if found is None:
            found = self._loaders[kind] = kind(self.db)
        return cast(L, found)

    @property
    def session(self) -> AsyncSession:
        """The request's session, opened on first use: on the primary for a mutation, on the
        read side for anything else."""
        if self._session is None:
            mutation = self.operation is not None and self.operation[0] == "mutation"
            factory = (self.write_sessions or self.sessions) if mutation else self.sessions
            if factory is None:
                raise RuntimeError("the request context has no session factory")
            self._session = factory()
        return self._session

    @property
    def has_session(self) -> bool:
        return self._session is not None

    def check_deadline(self) -> None:
        if self.timed_out or time.monotonic() > self.deadline:
            self.timed_out = True
            raise ExecutionTimeout(self.settings.execution_timeout_ms)

    async def db(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await self._serialised(lambda: fn(self.session))

    async def fetch_one(self, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of one read statement: through ``reads`` when the request reads and
        has opened no session (its statements keep one connection then), else on the
        session. Serialised and shielded like ``db``."""
        reads = self.reads
        mutation = self.operation is not None and self.operation[0] == "mutation"
        if reads is None or mutation or self._session is not None:
            return await self.db(lambda session: _fetch_one(session, sql, params))
        return await self._serialised(lambda: reads(sql, params))

    async def _serialised(self, call: Callable[[], Awaitable[T]]) -> T:
        await self.lock.acquire()
        if self._closed:
            self.lock.release()
            raise RequestFinished()
        try:
            task = asyncio.ensure_future(self._run(call))
        except BaseException:
            self.lock.release()
            raise
        # A caller cancelled meanwhile never reads the outcome: read it here, so asyncio does
        # not report an exception nobody retrieved.
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        finally:
            self.lock.release()

    async def close(self, commit: bool = False) -> None:
        """Commit (or roll back) and close the session once every running statement of the
        request has finished; later ``db()`` calls raise ``RequestFinished``."""
        if self._closed:
            return
        self._closed = True
        async with self.lock:
            session, self._session = self._session, None
            if session is None:
                return
            try:
                if commit:
                    await session.commit()
                else:
                    await session.rollback()
            finally:
                await session.close()


async def _fetch_one(
    session: AsyncSession, sql: str, params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    connection = await session.connection()
    row = (await connection.exec_driver_sql(sql, dict(params))).first()
    return tuple(row) if row is not None else None


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class ExecutionTimeout(ExpectedError):
    def __init__(self, limit_ms: int) -> None:
        super().__init__(
            f"the request took longer than {limit_ms:,} ms and was stopped: ask for less",
            code=ErrorCode.TIMEOUT,
        )


Info = StrawberryInfo[Context, None]
