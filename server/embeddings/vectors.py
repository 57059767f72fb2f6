"""Reading stored title vectors back into numpy (micro-genre clustering, audience tastes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from pgvector.psycopg import register_vector
from sqlalchemy import Connection, text

from server.models.dims import COMBINED_DIM

Matrix = npt.NDArray[np.float32]


def sync_driver(conn: Connection) -> psycopg.Connection[Any] | None:
    """The psycopg connection under ``conn`` when it is synchronous (binary COPY and
    transfers need it), else ``None`` (an async driver under ``run_sync``)."""
    raw = conn.connection.driver_connection
    return raw if isinstance(raw, psycopg.Connection) else None


def load_vectors(conn: Connection, title_ids: Sequence[int]) -> Matrix:
    """The ``combined`` vectors of the titles, in order (binary transfer when possible)."""
    out = np.zeros((len(title_ids), COMBINED_DIM), dtype=np.float32)
    position = {tid: n for n, tid in enumerate(title_ids)}
    raw = sync_driver(conn)
    if raw is not None:
        register_vector(raw)
        with raw.cursor(binary=True) as cursor:
            cursor.execute("SELECT title_id, combined FROM title_embeddings")
            for tid, vector in cursor:
                if tid in position:
                    out[position[tid]] = _as_array(vector)
    else:  # e.g. an async driver under run_sync: plain arrays over SQLAlchemy
        rows = conn.execute(text("SELECT title_id, combined::real[] FROM title_embeddings"))
        for tid, vector in rows:
            if tid in position:
                out[position[tid]] = np.asarray(vector, dtype=np.float32)
    return out


def _as_array(vector: Any) -> Matrix:
    if hasattr(vector, "to_numpy"):
        vector = vector.to_numpy()
    return np.asarray(vector, dtype=np.float32)
