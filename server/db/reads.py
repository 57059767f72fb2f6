"""Read statements straight through the driver, on the API engine's pooled connections.

The compiled hot paths (``server/graphql/compiled/``) answer a query with one statement that
returns its JSON. Through a Session, that one statement paid for the Session, a Connection
wrapper, SQLAlchemy's execution context and result objects and a greenlet switch per call:
0.53 ms of CPU per request against 0.27 ms through the pooled driver connection (measured
in-process, one statement a request; a psycopg connection held open does it in 0.15 ms).

What SQLAlchemy gave the statement is kept: the pool (its size, timeout, the connect and
checkout events that set the connection's settings and ping an idle connection), driver
errors raised as SQLAlchemy's ``DBAPIError`` (so a cancelled statement is still TIMEOUT and
anything else still masked), and a lost connection invalidated with the idle ones closed,
so the next requests reconnect.

A statement runs through libpq's calls as psycopg's cursor makes them, without the cursor
(its query parsing, prepare bookkeeping and result objects): 7-13% of the CPU of a compiled
``similarTitles`` request, alternating in-process; psycopg parses again, on every request,
a statement longer than 4 KB such as the explained one. Each connection prepares a statement
at its first use there.

A connection the reads are done with stays with them for the next read, still checked out
of the pool, for up to ``KEEP_IDLE_S`` and at most a quarter of the pool: a checkout and a
checkin through the pool (two greenlet switches, the pool's events, a reset on return) cost
about a fifth of the CPU of a compiled ``similarTitles`` request (py-spy, in-process).
Sessions may therefore wait for a connection a read keeps idle, for at most ``KEEP_IDLE_S``
and with three quarters of the pool never kept. A kept connection went back to the pool
less than ``KEEP_IDLE_S`` ago, so it needs no ping (``engine.PING_AFTER_IDLE_SECONDS``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import abc
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import execute
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.pq.abc import PGresult
from sqlalchemy import QueuePool
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

log = logging.getLogger("contentintel.db")

COMMAND_OK, TUPLES_OK, FATAL_ERROR = (
    ExecStatus.COMMAND_OK,
    ExecStatus.TUPLES_OK,
    ExecStatus.FATAL_ERROR,
)
MAX_PREPARED = 200
"""Statements prepared on a connection at most; later ones run unprepared there."""
KEEP_IDLE_S = 1.0
"""How long a connection the reads are done with stays with them before the pool has it
back."""


class DriverReads:
    """``await reads(sql, params)``: the first row of one read statement (driver SQL with
    ``%(name)s`` placeholders), on a connection of ``engine``'s pool. The engine should
    hand out connections in autocommit (``server.app.make_api_engine``), or each call pays
    a BEGIN and a ROLLBACK. ``close()`` gives the kept connections back to the pool (before
    the engine is disposed)."""

    def __init__(self, engine: AsyncEngine, keep: int | None = None) -> None:
        self.engine = engine
        pool = engine.sync_engine.pool
        self.keep = keep if keep is not None else _quarter_of(pool)
        """At most this many idle connections are kept (0: none)."""
        self._idle: list[tuple[float, PoolProxiedConnection]] = []
        """Kept connections, most recently used last, with when each was done with."""
        self._states: WeakKeyDictionary[psycopg.AsyncConnection[Any], _ConnectionState] = (
            WeakKeyDictionary()
        )
        self._trimming: asyncio.TimerHandle | None = None
        self._returning: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def idle(self) -> int:
        """Connections kept idle, checked out of the pool."""
        return len(self._idle)

    async def __call__(self, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        pooled = await self._take()
        try:
            driver: psycopg.AsyncConnection[Any] = pooled.driver_connection  # type: ignore[assignment]
            try:
                row = await self._first_row(driver, sql, params)
            except psycopg.Error as exc:
                lost = driver.broken or driver.closed
                if lost:
                    # As SQLAlchemy does on a disconnect: this connection is dropped, and the
                    # idle ones, likely dead too, are closed so that the next requests reconnect.
                    pooled.invalidate(exc)
                    await self._return_idle()
                    await greenlet_spawn(self.engine.sync_engine.pool.dispose)
                raise DBAPIError.instance(
                    sql, dict(params), exc, psycopg.Error, connection_invalidated=lost
                ) from exc
            return row
        finally:
            await self._done_with(pooled)

    async def _first_row(
        self, driver: psycopg.AsyncConnection[Any], sql: str, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The statement's first row, through libpq's calls as psycopg's cursor makes them
        (its adapters dump the parameters and load the row; its ``wait`` cancels the
        statement of a cancelled caller), without the cursor: prepared on each connection
        at its first use there (``MAX_PREPARED`` statements a connection at most)."""
        text, names = positional(sql)
        state = self._states.get(driver)
        if state is None:
            state = self._states[driver] = _ConnectionState(Transformer(driver))
        tx = state.transformer
        values = tx.dump_sequence([params[name] for name in names], [PyFormat.AUTO] * len(names))
        types = tuple(tx.types or ())
        pgconn = driver.pgconn
        key = (text, types)
        prepared = state.prepared.get(key)
        if prepared is None and len(state.prepared) < MAX_PREPARED:
            name = f"contentintel_{len(state.prepared)}".encode()
            pgconn.send_prepare(name, text, param_types=types)
            _check(await driver.wait(execute(pgconn)), COMMAND_OK, driver)
            state.prepared[key] = prepared = name
        if prepared is None:
            pgconn.send_query_params(text, values, types, tx.formats)
        else:
            pgconn.send_query_prepared(prepared, values, tx.formats)
        result = _check(await driver.wait(execute(pgconn)), TUPLES_OK, driver)
        if result.ntuples == 0:
            return None
        tx.set_pgresult(result)
        row: tuple[Any, ...] | None = tx.load_row(0, tuple)
        return row

    async def close(self) -> None:
        """Give every kept connection back to the pool; later reads check out and in."""
        self._closed = True
        await self._return_idle()
        if self._returning:
            await asyncio.gather(*self._returning, return_exceptions=True)

    async def _take(self) -> PoolProxiedConnection:
        if self._idle:
            done_at, pooled = self._idle.pop()
            if time.monotonic() - done_at < KEEP_IDLE_S:
                return pooled
            # the timer that trims the kept ones is late: this and the older ones go back
            self._idle.append((done_at, pooled))
            await self._return_idle()
        return await self.engine.raw_connection()

    async def _done_with(self, pooled: PoolProxiedConnection) -> None:
        driver = pooled.driver_connection
        if (
            self._closed
            or len(self._idle) >= self.keep
            or not pooled.is_valid
            or not isinstance(driver, psycopg.AsyncConnection)
            or driver.closed
            or driver.info.transaction_status != TransactionStatus.IDLE
        ):
            await greenlet_spawn(pooled.close)
            return
        self._idle.append((time.monotonic(), pooled))
        if self._trimming is None:
            self._trimming = asyncio.get_running_loop().call_later(KEEP_IDLE_S, self._trim)

    def _trim(self) -> None:
        """Give back the connections kept for ``KEEP_IDLE_S``; again when the next is due."""
        self._trimming = None
        now = time.monotonic()
        due = 0
        while due < len(self._idle) and now - self._idle[due][0] >= KEEP_IDLE_S:
            due += 1
        if due:
            stale = [pooled for _, pooled in self._idle[:due]]
            del self._idle[:due]
            task = asyncio.ensure_future(_return(stale))
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)
        if self._idle:
            wait = KEEP_IDLE_S - (now - self._idle[0][0])
            self._trimming = asyncio.get_running_loop().call_later(wait, self._trim)

    async def _return_idle(self) -> None:
        if self._trimming is not None:
            self._trimming.cancel()
            self._trimming = None
        kept, self._idle = [pooled for _, pooled in self._idle], []
        await _return(kept)


