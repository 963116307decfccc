"""The shared corpus drives the linter: every file yields exactly the findings its manifest names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.payloads import ROOT, Payload, payloads, projects
from validator.linter import lint, lint_bytes

PAYLOADS = payloads()


def test_manifest_covers_every_file() -> None:
    on_disk = {
        p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.suffix in (".json", ".yaml", ".yml")
    }
    on_disk -= {p for p in on_disk if p.startswith("projects/")} | {"MANIFEST.yaml"}
    assert on_disk == {payload.name for payload in PAYLOADS}


@pytest.mark.parametrize("payload", PAYLOADS, ids=[p.name for p in PAYLOADS])
def test_payload_findings(payload: Payload) -> None:
    findings = lint_bytes(payload.path.read_bytes(), payload.name, kind=payload.kind)  # type: ignore[arg-type]
    assert {(f.rule, f.path) for f in findings} == payload.findings
    assert all(f.file == payload.name and f.line >= 1 and f.column >= 1 for f in findings)
    assert all(f.message for f in findings)


@pytest.mark.parametrize("name", sorted(projects()))
def test_project_findings(name: str) -> None:
    directory = ROOT / "projects" / name
    result = lint([directory])
    found = {(Path(f.file).name, f.rule, f.path) for f in result.findings}
    assert found == projects()[name]


def test_valid_directory_is_one_clean_project() -> None:
    files = sorted(p for p in (ROOT / "valid").iterdir() if p.is_file())
    result = lint(files)
    assert (result.findings, result.files_checked) == ((), len(files))


def test_seed_lints_with_warnings_only() -> None:
    findings = lint_bytes((ROOT / "invalid" / "seed-create.json").read_bytes(), "seed.json")
    assert findings
    assert {f.severity for f in findings} == {"warning"}
