"""``release-policy schema``: a standalone schema that check-jsonschema applies as the contract rule does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

from tests.payloads import REJECTED_BY_API, payloads
from validator.cli import main
from validator.linter import Kind, lint_bytes


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
    return [r for v in node for r in refs(v)] if isinstance(node, list) else []


@pytest.mark.parametrize("kind", ["create", "update", "order"])
def test_schema_is_standalone_with_descriptions(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--kind", kind]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert refs(schema)
    assert all(ref.startswith("#/$defs/") and ref[8:] in schema["$defs"] for ref in refs(schema))
    assert "description" in json.dumps(schema["$defs"])
    assert not any(key.startswith("x-") for key in json.dumps(schema).split('"') if key.startswith("x-"))


#: Findings that mean the file is not one plain document: check-jsonschema refuses it before any schema.
UNREADABLE = (REJECTED_BY_API - {"contract"}) | {"duplicate-key"}


@pytest.mark.slow
def test_check_jsonschema_agrees_with_the_contract_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over every corpus file the linter can read, check-jsonschema fails exactly where `contract` reports."""
    for kind in ("create", "update", "order"):
        assert main(["schema", "--kind", kind]) == 0
        schema = tmp_path / f"{kind}.schema.json"
        schema.write_text(capsys.readouterr().out, encoding="utf-8")
        expected = {}
        for payload in payloads():
            findings = lint_bytes(payload.path.read_bytes(), payload.name, kind=cast(Kind, payload.kind))
            if payload.kind == kind and not {f.rule for f in findings} & UNREADABLE:
                expected[str(payload.path)] = any(f.rule == "contract" for f in findings)
        assert expected
        done = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "-o", "JSON", "--schemafile", str(schema), *expected],
            capture_output=True,
            text=True,
            check=False,
        )
        output = json.loads(done.stdout)
        assert output["parse_errors"] == []
        failed = {error["filename"] for error in output["errors"]}
        assert {name: name in failed for name in expected} == expected
