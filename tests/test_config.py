from __future__ import annotations

from pathlib import Path

import pytest

from server.config import EmbedderName, SettingsError, Switch, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "DATA_DIR", "HOST", "PORT", "EMBEDDER", "AUTH", "LOG_LEVEL"):
        monkeypatch.delenv(f"CONTENTINTEL_{name}", raising=False)
    settings = load_settings()
    assert settings.database_url is None
    assert settings.data_dir.name == "contentintel"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.embedder is EmbedderName.HASHING
    assert settings.auth is Switch.ON


def test_environment_is_read_with_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONTENTINTEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CONTENTINTEL_PORT", "9001")
    monkeypatch.setenv("CONTENTINTEL_AUTH", "OFF")
    monkeypatch.setenv("CONTENTINTEL_EMBEDDER", "MiniLM")
    monkeypatch.setenv("CONTENTINTEL_LOG_LEVEL", "debug")
    monkeypatch.setenv("CONTENTINTEL_DATABASE_URL", "postgresql://u@db:5432/ci")
    settings = load_settings()
    assert settings.data_dir == tmp_path
    assert settings.port == 9001
    assert settings.auth is Switch.OFF
    assert settings.embedder is EmbedderName.MINILM
    assert settings.log_level.value == "DEBUG"
    assert settings.database_url == "postgresql://u@db:5432/ci"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("AUTH", "maybe"),
        ("EMBEDDER", "word2vec"),
        ("LOG_LEVEL", "loud"),
        ("DATABASE_URL", "mysql://x"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(f"CONTENTINTEL_{variable}", value)
    with pytest.raises(SettingsError) as excinfo:
        load_settings()
    assert f"CONTENTINTEL_{variable}" in str(excinfo.value)
    assert value.lower() in str(excinfo.value).lower()


def test_empty_database_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTINTEL_DATABASE_URL", "")
    assert load_settings().database_url is None
