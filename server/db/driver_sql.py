"""SQLAlchemy statements as driver SQL: text with psycopg's named placeholders and the values
of their parameters, for statements assembled from several compiled pieces (the compiled reads
of ``catalog.compiled`` and ``similarity.compiled``) and run through the driver
(``server.db.reads``, or ``exec_driver_sql`` on a session).

Compiling a statement costs more than running it: a piece is compiled once per shape, and each
request binds its own values through the same type processors SQLAlchemy would apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.sql.compiler import SQLCompiler

DIALECT = psycopg.dialect()  # type: ignore[no-untyped-call]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True, slots=True)
class DriverSql:
    """A compiled statement (or subquery): its text, the processed values of the parameters it
    was built with, and each parameter's type processor."""

    text: str
    values: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any] | None]

    def prefixed(self, prefix: str) -> DriverSql:
        """The same SQL with every parameter renamed ``prefix + name``: unique when several
        pieces share one statement."""
        return DriverSql(
            PLACEHOLDER.sub(lambda m: f"%({prefix}{m.group(1)})s", self.text),
            {prefix + k: v for k, v in self.values.items()},
            {prefix + k: v for k, v in self.processors.items()},
        )

    def bind(self, into: dict[str, Any], given: Mapping[str, Any]) -> None:
        """Into ``into``: the built-in values, ``given`` (raw, by name) processed as
        SQLAlchemy would."""
        into.update(self.values)
        for name, value in given.items():
            process = self.processors[name]
            into[name] = value if process is None or value is None else process(value)


def driver_sql(statement: ClauseElement) -> DriverSql:
    """``statement`` compiled for psycopg (bind casts included), parameters named."""
    compiled = statement.compile(dialect=DIALECT)
    assert isinstance(compiled, SQLCompiler)
    processors: dict[str, Callable[[Any], Any] | None] = {}
    values: dict[str, Any] = {}
    raw = compiled.params
    for bind, name in compiled.bind_names.items():
        process = bind.type.bind_processor(DIALECT)
        processors[name] = process
        value = raw.get(name)
        values[name] = value if process is None or value is None else process(value)
    return DriverSql(compiled.string, values, processors)


def select_row(columns: Sequence[str]) -> str:
    """One row of ``columns`` (SQL expressions, each a compiled read's column)."""
    if not columns:
        raise ValueError("nothing to select")
    return "SELECT " + ", ".join(columns)
