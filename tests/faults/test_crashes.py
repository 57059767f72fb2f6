"""Crashes and contention against real servers: an ingest killed with SIGKILL mid-file, the
database restarted under the running app, ingest running concurrently with queries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.catalog.ingest import ingest_catalog_file
from server.config import load_settings
from server.db import migrations
from server.db.embedded import EmbeddedPostgres
from server.db.engine import make_engine
from tests.helpers import title_record

ROOT = Path(__file__).resolve().parents[2]
COUNT = "{ titles(first: 0) { totalCount } }"


def _write_jsonl(path: Path, n: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps(title_record(external_id=f"{prefix}{i}")) + "\n")
    return path


def _titles(libpq: str, prefix: str) -> tuple[int, int]:
    with psycopg.connect(libpq) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM titles WHERE external_id LIKE %s",
            (prefix + "%",),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.fixture(scope="module")
def fault_db(pg: EmbeddedPostgres) -> tuple[str, str]:
    pg.ensure_database("contentintel_faults")
    url = pg.sqlalchemy_url("contentintel_faults")
    migrations.upgrade(url)
    return url, pg.libpq_url("contentintel_faults")


def test_ingest_killed_mid_file_then_rerun(fault_db: tuple[str, str], tmp_path: Path) -> None:
    _, libpq = fault_db
    path = _write_jsonl(tmp_path / "big.jsonl", 6000, "kill-")
    env = {
        **os.environ,
        "CONTENTINTEL_DATABASE_URL": libpq,
        "CONTENTINTEL_DATA_DIR": str(tmp_path / "data"),
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "server", "ingest", "catalog", str(path)]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # Kill it once it is writing: its transaction holds rows nobody else can see yet.
    deadline = time.time() + 60
    writing = False
    with psycopg.connect(libpq, autocommit=True) as watcher:
        while time.time() < deadline and proc.poll() is None:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            ).fetchone()
            if row and row[0]:
                writing = True
                break
            time.sleep(0.01)
    assert writing, "the ingest never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # The server notices the dead client and rolls its transaction back.
    deadline = time.time() + 30
    with psycopg.connect(libpq, autocommit=True) as watcher:
        while time.time() < deadline:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            ).fetchone()
            if row is not None and row[0] == 0:
                break
            time.sleep(0.05)
    assert _titles(libpq, "kill-") == (0, 0)

    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _titles(libpq, "kill-") == (6000, 6000)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "nothing changed" in done.stdout
    assert _titles(libpq, "kill-") == (6000, 6000)


def test_concurrent_ingests_and_queries(fault_db: tuple[str, str], tmp_path: Path) -> None:
    """Two ingests of overlapping files and a stream of queries: no deadlock, no lost or
    duplicated rows, and readers see all of a file or none of it."""
    url, libpq = fault_db
    a = _write_jsonl(tmp_path / "a.jsonl", 1500, "conc-")
    b = tmp_path / "b.jsonl"
    with b.open("w", encoding="utf-8") as out:  # half overlaps a, half new
        for i in range(750, 2250):
            out.write(json.dumps(title_record(external_id=f"conc-{i}")) + "\n")
    errors: list[BaseException] = []

    def ingest(path: Path) -> None:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                ingest_catalog_file(conn, path, fmt="jsonl")
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    settings = load_settings(data_dir=tmp_path, auth="off", log_level="WARNING")
    seen: list[int] = []
    with TestClient(create_app(settings, database_url=url)) as http:
        base = http.post("/graphql", json={"query": COUNT}).json()["data"]["titles"]["totalCount"]
        threads = [threading.Thread(target=ingest, args=(p,)) for p in (a, b)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            body = http.post("/graphql", json={"query": COUNT}).json()
            assert "errors" not in body, body
            seen.append(body["data"]["titles"]["totalCount"] - base)
        for t in threads:
            t.join(timeout=120)
        final = http.post("/graphql", json={"query": COUNT}).json()["data"]["titles"]
    assert not errors, errors
    assert _titles(libpq, "conc-") == (2250, 2250)
    assert final["totalCount"] - base == 2250
    # each committed file appears whole: 0, 1500 (a first), 1500 (b first), then 2250
    assert set(seen) <= {0, 1500, 2250}, sorted(set(seen))


@pytest.fixture
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("restart"), cleanup_mode="stop").start()
    try:
        yield server
    finally:
        server.stop()


def test_database_restart_under_the_running_app(
    own_cluster: EmbeddedPostgres, tmp_path: Path
) -> None:
    own_cluster.ensure_database("contentintel_restart")
    url = own_cluster.sqlalchemy_url("contentintel_restart")
    migrations.upgrade(url)
    settings = load_settings(data_dir=tmp_path, auth="off", log_level="WARNING")

    def ready(http: TestClient) -> bool:
        return http.get("/readyz").status_code == 200

    def wait_for(http: TestClient, want: bool, seconds: float = 30) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if ready(http) is want:
                return
            time.sleep(0.1)
        raise AssertionError(f"/readyz never became {'green' if want else 'red'}")

    with TestClient(create_app(settings, database_url=url)) as http:
        assert ready(http)
        assert "errors" not in http.post("/graphql", json={"query": COUNT}).json()

        own_cluster.stop()  # the cluster goes away under the app
        wait_for(http, False)
        down = http.post("/graphql", json={"query": COUNT})
        assert down.status_code == 200
        assert down.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert http.get("/healthz").status_code == 200  # the process itself is fine

        own_cluster.start()
        wait_for(http, True)
        for _ in range(5):  # every pooled connection recovers, no restart of the app
            body = http.post("/graphql", json={"query": COUNT}).json()
            assert "errors" not in body, body
            assert body["data"]["titles"]["totalCount"] == 0
