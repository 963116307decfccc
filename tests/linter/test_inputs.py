"""Inputs: standard input with positions, paths with no policy file, part of a directory, $schema."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from tests.payloads import ROOT
from validator.cli import main
from validator.linter import lint

ORDER_PROJECT = ROOT / "projects" / "order-mismatch"


class Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_with_positions(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", Stdin((ROOT / "invalid" / "unknown-field-typo.yaml").read_bytes()))
    assert main(["lint", "--isolated", "-"]) == 1
    first, summary = capsys.readouterr().out.splitlines()
    assert first.startswith("<stdin>:10:3: error [unknown-field] unknown field 'rollbackOnRegresion'")
    assert summary == "1 error, 0 warnings in 1 file"


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [(["-", "x.json"], "cannot be mixed"), (["--fix", "-"], "--fix and --diff work on files")],
)
def test_stdin_misuse(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], complaint: str
) -> None:
    monkeypatch.setattr("sys.stdin", Stdin(b"[]"))
    assert main(["lint", "--isolated", *argv]) == 2
    assert complaint in capsys.readouterr().err


def test_a_directory_without_policy_files_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("no policy here", encoding="utf-8")
    assert main(["lint", "--isolated", str(tmp_path)]) == 2
    assert capsys.readouterr() == (
        "",
        f"release-policy: {tmp_path}: no policy files here (*.json, *.yaml, *.yml)\n",
    )


def test_a_single_path_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="a list of paths"):
        lint("x.json")


def test_part_of_a_directory_reports_no_unshown_policy(tmp_path: Path) -> None:
    """Pre-commit passes a new policy and the order that lists it: the others are not shown, not unknown."""
    shutil.copytree(ORDER_PROJECT, tmp_path, dirs_exist_ok=True)
    (tmp_path / "order.json").write_text(
        json.dumps(["checkout-guarded", "staging-progressive"]), encoding="utf-8"
    )
    assert lint([tmp_path]).findings == ()
    assert lint([tmp_path / "order.json", tmp_path / "guarded.json"]).findings == ()
    # A policy the run was shown and the order leaves out is still reported, and a default listed.
    (tmp_path / "order.json").write_text(json.dumps(["default", "staging-progressive"]), encoding="utf-8")
    partial = lint([tmp_path / "order.json", tmp_path / "guarded.json", tmp_path / "default.json"])
    assert [(Path(f.file).name, f.rule, f.path, f.message) for f in partial.findings] == [
        (
            "order.json",
            "order-mismatch",
            "$",
            "Missing policy key checkout-guarded: the order must list every scoped policy"
            f" ({tmp_path / 'guarded.json'})",
        ),
        ("order.json", "order-mismatch", "$[0]", "Default policy key is not allowed in ordering: default"),
    ]
    # Shown every file of the directory (one by one), unknown keys count again.
    (tmp_path / "order.json").write_text(
        json.dumps(["checkout-guarded", "staging-progressive", "gone"]), encoding="utf-8"
    )
    whole = lint(sorted(tmp_path.iterdir()))
    assert [(f.rule, f.path, f.message) for f in whole.findings] == [
        ("order-mismatch", "$[2]", "Unknown policy key gone")
    ]
    assert lint([tmp_path / "order.json", tmp_path / "guarded.json"]).findings == ()


def test_project_messages_come_from_the_state_rules() -> None:
    result = lint([ROOT / "projects" / "duplicate-key", ROOT / "projects" / "two-defaults"])
    first, default = (
        ROOT / "projects" / "duplicate-key" / "a.json",
        ROOT / "projects" / "two-defaults" / "one.json",
    )
    assert [f.message for f in result.findings] == [
        f"A release policy with key checkout-guarded exists already (see {first})",
        f"The project has a default policy already (default); it can have only one (see {default})",
    ]
