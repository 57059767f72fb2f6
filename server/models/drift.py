"""Drift between the database and the ORM models: what alembic autogenerate would write.

It lives with the models (it needs every table registered), above ``server.db``."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import pool

import server.models  # noqa: F401  (registers every table on the metadata)
from server.db.base import Base
from server.db.engine import make_engine
from server.db.migrations import head_revision


@dataclass(frozen=True)
class DriftReport:
    current: str | None
    head: str | None
    differences: list[str]

    @property
    def clean(self) -> bool:
        return self.current == self.head and not self.differences


def check(url: str) -> DriftReport:
    """Compare the database with the models (what autogenerate would write) and the head."""
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": _include_object,
                },
            )
            diffs = compare_metadata(ctx, Base.metadata)
            current = ctx.get_current_revision()
    finally:
        engine.dispose()
    return DriftReport(
        current=current, head=head_revision(), differences=[_describe(d) for d in diffs]
    )


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "table" and name == "alembic_version")


def _describe(diff: object) -> str:
    if isinstance(diff, tuple) and diff and isinstance(diff[0], str):
        op, *rest = diff
        return f"{op}: " + ", ".join(_short(x) for x in rest)
    if isinstance(diff, list):
        return "; ".join(_describe(d) for d in diff)
    return repr(diff)


def _short(value: object) -> str:
    name = getattr(value, "name", None)
    if name is not None:
        table = getattr(value, "table", None)
        return f"{table.name}.{name}" if table is not None and hasattr(table, "name") else str(name)
    return repr(value)
