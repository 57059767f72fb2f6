"""Read replicas for real: a primary and a streaming replica (pg_basebackup from the wheel);
queries go to the replica, mutations to the primary."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from server.db import migrations
from server.db.embedded import EmbeddedPostgres, _server_module, to_sqlalchemy_url

COUNT = "{ titles(first: 0) { totalCount } }"
UPSERT = """mutation($input: [TitleInput!]!) { upsertTitles(input: $input) { inserted } }"""


def _commands() -> object:
    return _server_module()._commands


@pytest.fixture
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL) of a database streamed from a primary to a hot standby."""
    primary = EmbeddedPostgres(tmp_path_factory.mktemp("primary"), cleanup_mode="stop").start()
    replica_dir = tmp_path_factory.mktemp("replica") / "pg"
    user = primary._server.system_user
    commands = _commands()
    started = False
    try:
        primary.ensure_database("contentintel_primary")
        primary_url = primary.libpq_url("contentintel_primary")
        migrations.upgrade(to_sqlalchemy_url(primary_url))
        primary_host = conninfo_to_dict(primary_url)["host"]
        replica_dir.mkdir(mode=0o700)
        if user is not None:
            shutil.chown(replica_dir, user, user)
            shutil.chown(replica_dir.parent, user, user)
        commands.pg_basebackup(  # type: ignore[attr-defined]
            [
                "-D",
                str(replica_dir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "-h",
                str(primary_host),
                "-U",
                conninfo_to_dict(primary_url).get("user", "postgres"),
            ],
            user=user,
            timeout=120,
        )
        # The primary keeps its socket, lock file and log inside its data directory: the
        # copy must not inherit them.
        for leftover in (*replica_dir.glob(".s.PGSQL.*"), replica_dir / "log"):
            leftover.unlink(missing_ok=True)
        commands.pg_ctl(  # type: ignore[attr-defined]
            [
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {replica_dir}",
                "-l",
                str(replica_dir / "log"),
                "start",
            ],
            pgdata=replica_dir,
            user=user,
            timeout=60,
        )
        started = True
        replica_url = _with_host(primary_url, str(primary_host), str(replica_dir))
        with psycopg.connect(replica_url) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        yield primary_url, replica_url
    finally:
        if started:
            commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=replica_dir, user=user)  # type: ignore[attr-defined]
        primary.stop()


def _with_host(url: str, old: str, new: str) -> str:
    """The URL with another socket directory (plain or percent-encoded in the URL)."""
    replaced = url.replace(old, new).replace(quote(old, safe=""), quote(new, safe=""))
    assert replaced != url, url
    return replaced


def _wait_replayed(primary_url: str, replica_url: str) -> None:
    with psycopg.connect(primary_url, autocommit=True) as p:
        lsn = p.execute("SELECT pg_current_wal_lsn()").fetchone()
        assert lsn is not None
    deadline = time.time() + 30
    with psycopg.connect(replica_url, autocommit=True) as r:
        while time.time() < deadline:
            row = r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn[0],)).fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def test_queries_read_the_replica_and_mutations_write_the_primary(
    replicated: tuple[str, str], tmp_path: Path
) -> None:
    primary_url, replica_url = replicated
    settings = load_settings(data_dir=tmp_path, auth="off", log_level="WARNING")
    app = create_app(
        settings,
        database_url=to_sqlalchemy_url(primary_url),
        read_database_url=to_sqlalchemy_url(replica_url),
    )
    title = {"externalId": "rr1", "kind": "MOVIE", "name": "Replicated", "durationMinutes": 90}

    def count(http: TestClient, method: str = "POST") -> int:
        if method == "GET":
            body = http.get("/graphql", params={"query": COUNT}).json()
        else:
            body = http.post("/graphql", json={"query": COUNT}).json()
        assert "errors" not in body, body
        return int(body["data"]["titles"]["totalCount"])

    with TestClient(app) as http:
        # A mutation: on the primary (the replica is read-only and would refuse it).
        body = http.post("/graphql", json={"query": UPSERT, "variables": {"input": [title]}})
        assert body.json()["data"]["upsertTitles"]["inserted"] == 1, body.text
        _wait_replayed(primary_url, replica_url)
        assert count(http) == 1

        # Pause replay on the replica, write on the primary: queries still see the replica.
        with psycopg.connect(replica_url, autocommit=True) as r:
            r.execute("SELECT pg_wal_replay_pause()")
            with psycopg.connect(primary_url, autocommit=True) as p:
                p.execute(
                    "INSERT INTO titles (external_id, kind, name, content_hash) "
                    "VALUES ('rr2', 'MOVIE', 'Direct', 'h')"
                )
            assert count(http) == 1
            assert count(http, "GET") == 1
            r.execute("SELECT pg_wal_replay_resume()")
        _wait_replayed(primary_url, replica_url)
        assert count(http) == 2


def test_the_session_follows_the_operation_type() -> None:
    """Queries open their session on the read side, mutations on the primary; nothing is
    opened before the first database call (so `{ __typename }` opens none)."""
    from unittest.mock import MagicMock

    from server.kit.resolving.context import Context

    def context(operation: tuple[str, str] | None) -> tuple[Context, MagicMock, MagicMock]:
        read, write = MagicMock(name="read"), MagicMock(name="write")
        made = Context(settings=load_settings(), sessions=read, write_sessions=write)
        made.operation = operation
        return made, read, write

    query, read, write = context(("query", "-"))
    assert not query.has_session
    assert query.session is read.return_value
    write.assert_not_called()
    mutation, read, write = context(("mutation", "M"))
    assert mutation.session is write.return_value
    read.assert_not_called()
