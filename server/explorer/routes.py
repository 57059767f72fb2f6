"""Routes of the explorer and of the offline GraphiQL page.

The explorer is static: ``/explore`` answers ``index.html`` whatever the query string (each
view is a URL such as ``/explore?view=title&id=42``, shareable), its modules and the vendored
libraries are under ``/explore/static/``. Everything it shows comes from ``/graphql``, like any
other client's.

GraphiQL: strawberry's page loads React and GraphiQL from unpkg.com, so without internet it
stays on "Loading..." (``Cookies is not defined``). ``graphiql_html`` is the same page with
those URLs pointing at the vendored copies (same files, so the page's integrity hashes still
hold); the app hands it to the GraphQL endpoint, which serves it to browsers.
"""

from __future__ import annotations

from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

STATIC = Path(__file__).resolve().parent / "static"
STATIC_URL = "/explore/static"
UNPKG = "https://unpkg.com/"
VENDORED_UNPKG = f"{STATIC_URL}/vendor/unpkg/"


def explorer_routes() -> list[BaseRoute]:
    """``/explore`` and its static files (gzipped: the map data and GraphiQL are ~4 MB raw)."""

    async def index(request: Request) -> Response:
        # The page is tiny and changes with the package: always revalidate it.
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    static = GZipMiddleware(StaticFiles(directory=STATIC), minimum_size=1024)
    return [
        Route("/explore", index, methods=["GET", "HEAD"]),
        Route("/explore/", index, methods=["GET", "HEAD"]),
        Mount(STATIC_URL, app=static, name="explorer-static"),
    ]


def graphiql_html() -> str:
    """strawberry's GraphiQL page with its unpkg.com assets served from the package."""
    return get_graphql_ide_html("graphiql").replace(UNPKG, VENDORED_UNPKG)
