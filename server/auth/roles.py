"""Who a request runs as: a ``Principal`` (the API key's name and ``Role``)."""

from __future__ import annotations

from dataclasses import dataclass

from server.kit.roles import Role


@dataclass(frozen=True)
class Principal:
    """Who a request runs as: the API key's name and role (``key_id`` None when auth is off)."""

    name: str
    role: Role
    key_id: int | None = None


AUTH_OFF = Principal(name="anonymous (auth off)", role=Role.ADMIN)
