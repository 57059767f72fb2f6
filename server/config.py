"""Settings read from the environment (prefix ``CONTENTINTEL_``), validated once at start."""

from __future__ import annotations

import enum
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CONTENTINTEL_"


class EmbedderName(enum.StrEnum):
    MINILM = "minilm"
    HASHING = "hashing"


class Switch(enum.StrEnum):
    ON = "on"
    OFF = "off"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("contentintel", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description="URL of a Postgres >= 16 with pgvector; unset = embedded Postgres.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the embedded Postgres cluster and job outputs.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on.")
    embedder: EmbedderName = Field(
        default=EmbedderName.HASHING, description="Text embedder: minilm or hashing."
    )
    auth: Switch = Field(default=Switch.ON, description="API-key auth on the GraphQL endpoint.")
    log_level: LogLevel = Field(default=LogLevel.INFO, description="Log level.")

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("embedder", "auth", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class SettingsError(Exception):
    """Raised with one line per invalid variable, each naming the environment variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            lines.append(
                f"{ENV_PREFIX}{field.upper()}: {error['msg']} (got {error.get('input')!r})"
            )
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
