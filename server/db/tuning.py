"""Session settings every connection of our engines starts with.

They used to be sent with ``set_config(..., is_local => true)`` before each vector or fuzzy
search, one extra round trip per request; set once when the pool opens a connection, they
cost nothing per request. A query that needs a deeper HNSW candidate list (a large ``first``)
raises it around its own statements with ``deeper_scan``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ITERATIVE_SCAN = "relaxed_order"
"""pgvector iterative index scans: keep scanning until the LIMIT is filled after filtering."""
EF_SEARCH = 100
"""HNSW candidate list size (``hnsw.ef_search``); bench/similarity.py measures its recall."""
MAX_SCAN_TUPLES = 20_000
"""How far an iterative scan may go before giving up on filling the page (pgvector default)."""
WORD_SIMILARITY_THRESHOLD = 0.3
"""Trigram word similarity of the query to a name needed for a fuzzy name match (pg_trgm's
default 0.6 misses typos such as "Strnger Thngs")."""

CONNECTION_SETTINGS: dict[str, str] = {
    "hnsw.iterative_scan": ITERATIVE_SCAN,
    "hnsw.ef_search": str(EF_SEARCH),
    "hnsw.max_scan_tuples": str(MAX_SCAN_TUPLES),
    "pg_trgm.word_similarity_threshold": str(WORD_SIMILARITY_THRESHOLD),
}


def apply_connection_settings(dbapi_connection: Any) -> None:
    """Set ``CONNECTION_SETTINGS`` on a new DB-API connection and commit them.

    Extension settings may be set before the extension's library is loaded (Postgres keeps
    them as placeholders). The commit matters: a SET inside a transaction that is later rolled
    back (as the pool does on check-in) would be undone.
    """
    cursor = dbapi_connection.cursor()
    try:
        for name, value in CONNECTION_SETTINGS.items():
            cursor.execute("SELECT set_config(%s, %s, false)", (name, value))
    finally:
        cursor.close()
    dbapi_connection.commit()


OVERRIDDEN = "contentintel_settings_overridden"
"""Connection info flag: a setting was changed and may not have been put back."""
MAX_EF_SEARCH = 1000

_SET_EF_SEARCH = text("SELECT set_config('hnsw.ef_search', :value, false)")


@contextlib.asynccontextmanager
async def deeper_scan(session: AsyncSession, depth: int) -> AsyncIterator[None]:
    """``hnsw.ef_search`` raised to ``depth`` (at most ``MAX_EF_SEARCH``) for the statements
    inside the block when ``depth`` exceeds ``EF_SEARCH``; nothing is sent otherwise.

    API queries run in autocommit (no BEGIN and ROLLBACK round trips), where ``SET LOCAL``
    would end with its own statement: the value is set for the session and put back after the
    block. When the block fails, the connection stays flagged and the pool restores
    ``CONNECTION_SETTINGS`` before it is used again (``server.db.engine``), so a raised value
    never leaks into another request.
    """
    if depth <= EF_SEARCH:
        yield
        return
    connection = await session.connection()
    connection.info[OVERRIDDEN] = True
    await connection.execute(_SET_EF_SEARCH, {"value": str(min(MAX_EF_SEARCH, depth))})
    yield
    await connection.execute(_SET_EF_SEARCH, {"value": str(EF_SEARCH)})
    del connection.info[OVERRIDDEN]
