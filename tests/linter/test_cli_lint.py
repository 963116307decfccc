"""``release-policy lint``: paths, kinds, formats, --strict, --list-rules and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.payloads import ROOT
from validator.cli import main
from validator.linter import RULES

GOOD = ROOT / "valid" / "checkout-guarded.json"
BAD = ROOT / "invalid" / "unknown-field-nested.json"
WARNED = ROOT / "invalid" / "seed-create.json"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_clean_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lint", str(GOOD)], capsys) == (0, "no problems in 1 file\n", "")


def test_error_exits_1_with_position(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lint", str(BAD)], capsys)
    assert code == 1
    first, summary = out.splitlines()
    line = next(n for n, text in enumerate(BAD.read_text().splitlines(), 1) if "rollbackOnRegresion" in text)
    assert first == (
        f"{BAD}:{line}:5: error [unknown-field] unknown field 'rollbackOnRegresion' would be silently ignored"
        " by the API; did you mean 'rollbackOnRegression'? ($.guardedReleaseConfig.rollbackOnRegresion)"
    )
    assert summary == "1 error, 0 warnings in 1 file"


def test_warnings_pass_unless_strict(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lint", str(WARNED)], capsys)[0] == 0
    assert run(["lint", "--strict", str(WARNED)], capsys)[0] == 1


def test_every_problem_in_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("name-257.json", "allocation-decreasing.json", "syntax.yaml", "nan.json"):
        shutil.copy(ROOT / "invalid" / name, tmp_path / name)
    shutil.copy(WARNED, tmp_path / "seed.json")
    code, out, _ = run(["lint", "--format", "json", str(tmp_path)], capsys)
    payload = json.loads(out)
    assert code == 1
    # name-257 and allocation-decreasing are both "checkout-guarded": one project, one key twice.
    assert payload["summary"] == {"errors": 5, "warnings": 3, "files": 5}
    assert {f["rule"] for f in payload["findings"] if f["severity"] == "error"} == {
        "contract",
        "allocation-decreasing",
        "syntax",
        "non-finite-number",
        "duplicate-policy-key",
    }
    assert {Path(f["file"]).name for f in payload["findings"]} == {
        "name-257.json",
        "allocation-decreasing.json",
        "syntax.yaml",
        "nan.json",
        "seed.json",
    }
    assert set(payload["findings"][0]) == {"file", "line", "column", "path", "rule", "severity", "message"}


def test_directories_recurse_into_json_and_yaml_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    shutil.copy(BAD, tmp_path / "nested" / "deeper" / "bad.yml")
    shutil.copy(BAD, tmp_path / ".hidden" / "ignored.json")
    (tmp_path / "nested" / "README.md").write_text("# not a policy")
    code, out, _ = run(["lint", "--format", "json", str(tmp_path)], capsys)
    payload = json.loads(out)
    assert (code, payload["summary"]["files"]) == (1, 1)
    assert payload["findings"][0]["file"] == str(tmp_path / "nested" / "deeper" / "bad.yml")


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        ("update", {"name": "n", "releaseMethod": "progressive-release"}, 0),
        ("create", {"name": "n", "releaseMethod": "progressive-release"}, 1),
        ("order", ["a", "b"], 0),
        ("create", ["a", "b"], 1),
    ],
)
def test_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, body: object, expected: int
) -> None:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    assert run(["lint", "--kind", kind, str(path)], capsys)[0] == expected


def test_array_is_an_order_body_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "order.yaml"
    path.write_text("- checkout\n- checkout\n")
    code, out, _ = run(["lint", str(path)], capsys)
    assert code == 1
    assert "has duplicate items" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["lint"],
        ["lint", "missing.json"],
        ["lint", "--kind", "delete", "x.json"],
        ["lint", "--format", "xml", "x"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run([*argv[:-1], str(tmp_path / argv[-1])] if argv[1:] else argv, capsys)[0] == 2


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lint", "--list-rules"], capsys)
    assert code == 0
    for rule in RULES:
        assert f"{rule.info.id} " in out
        assert rule.info.why in out


def test_internal_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from validator import linter

    def explode(*_args: object, **_kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(linter, "lint", explode)
    code, out, err = run(["lint", str(GOOD)], capsys)
    assert (code, out, err) == (3, "", "release-policy: internal error: ValueError: boom\n")


def test_library_returns_findings_without_printing(capsys: pytest.CaptureFixture[str]) -> None:
    import validator

    result = validator.lint([BAD])
    assert [f.rule for f in result.findings] == ["unknown-field"]
    assert capsys.readouterr() == ("", "")