class _ConnectionState:
    """What a connection keeps for the reads: its adapters and its prepared statements."""

    def __init__(self, transformer: abc.Transformer) -> None:
        self.transformer = transformer
        self.prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}


def _check(results: list[PGresult], expected: ExecStatus, driver: Any) -> PGresult:
    """The last result, raised as psycopg's error when the statement failed."""
    result = results[-1]
    if result.status == expected:
        return result
    if result.status == FATAL_ERROR:
        raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
    raise psycopg.ProgrammingError(f"the statement gave {ExecStatus(result.status).name}")


PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%|%")


@lru_cache(maxsize=1024)
def positional(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """Driver SQL (``%(name)s`` placeholders, ``%%`` for ``%``) as Postgres takes it
    (``$1``...), and the parameters' names in their order; ValueError for another ``%``."""
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            if match.group() == "%":
                raise ValueError(f"a lone % in driver SQL at {match.start()}")
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return PLACEHOLDER.sub(placeholder, sql).encode(), tuple(names)


async def _return(connections: list[PoolProxiedConnection]) -> None:
    for pooled in connections:
        try:
            await greenlet_spawn(pooled.close)
        except Exception:  # the pool invalidates what it cannot reset; nothing else to do
            log.warning("could not give a kept connection back to the pool", exc_info=True)


def _quarter_of(pool: Any) -> int:
    return pool.size() // 4 if isinstance(pool, QueuePool) else 0
