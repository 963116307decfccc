"""Configuration through ``main(argv)``: discovery, --config, --isolated, selections, severities, kinds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.payloads import ROOT
from validator.cli import main

REPEATED = {  # one allocation-repeated warning
    "key": "repeated",
    "name": "Repeated",
    "releaseMethod": "progressive-release",
    "scope": {"environmentKeys": ["staging"]},
    "progressiveReleaseConfig": {
        "stages": [
            {"allocation": 25000, "durationMillis": 1000},
            {"allocation": 25000, "durationMillis": 1000},
            {"allocation": 100000, "durationMillis": 0},
        ]
    },
}
TYPO = ROOT / "invalid" / "unknown-field-nested.json"  # one unknown-field error
UPDATE = ROOT / "valid" / "update" / "checkout-guarded.put.json"


def rules_found(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[tuple[str, str]]]:
    code = main([*argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, [(f["rule"], f["severity"]) for f in json.loads(out)["findings"]] if out else []


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "seed.json").write_text(json.dumps(REPEATED), encoding="utf-8")
    shutil.copy(TYPO, tmp_path / "policies" / "typo.json")
    (tmp_path / "policies" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "policies" / "sub")  # found upward, as ruff finds its configuration
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BOTH = [("allocation-repeated", "warning"), ("unknown-field", "error")]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", BOTH),
        ('[lint]\nignore = ["unknown-field"]\n', [("allocation-repeated", "warning")]),
        ('[lint]\nselect = ["unknown"]\n', [("unknown-field", "error")]),
        ('[lint]\nselect = ["allocation"]\n', [("allocation-repeated", "warning")]),  # a prefix
        ('[lint]\nselect = ["contract"]\nextend-select = ["allocation-repeated"]\n', BOTH[:1]),
        ('[lint.severity]\nallocation-repeated = "error"\n', [("allocation-repeated", "error"), BOTH[1]]),
        ('[lint.severity]\nunknown-field = "warning"\n', [BOTH[0], ("unknown-field", "warning")]),
        ('[lint.severity]\nunknown-field = "off"\n', BOTH[:1]),
        ('[lint.per-file."typo.json"]\nignore = ["unknown-field"]\n', BOTH[:1]),
        (
            '[lint.per-file."policies/*.json"]\nseverity = {allocation = "error"}\n',
            [("allocation-repeated", "error"), BOTH[1]],
        ),
        ('[lint.per-file."other/*.json"]\nignore = ["ALL"]\n', BOTH),
    ],
)
def test_options_of_a_release_policy_toml(
    project: Path, capsys: pytest.CaptureFixture[str], config: str, expected: list[tuple[str, str]]
) -> None:
    write(project / ".release-policy.toml", config)
    code, found = rules_found(["lint", str(project / "policies")], capsys)
    assert sorted(found) == expected
    assert code == (
        1 if ("unknown-field", "error") in found or ("allocation-repeated", "error") in found else 0
    )


def test_pyproject_table_and_command_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        project / "pyproject.toml",
        '[project]\nname = "x"\n[tool.release-policy.lint]\nignore = ["unknown-field"]\n',
    )
    assert rules_found(["lint", str(project / "policies")], capsys) == (0, BOTH[:1])
    # The command line narrows further, and --isolated forgets the file.
    assert rules_found(["lint", "--ignore", "allocation", str(project / "policies")], capsys) == (0, [])
    assert rules_found(["lint", "--isolated", str(project / "policies")], capsys) == (1, BOTH)
    assert rules_found(["lint", "--isolated", "--select", "unknown-field", str(project)], capsys) == (
        1,
        BOTH[1:],
    )


def test_a_pyproject_without_our_table_is_passed_over(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "policies" / "pyproject.toml", "[tool.ruff]\nline-length = 100  # not release-policy\n")
    write(project / ".release-policy.toml", '[lint]\nignore = ["unknown-field"]\n')
    assert rules_found(["lint", str(project / "policies")], capsys) == (0, BOTH[:1])


def test_config_option_names_the_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    named = write(project / "strict.toml", '[lint.severity]\nallocation-repeated = "error"\n')
    write(project / ".release-policy.toml", '[lint]\nignore = ["ALL"]\n')
    code, found = rules_found(["lint", "--config", str(named), str(project / "policies")], capsys)
    assert (code, sorted(found)) == (1, [("allocation-repeated", "error"), BOTH[1]])


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ('[lint]\nselect = ["no-such-rule"]\n', "lint.select: unknown rule 'no-such-rule'"),
        ('[lint]\nignor = ["contract"]\n', "unknown option 'lint.ignor'"),
        (
            '[lint.severity]\ncontract = "fatal"\n',
            "lint.severity.contract: 'fatal' is not one of error, warning, off",
        ),
        (
            '[lint.kinds]\n"*.json" = "delete"\n',
            "lint.kinds.'*.json': 'delete' is not one of create, update, order",
        ),
        ('[lint]\nselect = "contract"\n', "lint.select must be a list of rule ids"),
        ('[lint.per-file."*.json"]\nseverity = {nope = "off"}\n', "unknown rule 'nope'"),
        ("[lint\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str], config: str, complaint: str
) -> None:
    path = write(project / ".release-policy.toml", config)
    assert main(["lint", str(project / "policies")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert str(path) in captured.err
    assert complaint in captured.err
    assert len(captured.err.splitlines()) == 1


def test_unknown_rule_on_the_command_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--isolated", "--ignore", "contrakt", str(project)]) == 2
    assert capsys.readouterr().err == "release-policy: unknown rule 'contrakt'\n"


def test_missing_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--config", "nope.toml", str(project)]) == 2
    assert "nope.toml: no such configuration file" in capsys.readouterr().err


def test_kinds_by_path_and_kind_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "updates").mkdir()
    shutil.copy(UPDATE, tmp_path / "updates" / "checkout.json")  # no key: a create body would miss it
    assert rules_found(["lint", "updates"], capsys) == (1, [("contract", "error")])
    write(tmp_path / ".release-policy.toml", '[lint.kinds]\n"updates/*.json" = "update"\n')
    assert rules_found(["lint", "updates"], capsys) == (0, [])
    assert rules_found(["lint", "--kind", "create", "updates"], capsys) == (1, [("contract", "error")])


def test_list_rules_and_sarif_show_the_configured_severity(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        project / ".release-policy.toml",
        '[lint.severity]\nallocation-repeated = "error"\nunknown-field = "off"\n',
    )
    assert main(["lint", "--list-rules"]) == 0
    listed = {
        line.split()[0]: line.split()[1]
        for line in capsys.readouterr().out.splitlines()
        if not line.startswith(" ")
    }
    assert (listed["allocation-repeated"], listed["unknown-field"], listed["contract"]) == (
        "error",
        "off",
        "error",
    )
    assert main(["lint", "--format", "sarif", str(project / "policies")]) == 1
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    levels = {rule["id"]: rule["defaultConfiguration"]["level"] for rule in run["tool"]["driver"]["rules"]}
    assert levels["allocation-repeated"] == "error"
    assert "unknown-field" not in levels
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [("allocation-repeated", "error")]
