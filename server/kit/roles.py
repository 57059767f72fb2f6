"""Roles, ordered: every role may do what the roles below it may do.

Here rather than in ``server.auth`` because the ``api_keys`` table stores a role
(``server.models.auth``) and models sit below every feature.
"""

from __future__ import annotations

import enum


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
