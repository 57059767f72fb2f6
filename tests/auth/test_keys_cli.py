"""`contentintel keys create|list|revoke` against their own database (these commit)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from server.cli import app
from server.db import migrations
from server.db.embedded import EmbeddedPostgres


@pytest.fixture(scope="module")
def keys_env(pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pg.ensure_database("contentintel_keys")
    migrations.upgrade(pg.sqlalchemy_url("contentintel_keys"))
    return {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url("contentintel_keys"),
        "CONTENTINTEL_DATA_DIR": str(tmp_path_factory.mktemp("keys-data")),
        "CONTENTINTEL_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_create_list_revoke(keys_env: dict[str, str]) -> None:
    code, output = run(keys_env, "keys", "create", "--role", "analyst", "--name", "dashboards")
    assert code == 0, output
    key = output.strip().splitlines()[-1]
    assert key.startswith("cik_")
    assert " " not in key
    assert len(key) > 40

    code, output = run(keys_env, "keys", "list")
    assert code == 0, output
    assert "dashboards" in output
    assert "analyst" in output
    assert key not in output
    assert key[:12] in output

    code, output = run(keys_env, "keys", "create", "--role", "admin", "--name", "dashboards")
    assert code == 1
    assert "exists" in output

    code, output = run(keys_env, "keys", "create", "--role", "owner", "--name", "x")
    assert code == 2

    code, output = run(keys_env, "keys", "revoke", "dashboards")
    assert code == 0, output
    assert "revoked" in output, output
    code, output = run(keys_env, "keys", "revoke", "dashboards")
    assert code == 1
    assert "no live key" in output
    code, output = run(keys_env, "keys", "list")
    assert "dashboards" not in output
    code, output = run(keys_env, "keys", "list", "--all")
    assert "dashboards" in output
