"""Roles, ordered: every role may do what the roles below it may do; and the ``Principal``
a request runs as.

Here rather than in ``server.auth`` because the ``api_keys`` table stores a role
(``server.models.auth``) and the request context carries a principal, and both sit below
every feature.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    VIEWER = "viewer"
    """Read queries."""
    ANALYST = "analyst"
    """Plus forecasts, what-ifs and plans."""
    ADMIN = "admin"
    """Plus every mutation and ingest."""

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANK = {Role.VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """Who a request runs as: the API key's name and role (``key_id`` None when auth is off)."""

    name: str
    role: Role
    key_id: int | None = None


AUTH_OFF = Principal(name="anonymous (auth off)", role=Role.ADMIN)
