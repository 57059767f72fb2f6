"""Graceful shutdown: SIGTERM lets the request in flight finish, then the server exits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import asyncio, functools, sys
from server.app import worker_app
from server.catalog import service
from server.cli.commands.serve import run_workers
from server.config import load_settings

original = service.tag_counts

async def slow(*args, **kwargs):
    await asyncio.sleep(2)
    return await original(*args, **kwargs)

service.tag_counts = slow
settings = load_settings(auth="off", log_level="WARNING", port=int(sys.argv[2]))
run_workers(settings, functools.partial(worker_app, settings=settings, database_url=sys.argv[1]))
print("served", flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_finishes_in_flight_requests(database_url: str) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, database_url, str(port)],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        result: dict[str, httpx.Response] = {}

        def slow_request() -> None:
            result["response"] = httpx.post(
                f"{base}/graphql", json={"query": "{ tags(first: 1) { name } }"}, timeout=30
            )

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.7)  # the request is in flight (it takes 2 s)
        proc.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
        response = result["response"]
        assert response.status_code == 200
        assert "errors" not in response.json(), response.text
        # the server returns once the workers have finished: the caller's cleanup runs after
        printed, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert printed.strip().endswith(b"served")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_with_two_workers(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "CONTENTINTEL_DATABASE_URL": database_url,
        "CONTENTINTEL_DATA_DIR": str(tmp_path),
        "CONTENTINTEL_AUTH": "off",
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
        "CONTENTINTEL_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--workers", "2"], cwd=ROOT, env=env
    )
    try:
        deadline = time.time() + 90
        ready = False
        while time.time() < deadline and not ready:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.2)
        assert ready
        for _ in range(10):
            body = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "query WorkerProbe { __typename }"},
                timeout=10,
            ).json()
            assert body == {"data": {"__typename": "Query"}}
        # Whichever worker answers the scrape reports both workers' figures.
        for _ in range(4):
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            probe = (
                "contentintel_graphql_requests_total"
                '{operation="WorkerProbe",status="200",type="query"}'
            )
            assert _sample(metrics, probe) == 10, metrics
            assert _sample(metrics, 'contentintel_db_pool_connections{state="size"}') == 40
        # A worker that dies is replaced; the server keeps answering.
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert len(workers) == 2
        workers[0].kill()
        workers[0].wait(timeout=10)
        deadline = time.time() + 30
        while len(psutil.Process(proc.pid).children(recursive=True)) < 2:
            assert time.time() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        for _ in range(4):
            answer = httpx.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=10
            )
            assert answer.json() == {"data": {"__typename": "Query"}}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _sample(metrics: str, start: str) -> float:
    """The value of the one sample whose line starts with ``start``."""
    values = [
        float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(start)
    ]
    assert len(values) == 1, (start, values)
    return values[0]
