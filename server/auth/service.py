"""API keys: create (the key is returned once), list, revoke, and verify a presented key."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.kit.errors import BadInput, NotFound
from server.kit.roles import Principal, Role
from server.models.auth import ApiKey

KEY_PREFIX = "cik_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:@-]{0,63}$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def _info(row: Row[Any]) -> KeyInfo:
    return KeyInfo(row.id, row.name, Role(row.role), row.prefix, row.created_at, row.revoked_at)


def create_key(conn: Connection, name: str, role: Role) -> tuple[KeyInfo, str]:
    """Store a new key for ``name``; return its record and the key, which is not kept."""
    name = name.strip()
    if not NAME_RE.match(name):
        raise BadInput(
            f"key name {name!r}: 1-64 characters, letters, digits, space and . _ : @ -",
            field="name",
        )
    live = conn.execute(
        select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
    ).first()
    if live is not None:
        raise BadInput(f"a live key named {name!r} exists: revoke it first", field="name")
    key = new_key()
    row = conn.execute(
        insert(ApiKey)
        .values(name=name, role=role, key_hash=hash_key(key), prefix=key[:12])
        .returning(*ApiKey.__table__.c)
    ).one()
    return _info(row), key


def list_keys(conn: Connection, *, include_revoked: bool = False) -> list[KeyInfo]:
    stmt = select(*ApiKey.__table__.c).order_by(ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return [_info(r) for r in conn.execute(stmt)]


def revoke_key(conn: Connection, name_or_id: str) -> KeyInfo:
    """Revoke the live key with that name (or numeric id)."""
    where = (
        ApiKey.id == int(name_or_id) if name_or_id.isdigit() else ApiKey.name == name_or_id.strip()
    )
    row = conn.execute(
        update(ApiKey)
        .where(where, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(*ApiKey.__table__.c)
    ).first()
    if row is None:
        raise NotFound(f"no live key {name_or_id!r}")
    return _info(row)


async def live_principals(session: AsyncSession) -> dict[str, Principal]:
    """Every live key's principal by the key's SHA-256."""
    rows = await session.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.role, ApiKey.key_hash).where(
            ApiKey.revoked_at.is_(None)
        )
    )
    return {r.key_hash: Principal(name=r.name, role=Role(r.role), key_id=r.id) for r in rows}


class KeyVerifier:
    """Verifies bearer keys against a snapshot of the live keys, read again at most every
    ``ttl`` seconds (0 = on every request).

    A key that is not in the snapshot re-reads it at most once per ``miss_refresh_s``, so a
    key created a moment ago works at once while a flood of made-up keys costs at most one
    query per second, not one per request. A revoked key stops within ``ttl`` seconds.
    """

    def __init__(self, ttl: float, miss_refresh_s: float = 1.0) -> None:
        self.ttl = ttl
        self.miss_refresh_s = miss_refresh_s
        self._keys: dict[str, Principal] = {}
        self._loaded_at = -float("inf")
        self._reloading = asyncio.Lock()

    async def verify(
        self, sessions: async_sessionmaker[AsyncSession], key: str
    ) -> Principal | None:
        digest = hash_key(key)
        if time.monotonic() - self._loaded_at >= self.ttl:
            await self._reload(sessions, self.ttl)
        principal = self._keys.get(digest)
        if principal is None and time.monotonic() - self._loaded_at >= self.miss_refresh_s:
            await self._reload(sessions, self.miss_refresh_s)
            principal = self._keys.get(digest)
        return principal

    async def _reload(self, sessions: async_sessionmaker[AsyncSession], max_age: float) -> None:
        started = time.monotonic()
        async with self._reloading:
            if self._loaded_at >= started or (max_age > 0 and started - self._loaded_at < max_age):
                return  # another request reloaded while this one waited
            async with sessions() as session:
                keys = await live_principals(session)
                await session.rollback()
            self._keys, self._loaded_at = keys, started
