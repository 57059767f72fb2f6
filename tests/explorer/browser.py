"""Shared plumbing of the explorer's browser tests: the system's headless Chromium driven by
selenium (no browser is ever downloaded), a server subprocess, screenshots and figures kept
as artifacts."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("EXPLORER_ARTIFACTS", ROOT / ".artifacts" / "explorer"))
PACKAGES = "chromium and chromium-driver (apt-get install -y chromium chromium-driver)"


def browser_paths() -> tuple[str, str]:
    """The system's Chromium and its driver, or a skip naming the packages to install."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(f"browser tests need the system packages {PACKAGES}")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need selenium (the dev extra)")
    return chromium, driver


@contextlib.contextmanager
def chromium_session() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # WebGL without a GPU: SwiftShader, Chromium's software renderer.
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        # Offline, for real: any host but this machine fails to resolve, so a page that
        # reached for a CDN would break (and log it).
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    browser.set_script_timeout(120)
    try:
        yield browser
    finally:
        browser.quit()


def console_errors(browser: Any, allowed: tuple[str, ...] = ()) -> list[str]:
    """SEVERE console entries since the last call (reading the log empties it)."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and not any(a in entry["message"] for a in allowed)
    ]


def wait_for(
    browser: Any, condition: Callable[[Any], Any], timeout: float = 60, what: str = ""
) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.05).until(condition)
    except Exception as exc:
        shot = screenshot(browser, "failure")
        messages = browser.execute_script(
            "return document.getElementById('messages')?.innerText ?? ''"
        )
        raise AssertionError(
            f"timed out waiting for {what} (page says {messages!r}; {shot})"
        ) from exc


def screenshot(browser: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def record(figures: dict[str, Any]) -> Path:
    """Merge figures into ARTIFACTS/figures.json (the speed figures the issue asks for)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "figures.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    known.update(figures)
    path.write_text(json.dumps(known, indent=2) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base: str
    log: Path

    def gql(self, query: str, variables: dict[str, Any] | None = None, key: str = "") -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=120,
        )
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]

    def map_ids(self) -> list[str]:
        """Every title of the similarity map, page by page, as the API gives them."""
        ids: list[str] = []
        after = None
        while True:
            data = self.gql(
                "query($after: ID) { similarityMap(first: 2000, k: 0, after: $after) "
                "{ nodes { title { id } } } }",
                {"after": after},
            )
            page = [n["title"]["id"] for n in data["similarityMap"]["nodes"]]
            ids += page
            if len(page) < 2000:
                return ids
            after = page[-1]


@contextlib.contextmanager
def serving(args: list[str], env: dict[str, str], log: Path, timeout: float) -> Iterator[Served]:
    """``contentintel <args>`` in a subprocess until its /healthz answers; stopped after."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", *args, "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server not up in {timeout} s: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield Served(base, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
