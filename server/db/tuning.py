"""Session settings every connection of our engines starts with.

They used to be sent with ``set_config(..., is_local => true)`` before each vector or fuzzy
search, one extra round trip per request; set once when the pool opens a connection, they
cost nothing per request.

A deep page (a large ``first``) needs no larger ``hnsw.ef_search``: the iterative scan keeps
walking the graph until the LIMIT is filled. Measured on the real catalog (MiniLM, 40 titles,
768-dim ``combined`` then): ``similarTitles(first: 200)`` recall@200 against an exact scan
0.998 in 11.8 ms at ef_search 100, while raising ef_search to 200 made the planner pick the
exact scan (recall 1.000) at 121 ms. See ``EF_SEARCH`` for why it is 40 now.
"""

from __future__ import annotations

from typing import Any

ITERATIVE_SCAN = "relaxed_order"
"""pgvector iterative index scans: keep scanning until the LIMIT is filled after filtering."""
EF_SEARCH = 40
"""HNSW candidate list size (``hnsw.ef_search``, pgvector's default); bench/similarity.py
measures its recall. Larger values raise the planner's estimate of an index scan: since the
people facet made ``combined`` 1,024 dims, at 64 or more it chose an exact scan for
``similarTitles(first: 10)``, which computes the weighted query vector again for every row
(real catalog, MiniLM: 43 ms per query at 100 against 5 ms at 40, both with recall@10 0.9995
against exact scores; the hashing catalog of bench/peers.py: 269 against 12 ms).
tests/similarity/test_similar_plan.py checks the plan on the real catalog."""
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
