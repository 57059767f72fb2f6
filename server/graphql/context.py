"""Per-request GraphQL context: one AsyncSession, fresh DataLoaders, settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from server.auth.roles import AUTH_OFF, Principal
from server.config import Settings
from server.graphql.loaders import Loaders

T = TypeVar("T")


@dataclass
class Context:
    """What every resolver sees.

    Sibling fields resolve concurrently, and one AsyncSession cannot run two statements at
    once: every database call goes through ``db()``, which serialises them on a lock.
    """

    session: AsyncSession
    settings: Settings
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    principal: Principal = AUTH_OFF
    """Who the request runs as (set from the API key; everything allowed when auth is off)."""
    request_id: str = "-"
    operation: tuple[str, str] | None = None
    """(type, name) of the operation being executed, for metrics and logs."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)

    async def db(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self.lock:
            return await fn(self.session)


Info = StrawberryInfo[Context, None]

SessionFactory = async_sessionmaker[AsyncSession]
