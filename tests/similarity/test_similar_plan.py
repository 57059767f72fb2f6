"""The nearest-neighbour statement of ``similarTitles`` walks the HNSW index on the real catalog
with the connection settings the API gives its connections (``server.db.tuning``), in every
variant the API runs (explanation or not, every column or a few, and the compiled statement of
``similarity.compiled``). At ``hnsw.ef_search`` 100 the planner chose an exact scan for the
variant without explanation once ``combined`` had grown to 1,024 dims: ~40 ms a query instead
of ~5 (skipped without ../shared/data)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from server.catalog.compiled import Out
from server.catalog.ingest import ingest_catalog_file
from server.catalog.service import TITLE_COLUMNS
from server.db.driver_sql import select_row
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


def compiled_plan(conn: Connection, columns: tuple[str, ...], first: int) -> str:
    """The plan of the compiled ``similarTitles`` statement (``similarity.compiled``)."""
    mode = service.SimilarityMode.CONTENT
    conditions, params = similar_values("r0_", 42, first, None, DEFAULT_WEIGHTS, mode)
    title = tuple(Out(c, c) for c in columns)
    read = SimilarRead("r0_", mode, conditions, (Out("score", "score"), Out("t", "title", title)))
    rows = conn.exec_driver_sql("EXPLAIN " + select_row([column(read)]), params)
    return "\n".join(line for (line,) in rows)


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
