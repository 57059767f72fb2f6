"""A server worker's app: built from ``serve``'s settings, and what lives on after its startup
moved out of the garbage collector's sight (``server.app.freeze_what_lives_on``)."""

from __future__ import annotations

import gc
from pathlib import Path

from server.app import create_app, worker_app
from server.config import load_settings


async def test_a_worker_freezes_what_its_startup_built(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, auth="off", log_level="WARNING")
    gc.unfreeze()
    try:
        plain = create_app(settings, database_url=database_url)
        async with plain.router.lifespan_context(plain):
            assert gc.get_freeze_count() == 0  # tests and tools build apps without it
        app = worker_app("server.app:worker_app", settings=settings, database_url=database_url)
        async with app.router.lifespan_context(app):
            # the modules, the schema and the engine: far more than a request leaves behind
            assert gc.get_freeze_count() > 50_000
    finally:
        gc.unfreeze()
