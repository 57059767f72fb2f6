"""The import contracts of ``make lint`` (``[tool.importlinter]`` in pyproject.toml) hold for
the code, and a deliberately wrong import breaks them: each case copies ``server/`` to a
temporary folder, adds one module with a wrong import and runs ``lint-imports`` there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of server/ and tools/ (the custom contract types) to add wrong modules to."""
    folder = tmp_path_factory.mktemp("contracts")
    ignore = shutil.ignore_patterns("__pycache__", "*.csv", "*.json")
    shutil.copytree(ROOT / "server", folder / "server", ignore=ignore)
    shutil.copytree(ROOT / "tools", folder / "tools", ignore=ignore)
    return folder


def test_the_code_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout
    assert "ignored" not in result.stdout, "the layers hold without exceptions"


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        (  # a lower layer importing a higher one
            "server/models/zz_wrong.py",
            "from server.graphql.schema import schema\n",
            "Layers: a module imports only downward BROKEN",
        ),
        (  # a feature's GraphQL face reaching up into the schema that assembles it
            "server/catalog/zz_wrong.py",
            "from server.graphql.http import GraphQLHTTP\n",
            "Layers: a module imports only downward BROKEN",
        ),
        (  # a feature reaching into another feature's non-public module
            "server/scenes/zz_wrong.py",
            "from server.catalog.ingest import merge_titles\n",
            "through their public service modules BROKEN",
        ),
        (  # a private name of another module
            "server/audiences/zz_wrong.py",
            "from server.ingest.flow import _unused_private\n",
            "No module imports another module's _private names BROKEN",
        ),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    tree: Path, module: str, source: str, broken: str
) -> None:
    path = tree / module
    path.write_text(source, encoding="utf-8")
    try:
        result = lint_imports(tree)
    finally:
        path.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout, result.stdout
    assert "zz_wrong" in result.stdout
