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

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import asyncio, sys, uvicorn
from server.app import create_app
from server.catalog import service
from server.config import load_settings

original = service.tag_counts

async def slow(*args, **kwargs):
    await asyncio.sleep(2)
    return await original(*args, **kwargs)

service.tag_counts = slow
app = create_app(load_settings(auth="off", log_level="WARNING"), database_url=sys.argv[1])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_config=None,
            log_level="warning", timeout_graceful_shutdown=10)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_finishes_in_flight_requests(database_url: str) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, database_url, str(port)], cwd=ROOT, env={**os.environ}
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
        # uvicorn re-raises SIGTERM once it has shut down (`serve` turns that into exit 143)
        assert proc.wait(timeout=15) in (0, -signal.SIGTERM)
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
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) in (0, 128 + signal.SIGTERM, -signal.SIGTERM)
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
