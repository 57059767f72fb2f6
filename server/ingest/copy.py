"""Staging rows: COPY on a synchronous psycopg connection, executemany otherwise.

Bulk loads use COPY, never row-by-row INSERT. The GraphQL mutations and the async tests run
the same merge code on an async connection through ``run_sync``, where COPY is not
available: there the rows go in with one executemany per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter

import psycopg
from sqlalchemy import Connection, text


def copy_rows(
    conn: Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Sequence[tuple[object, ...]],
    *,
    use_copy: bool | None = None,
) -> None:
    """Load ``rows`` into ``table`` (``columns`` in that order). ``use_copy`` ``None``: COPY
    when the connection's driver is synchronous psycopg."""
    if not rows:
        return
    if use_copy is None:
        use_copy = isinstance(conn.connection.driver_connection, psycopg.Connection)
    if use_copy:
        raw = conn.connection.driver_connection
        if raw is None:
            raise RuntimeError("no driver connection for COPY")
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    statement = text(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    conn.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


def attribute_rows(records: Iterable[object], columns: tuple[str, ...]) -> list[tuple[object, ...]]:
    """Rows to stage for records whose attributes are named as the staging table's
    ``columns``: each record's values of those attributes, in that order."""
    if len(columns) == 1:
        return [(getattr(r, columns[0]),) for r in records]
    values = attrgetter(*columns)
    return [values(r) for r in records]
