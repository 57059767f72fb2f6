"""A throwaway embedded Postgres database, migrated to head, for one benchmark run."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine


@contextmanager
def throwaway_database(name: str = "bench") -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a fresh database in a temporary embedded cluster; both are gone after."""
    from server.db import migrations
    from server.db.embedded import EmbeddedPostgres
    from server.db.engine import make_engine

    with tempfile.TemporaryDirectory() as tmp, EmbeddedPostgres(Path(tmp)) as pg:
        pg.ensure_database(name)
        url = pg.sqlalchemy_url(name)
        migrations.upgrade(url)
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()
