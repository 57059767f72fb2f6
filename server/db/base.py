"""Declarative base with a Postgres-style constraint naming convention and shared mixins."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import DateTime, ForeignKey, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

NAMING_CONVENTION = {
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def parent_key(
    target: str, ondelete: Literal["CASCADE", "RESTRICT"] = "CASCADE"
) -> MappedColumn[Any]:
    """A primary-key column that references ``target`` (``"titles.id"``): the key of a row
    that belongs to (CASCADE) or names (RESTRICT) a row of another table."""
    return mapped_column(ForeignKey(target, ondelete=ondelete), primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
