"""Who may ask: the API key (``Authorization: Bearer <key>``, 401 ``UNAUTHENTICATED`` when
missing or bad, 503 when it cannot be checked) and the key's rate limit (429)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.auth.ratelimit import RateLimiter
from server.auth.service import KeyVerifier
from server.config import Settings
from server.graphql.replies import RequestError
from server.kit.roles import AUTH_OFF, Principal

log = logging.getLogger("contentintel.http")

UNAVAILABLE = "SERVICE_UNAVAILABLE"


class Gate:
    """Admits a request: its principal, once the key checks out and the key has budget left."""

    def __init__(self, settings: Settings, sessions: Callable[[], Any]) -> None:
        self.settings = settings
        self.sessions = sessions  # () -> async_sessionmaker, available once the lifespan ran
        self.keys = KeyVerifier(settings.key_cache_s)
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst)

    async def admit(self, headers: Mapping[str, str]) -> Principal:
        principal = await self.authenticate(headers)
        if principal.key_id is not None:  # auth off: nobody to count against
            self.check_rate(principal)
        return principal

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        if self.settings.auth.value != "on":
            return AUTH_OFF
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise RequestError(
                401,
                "an API key is required: send `Authorization: Bearer <key>`",
                code="UNAUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer realm="contentintel"'},
            )
        try:
            principal = await self.keys.verify(self.sessions(), key.strip())
        except (DBAPIError, PoolTimeout) as exc:
            log.warning("API key check failed: %s", exc)
            raise RequestError(
                503,
                "cannot check the API key: the database is unavailable, retry later",
                code=UNAVAILABLE,
                headers={"Retry-After": "5"},
            ) from None
        if principal is None:
            raise RequestError(
                401,
                "the API key is not valid (unknown or revoked)",
                code="UNAUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer realm="contentintel", error="invalid_token"'},
            )
        return principal

    def check_rate(self, principal: Principal) -> None:
        wait = self.limiter.acquire(principal.key_id)
        if wait > 0:
            raise RequestError(
                429,
                f"rate limit of {self.settings.rate_limit:g} requests/s for this key: retry later",
                code="RATE_LIMITED",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
