"""ARCHITECTURE.md's layer table, enforced: no module imports from a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import validator

PACKAGE = Path(validator.__file__).parent
LAYERS = {
    "findings": 0,
    "counts": 0,
    "document_types": 1,
    "documents": 1,
    "json_reader": 1,
    "yaml_reader": 1,
    "spec": 2,
    "contract": 2,
    "schema_errors": 2,
    "schema_shapes": 2,
    "state": 2,
    "speccheck": 3,
    "linter": 3,
    "linter.model": 3,
    "linter.fields": 3,
    "linter.rules": 3,
    "linter.project": 3,
    "linter.registry": 3,
    "linter.runner": 3,
    "linter.config": 3,
    "linter.suppressions": 3,
    "linter.fixes": 3,
    "linter.fixing": 3,
    "linter.schema_export": 3,
    "server": 4,
    "server.app": 4,
    "server.store": 4,
    "server.pgstore": 4,
    "server.serve": 4,
    "server.ratelimit": 4,
    "fuzz": 4,
    "fuzz.target": 4,
    "fuzz.pacing": 4,
    "fuzz.cleanup": 4,
    "fuzz.drift": 4,
    "fuzz.probes": 4,
    "fuzz.violation": 4,
    "fuzz.phases": 4,
    "fuzz.steps": 4,
    "fuzz.body_pool": 4,
    "fuzz.schemathesis_adapter": 4,
    "fuzz.model": 4,
    "fuzz.judge": 4,
    "fuzz.shrink": 4,
    "fuzz.oracle": 4,
    "fuzz.local": 4,
    "fuzz.run": 4,
    "fuzz.reports": 4,
    "fuzz.reproduce": 4,
    "fuzz.command": 4,
    "fuzz.boundaries": 4,
    "fuzz.sweep": 4,
    "fuzz.tour": 4,
    "fuzz.calls": 4,
    "fuzz.coverage": 4,
    "fuzz.progress": 4,
    "fuzz.pytest_plugin": 4,
    "fuzz.contract_tests": 4,
    "fuzz.shard": 4,
    "fuzz.fingerprint": 4,
    "fuzz.failures": 4,
    "fuzz.merge": 4,
    "fuzz.sarif_fuzz": 4,
    "fuzz.summary": 4,
    "docs": 4,
    "docs.model": 4,
    "docs.markdown": 4,
    "docs.html": 4,
    "reporters": 4,
    "sarif": 4,
    "cli": 5,
    "cli_lint": 5,  # the lint and schema commands' options and work; cli.py prints
    "cli_progress": 5,  # how the fuzz command shows a run as it goes
    "__main__": 5,
    "__init__": 5,  # the package facade: validator.lint(...)
}
PRINTERS = {"cli", "__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


MODULES = sorted(module_name(path) for path in PACKAGE.rglob("*.py"))


def project_imports(source: Path) -> set[str]:
    """The project modules a file imports, anywhere in it (lazy imports count too)."""
    return imports_in(source.read_text(encoding="utf-8"))


def imports_in(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "validator":
            base = node.module.removeprefix("validator").lstrip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}".lstrip(".")
                # A name that is not a module (``from validator import __version__``) comes
                # from the package that defines it: ``validator`` itself is ``__init__``.
                found.add(candidate if candidate in LAYERS else base or "__init__")
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("validator.") for a in node.names if a.name.startswith("validator.")
            )
    return found


def source_of(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_every_module_has_a_layer() -> None:
    assert set(MODULES) == set(LAYERS)


@pytest.mark.parametrize("module", MODULES)
def test_imports_go_down_the_layers(module: str) -> None:
    for imported in project_imports(source_of(module)):
        assert LAYERS[imported] <= LAYERS[module], f"{module} (layer {LAYERS[module]}) imports {imported}"


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle of ``graph`` once, as the modules along it (depth-first; fine for a few dozen)."""
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(graph.get(module, set())):
            if imported in trail:
                cycle = trail[trail.index(imported) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append([*cycle, imported])
            elif imported not in done:
                visit(imported, [*trail, imported])
        done.add(module)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    return cycles


def test_the_import_checker_sees_names_imported_from_the_package_top() -> None:
    """``from validator import lint`` imports ``validator/__init__.py``, not nothing."""
    source = "from validator import lint, spec\nfrom validator.linter import LintPathError\n"
    assert imports_in(source) == {"__init__", "spec", "linter"}


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"], ["d", "d"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    """Lazy and type-checking imports count: a cycle is a design knot, whenever it is tied."""
    graph = {module: project_imports(source_of(module)) - {module} for module in MODULES}
    assert import_cycles(graph) == []


@pytest.mark.parametrize("module", sorted(set(MODULES) - PRINTERS))
def test_library_never_prints_or_exits(module: str) -> None:
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    calls = {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert not calls & {"print", "exit", "_exit"}, module


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith(("fuzz", "server"))])
def test_the_fuzzer_and_the_server_stay_apart(module: str) -> None:
    """The fuzzer tests any server, so it knows the reference server only as its default target."""
    imported = project_imports(source_of(module))
    if module.startswith("server"):
        assert not {name for name in imported if name.startswith("fuzz")}, module
    elif module != "fuzz.local":
        assert not {name for name in imported if name.startswith("server")}, module
