"""API keys: create (the key is returned once), list, revoke, and verify a presented key."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth.roles import Principal
from server.kit.errors import BadInput, NotFound
from server.kit.roles import Role
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


async def find_principal(session: AsyncSession, key: str) -> Principal | None:
    row = (
        await session.execute(
            select(ApiKey.id, ApiKey.name, ApiKey.role).where(
                ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)
            )
        )
    ).first()
    return Principal(name=row.name, role=Role(row.role), key_id=row.id) if row else None


class KeyVerifier:
    """Verifies bearer keys against the database, trusting a verified key for ``ttl`` seconds.

    The cache keeps the per-request cost of auth at a dict lookup; a revoked key stops
    working within ``ttl`` seconds (0 = check the database on every request).
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def verify(
        self, sessions: async_sessionmaker[AsyncSession], key: str
    ) -> Principal | None:
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        async with sessions() as session:
            principal = await find_principal(session, key)
            await session.rollback()
        if principal is None:
            self._cache.pop(digest, None)
            return None
        if self.ttl > 0:
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
            self._cache[digest] = (principal, now + self.ttl)
        return principal
