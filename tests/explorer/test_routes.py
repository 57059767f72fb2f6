"""The explorer's routes and the offline GraphiQL page, over HTTP (no browser): everything a
page loads is served from the package, the vendored files are the ones VENDORED.json records,
with allowed licences."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.config import load_settings
from server.explorer.routes import STATIC, graphiql_html
from tests.helpers import api_client

VENDOR = STATIC / "vendor"
HTML = {"Accept": "text/html,application/xhtml+xml"}


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


async def test_explore_serves_the_page_and_everything_it_references(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/explore", "/explore/", "/explore?view=title&id=42"):
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text
    assert "https://" not in page.text
    referenced = re.findall(r'(?:src|href)="(/explore/static/[^"]+)"', page.text)
    referenced += re.findall(r'"(/explore/static/vendor/[^"]+)"', page.text)
    assert len(referenced) >= 5
    for url in referenced:
        assert (await client.get(url)).status_code == 200, url


async def test_static_files_are_gzipped(client: httpx.AsyncClient) -> None:
    atlas = await client.get(
        "/explore/static/vendor/countries-50m.json", headers={"Accept-Encoding": "gzip"}
    )
    assert atlas.status_code == 200
    assert atlas.headers["content-encoding"] == "gzip"
    assert len(atlas.content) == (VENDOR / "countries-50m.json").stat().st_size


def test_own_modules_reach_no_other_host() -> None:
    for module in (STATIC / "js").glob("*.js"):
        assert not re.search(r"https?://", module.read_text()), module


async def test_graphiql_is_served_from_the_package(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.text == graphiql_html()
    assert "unpkg.com" not in page.text
    assets = re.findall(
        r'(?:src|href)="(/explore/static/vendor/unpkg/[^"]+)"\s+integrity="([^"]+)"', page.text
    )
    assert len(assets) == 7  # React, ReactDOM, js-cookie, GraphiQL and its plugin (js + css)
    for url, integrity in assets:
        served = await client.get(url)
        assert served.status_code == 200, url
        assert sri(served.content) == integrity, url
    # a browser asking with ?query= still gets the query's result
    answer = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Accept": "application/json"}
    )
    assert answer.json() == {"data": {"__typename": "Query"}}


async def test_graphiql_off_serves_no_page(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = load_settings(data_dir=tmp_path, auth="off", database_url=None, graphiql="off")
    async with api_client(settings, session_factory) as http:
        page = await http.get("/graphql", headers=HTML)
    assert "GraphiQL" not in page.text
    assert page.status_code != 200


def test_vendored_files_match_their_record_and_licences() -> None:
    record = json.loads((VENDOR / "VENDORED.json").read_text())
    names = {p["name"] for p in record}
    assert {"regl-scatterplot", "d3", "@observablehq/plot", "world-atlas", "graphiql"} <= names
    for package in record:
        assert package["license"] in {"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0"}
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"]), package
        slug = package["name"].replace("@", "").replace("/", "-")
        assert (VENDOR / "licenses" / f"{slug}-{package['version']}.txt").is_file()
        for entry in package["files"]:
            data = (VENDOR / entry["path"]).read_bytes()
            assert len(data) == entry["bytes"], entry["path"]
            assert sri(data) == entry["sha384"], entry["path"]


@pytest.mark.parametrize("name", ["index.html", "explorer.css", "js/app.js"])
def test_page_files_ship_in_the_package(name: str) -> None:
    assert (STATIC / name).is_file()
