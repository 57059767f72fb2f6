"""The schema stays Citus-compatible, and `db distribute` explains itself without Citus."""

from __future__ import annotations

import pytest
from sqlalchemy import UniqueConstraint
from typer.testing import CliRunner

import server.models  # noqa: F401  (registers every table)
from server.cli import app
from server.db.base import Base
from server.db.citus import (
    COORDINATOR_TABLES,
    DISTRIBUTED_TABLES,
    DISTRIBUTION_COLUMN,
    REFERENCE_TABLES,
)
from server.db.embedded import EmbeddedPostgres


def test_every_table_is_classified() -> None:
    tables = set(Base.metadata.tables)
    groups = [set(REFERENCE_TABLES), set(DISTRIBUTED_TABLES), set(COORDINATOR_TABLES)]
    classified = set().union(*groups)
    assert sum(len(g) for g in groups) == len(classified), "a table is in two groups"
    assert tables == classified, (
        f"classify in server/db/citus.py: {sorted(tables - classified)}; "
        f"gone: {sorted(classified - tables)}"
    )


@pytest.mark.parametrize("name", DISTRIBUTED_TABLES)
def test_distributed_tables_keep_the_distribution_column_in_every_key(name: str) -> None:
    table = Base.metadata.tables[name]
    assert DISTRIBUTION_COLUMN in table.primary_key.columns
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            assert DISTRIBUTION_COLUMN in constraint.columns, constraint.name
    for index in table.indexes:
        if index.unique:
            assert DISTRIBUTION_COLUMN in index.columns, index.name


def test_distribute_explains_itself_without_citus(
    pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pg.ensure_database("contentintel_citus")
    from server.db import migrations

    migrations.upgrade(pg.sqlalchemy_url("contentintel_citus"))
    env = {
        "CONTENTINTEL_DATABASE_URL": pg.libpq_url("contentintel_citus"),
        "CONTENTINTEL_DATA_DIR": str(tmp_path_factory.mktemp("citus")),
    }
    result = CliRunner().invoke(app, ["db", "distribute"], env=env)
    assert result.exit_code == 1
    assert "citus" in result.output
    assert "not available" in result.output
    assert "title_embeddings" in result.output
