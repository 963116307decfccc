"""ARCHITECTURE.md's layer table, enforced: no module imports from a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import validator

PACKAGE = Path(validator.__file__).parent
LAYERS = {
    "findings": 0,
    "documents": 1,
    "spec": 2,
    "schema_errors": 2,
    "speccheck": 3,
    "reporters": 4,
    "cli": 5,
    "__main__": 5,
    "__init__": 0,
}
PRINTERS = {"cli", "__main__"}


def project_imports(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "validator":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("validator."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("validator."))
    return found


MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert set(MODULES) == set(LAYERS)


@pytest.mark.parametrize("module", MODULES)
def test_imports_go_down_the_layers(module: str) -> None:
    for imported in project_imports(PACKAGE / f"{module}.py"):
        if imported == "__version__":
            continue
        assert LAYERS[imported] <= LAYERS[module], f"{module} (layer {LAYERS[module]}) imports {imported}"


@pytest.mark.parametrize("module", sorted(set(MODULES) - PRINTERS))
def test_library_never_prints_or_exits(module: str) -> None:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    calls = {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert not calls & {"print", "exit", "_exit"}, module
