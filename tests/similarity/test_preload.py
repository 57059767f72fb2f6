"""The search embedder is loaded before the server takes requests; a missing model does not
keep the rest of the API down."""

from __future__ import annotations

import logging

import pytest

from server import app as app_module
from server.config import Settings
from server.embeddings.embedders import EmbedderUnavailable


async def test_the_lifespan_loads_the_search_embedder(
    database_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[str] = []
    monkeypatch.setattr(app_module, "query_embedder", lambda name: loaded.append(name.value))
    application = app_module.create_app(settings, database_url=database_url)
    async with application.router.lifespan_context(application):
        assert loaded == [settings.embedder.value]


async def test_a_missing_model_is_logged_and_the_api_still_starts(
    database_url: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unavailable(name: object) -> None:
        raise EmbedderUnavailable("install the ml extra: pip install -e '.[ml]'")

    monkeypatch.setattr(app_module, "query_embedder", unavailable)
    application = app_module.create_app(settings, database_url=database_url)
    with caplog.at_level(logging.WARNING, logger="contentintel.app"):
        async with application.router.lifespan_context(application):
            pass
    assert "search embedder hashing unavailable" in caplog.text
    assert "pip install" in caplog.text
