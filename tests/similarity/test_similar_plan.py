"""The nearest-neighbour statement of ``similarTitles`` walks the HNSW index on the real catalog
with the connection settings the API gives its connections (``server.db.tuning``), in every
variant the API runs (explanation or not, every column or a few, and the compiled statement of
``similarity.compiled``). At ``hnsw.ef_search`` 100 the planner chose an exact scan for the
variant without explanation once ``combined`` had grown to 1,024 dims: ~40 ms a query instead
of ~5 (skipped without ../shared/data)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from server.catalog.compiled import Out
from server.catalog.ingest import ingest_catalog_file
from server.catalog.service import TITLE_COLUMNS
from server.db.driver_sql import PLACEHOLDER, select_row
from server.db.tuning import CONNECTION_SETTINGS
from server.embeddings.embedders import get_embedder
from server.embeddings.facets import DEFAULT_WEIGHTS
from server.embeddings.pipeline import embed_catalog
from server.similarity import service
from server.similarity.compiled import SimilarRead, column, similar_values
from tests.conftest import NETFLIX_CSV, requires_shared_data

INDEX = "title_embeddings_combined_hnsw_idx"


def plan(conn: Connection, explain: bool, columns: tuple[str, ...], first: int) -> str:
    compiled = service.similar_statement(None, explain=explain, columns=columns).compile(
        dialect=psycopg_dialect.dialect()
    )
    params = {**compiled.params, **service.similar_params([42], first, DEFAULT_WEIGHTS)}
    rows = conn.exec_driver_sql("EXPLAIN " + compiled.string, params)
    return "\n".join(line for (line,) in rows)


def compiled_plan(
    conn: Connection, columns: tuple[str, ...], first: int, *, generic: bool = False
) -> str:
    """The plan of the compiled ``similarTitles`` statement (``similarity.compiled``); with
    ``generic``, the plan Postgres keeps for it once prepared (no parameter's value known)."""
    mode = service.SimilarityMode.CONTENT
    conditions, params = similar_values("r0_", 42, first, None, DEFAULT_WEIGHTS, mode)
    title = tuple(Out(c, c) for c in columns)
    read = SimilarRead(
        "r0_", mode, conditions, (Out("score", "score"), Out("t", "title", title)), first
    )
    sql = select_row([column(read)])
    if generic:
        rows = explain_generic(conn, sql, params)
    else:
        rows = conn.exec_driver_sql("EXPLAIN " + sql, params)
    return "\n".join(line for (line,) in rows)


SQL_TYPES = {bool: "boolean", int: "bigint", float: "float8", str: "text"}


def explain_generic(conn: Connection, sql: str, params: dict[str, object]) -> Any:
    """EXPLAIN of ``sql``'s generic plan: prepared with typed ``$n`` parameters, then executed
    with ``plan_cache_mode`` forcing the generic plan."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = PLACEHOLDER.sub(number, sql)
    types = ", ".join(SQL_TYPES[type(params[n])] for n in names)
    conn.exec_driver_sql(f"PREPARE compiled_similar ({types}) AS {text}")
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    values = ", ".join(repr(params[n]) for n in names)
    try:
        return conn.exec_driver_sql(f"EXPLAIN EXECUTE compiled_similar ({values})").all()
    finally:
        conn.exec_driver_sql("DEALLOCATE compiled_similar")
        conn.exec_driver_sql("RESET plan_cache_mode")


@requires_shared_data
@pytest.mark.slow
def test_similar_titles_walk_the_hnsw_index_on_the_real_catalog(conn: Connection) -> None:
    ingest_catalog_file(conn, NETFLIX_CSV, fmt="netflix-csv")  # analyzes the catalog
    embed_catalog(conn, get_embedder("hashing"))  # analyzes the embeddings
    for name, value in CONNECTION_SETTINGS.items():
        conn.exec_driver_sql("SELECT set_config(%s, %s, true)", (name, value))
    for explain in (False, True):
        for columns in (("id", "name"), TITLE_COLUMNS):
            for first in (10, 50):
                found = plan(conn, explain, columns, first)
                assert INDEX in found, (explain, columns, first, found)
    for columns in (("id", "name"), TITLE_COLUMNS):
        for first in (10, 50):
            found = compiled_plan(conn, columns, first)
            assert INDEX in found, ("compiled", columns, first, found)
            # prepared (psycopg does it from the fifth run), Postgres may keep a generic plan:
            # it must walk the index too (with ``first`` a parameter it scanned everything)
            found = compiled_plan(conn, columns, first, generic=True)
            assert INDEX in found, ("compiled, generic plan", columns, first, found)
