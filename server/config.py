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


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


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
    read_database_url: str | None = Field(
        default=None,
        description="URL of a read replica: read-only operations (queries) are sent there.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the embedded Postgres cluster and job outputs.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on.")
    workers: int = Field(
        default=1, ge=1, le=64, description="Worker processes `serve` runs (granian)."
    )
    embedder: EmbedderName = Field(
        default=EmbedderName.HASHING, description="Text embedder: minilm or hashing."
    )
    auth: Switch = Field(default=Switch.ON, description="API-key auth on the GraphQL endpoint.")
    log_level: LogLevel = Field(default=LogLevel.INFO, description="Log level.")
    # --- production readiness: exposure, limits, timeouts, logs ---
    introspection: Switch = Field(default=Switch.ON, description="GraphQL introspection.")
    graphiql: Switch = Field(default=Switch.ON, description="GraphiQL page on GET /graphql.")
    max_depth: int = Field(default=10, ge=1, le=100, description="Maximum query depth.")
    max_aliases: int = Field(default=15, ge=0, le=1000, description="Maximum aliases.")
    max_tokens: int = Field(default=2000, ge=10, le=100_000, description="Maximum tokens.")
    max_cost: int = Field(
        default=20_000, ge=1, description="Maximum estimated cost (requested list sizes)."
    )
    max_query_bytes: int = Field(
        default=100_000,
        ge=1000,
        description="Longest query document, in characters (values belong in variables).",
    )
    max_fields: int = Field(
        default=5_000,
        ge=10,
        le=1_000_000,
        description="Most fields a document may select once its fragments are expanded.",
    )
    max_response_bytes: int = Field(
        default=10_000_000, ge=1024, description="Largest response body, in bytes."
    )
    execution_timeout_ms: int = Field(
        default=15_000,
        ge=1,
        description="Wall time a request's execution may take before it ends with TIMEOUT.",
    )
    compiled_queries: Switch = Field(
        default=Switch.ON,
        description="Answer title/titleByExternalId/titles queries with one SQL statement.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest accepted request body, in bytes."
    )
    statement_timeout_ms: int = Field(
        default=10_000, ge=0, description="Per-statement timeout of API requests (0 = none)."
    )
    pool_size: int = Field(
        default=20, ge=1, le=1000, description="Database connections kept open by the API."
    )
    pool_overflow: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Extra connections opened under load and closed when returned.",
    )
    pool_timeout_s: float = Field(
        default=5.0, gt=0, description="Seconds a request waits for a pooled connection."
    )
    persisted_queries: Switch = Field(
        default=Switch.ON, description="Automatic persisted queries (sha256 hashes)."
    )
    allow_list: Path | None = Field(
        default=None,
        description="JSON file {sha256: query}: when set, only these operations run.",
    )
    key_cache_s: float = Field(
        default=10.0, ge=0, description="Seconds a verified API key is trusted before re-check."
    )
    rate_limit: float = Field(
        default=0, ge=0, description="Requests per second per API key (0 = no limit)."
    )
    rate_burst: float = Field(default=50, ge=1, description="Burst allowed above rate_limit.")
    log_format: LogFormat = Field(default=LogFormat.JSON, description="Log lines: json or text.")

    @field_validator("database_url", "read_database_url")
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

    @field_validator("allow_list", mode="before")
    @classmethod
    def _empty_path(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip() == "" else value

    @field_validator(
        "embedder",
        "auth",
        "introspection",
        "graphiql",
        "persisted_queries",
        "log_format",
        mode="before",
    )
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
