"""An import-linter contract type: no module imports another module's ``_private`` names.

``from server.catalog.ingest import _copy`` in ``server/audiences`` was how the ingest plumbing
got shared before ``server.ingest`` existed; a leading underscore says "not part of this
module's interface", and this contract holds every module in ``containers`` to it. Imports of
a private name from the importer's own package (``from server.x import _y`` inside ``server.x``)
are allowed. import-linter has no such contract type, and ruff's ``PLC2701`` (preview) skips
first-party modules, hence this one (``lint-imports`` puts the working directory on the path).
"""

from __future__ import annotations

import ast
import importlib.util
from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_package(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def private_imports(module: str) -> list[tuple[int, str, str]]:
    """(line, imported module, private name) of each private name ``module`` imports from a
    module outside its own package."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return []
    with open(spec.origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=spec.origin)
    package = _own_package(module, spec.submodule_search_locations is not None)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            continue
        source = node.module
        if node.level:  # relative: resolve against the importer's package
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            source = f"{base}.{source}"
        if source == package or source.startswith(package + "."):
            continue
        found.extend((node.lineno, source, a.name) for a in node.names if _is_private(a.name))
    return found


class NoPrivateImportsContract(Contract):
    """Modules under ``containers`` import no ``_private`` name of a module outside their own
    package."""

    type_name = "no_private_imports"
    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        violations: list[dict[str, Any]] = []
        for container in self.containers:  # type: ignore[attr-defined]
            modules = {container} | graph.find_descendants(container)
            for module in sorted(modules):
                for line, source, name in private_imports(module):
                    violations.append(
                        {"importer": module, "line": line, "imported": source, "name": name}
                    )
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for v in check.metadata["violations"]:
            output.print_error(
                f"{v['importer']}:{v['line']} imports the private name {v['name']} "
                f"from {v['imported']}",
                bold=False,
            )
            output.new_line()


class PublicModulesContract(Contract):
    """Features talk to each other only through their public modules.

    A module of one package in ``features`` may import a module of another only when that
    module's name is in ``public`` (``service``: queries and logic), or when both are ``peers``
    (``types``, ``inputs`` and ``loaders``, a feature's GraphQL face: the GraphQL type of a title
    resolves its scenes, audiences and micro-genres through theirs). ``ignore_imports`` lists
    the documented exceptions, ``importer -> imported``.
    """

    type_name = "public_modules"
    features = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())
    peers = fields.ListField(subfield=fields.StringField(), required=False)
    ignore_imports = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        features: list[str] = list(self.features)  # type: ignore[attr-defined]
        public = set(self.public)  # type: ignore[attr-defined]
        peers = set(self.peers or [])  # type: ignore[attr-defined]
        ignored = {
            tuple(part.strip() for part in line.split("->"))
            for line in (self.ignore_imports or [])  # type: ignore[attr-defined]
        }

        def feature_of(module: str) -> str | None:
            return next((f for f in features if module == f or module.startswith(f + ".")), None)

        violations: list[dict[str, Any]] = []
        unused = set(ignored)
        for feature in features:
            for importer in sorted({feature} | graph.find_descendants(feature)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    other = feature_of(imported)
                    if other is None or other == feature:
                        continue
                    tail, importer_tail = imported.rpartition(".")[2], importer.rpartition(".")[2]
                    if tail in public or (tail in peers and importer_tail in peers):
                        continue
                    if (importer, imported) in ignored:
                        unused.discard((importer, imported))
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    violations.append(
                        {
                            "importer": importer,
                            "imported": imported,
                            "line": details[0]["line_number"] if details else 0,
                        }
                    )
        warnings = [f"ignored import not found: {a} -> {b}" for a, b in sorted(unused)]
        return ContractCheck(
            kept=not violations and not unused,
            metadata={"violations": violations, "unused": warnings},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for v in check.metadata["violations"]:
            output.print_error(
                f"{v['importer']}:{v['line']} imports {v['imported']}, which is not a public "
                "module of its feature",
                bold=False,
            )
            output.new_line()
        for line in check.metadata["unused"]:
            output.print_error(line, bold=False)
            output.new_line()
