"""The composite action, its steps executed as a runner would: inputs and ``github`` expressions
substituted, ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` temporary files, ``uses`` steps recorded
instead of run (code scanning's upload needs GitHub)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fuzz.test_merge import TWO_DEFAULTS, _result, _write

ROOT = Path(__file__).resolve().parents[2]
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


class Runner:
    """The little of a runner the action needs: contexts, outputs, and the conditions it writes."""

    def __init__(self, inputs: Mapping[str, str], workspace: Path) -> None:
        declared = ACTION["inputs"]
        self.inputs = {name: inputs.get(name, spec.get("default", "")) for name, spec in declared.items()}
        self.workspace = workspace
        self.outputs: dict[str, dict[str, str]] = {}
        self.used: list[dict[str, str]] = []
        self.output_file = workspace / "github-output"
        self.summary_file = workspace / "step-summary.md"

    def value(self, expression: str) -> str:
        context, _, rest = expression.partition(".")
        if context == "inputs":
            return str(self.inputs[rest])
        if context == "github":
            return {"action_path": str(ROOT), "run_id": "4242"}[rest]
        if context == "steps":
            step, _, output = rest.partition(".outputs.")
            return self.outputs.get(step, {}).get(output, "")
        raise AssertionError(f"the test runner does not know {expression!r}")

    def substitute(self, text: str) -> str:
        return _EXPRESSION.sub(lambda found: self.value(found[1]), text)

    def condition(self, text: str) -> bool:
        """``always()`` and ``a == 'b'`` / ``a != 'b'`` joined by ``&&``: what the action's ifs use."""
        verdicts = []
        for part in (each.strip() for each in text.split("&&")):
            if part == "always()":
                continue
            left, operator, right = re.fullmatch(r"(\S+) (==|!=) '(.*)'", part).groups()  # type: ignore[union-attr]
            verdicts.append((self.value(left) == right) == (operator == "=="))
        return all(verdicts)

    def run(self) -> int:
        """Every step in order; the exit code of the first that fails, else 0."""
        for step in ACTION["runs"]["steps"]:
            if "if" in step and not self.condition(step["if"]):
                continue
            if "uses" in step:
                self.used.append({k: self.substitute(str(v)) for k, v in step.get("with", {}).items()})
                continue
            self.output_file.write_text("")
            environment = {
                **os.environ,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "GITHUB_OUTPUT": str(self.output_file),
                "GITHUB_STEP_SUMMARY": str(self.summary_file),
                **{k: self.substitute(str(v)) for k, v in step.get("env", {}).items()},
            }
            done = subprocess.run(
                [step["shell"], "-e", "-c", self.substitute(step["run"])],
                cwd=self.workspace, env=environment, capture_output=True, text=True, check=False,
            )  # fmt: skip
            lines = self.output_file.read_text().splitlines()
            self.outputs[step.get("id", "")] = dict(line.split("=", 1) for line in lines if "=" in line)
            if done.returncode:
                return done.returncode
        return 0


def test_lint_uploads_its_sarif_and_fails_on_findings(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"key": "x", "name": "x", "releaseMethod": "no-such-method"}')
    runner = Runner({"command": "lint", "paths": "bad.json"}, tmp_path)
    assert runner.run() == 1
    assert runner.outputs["run"] == {"exit-code": "1", "sarif": "release-policy-report/lint.sarif"}
    assert runner.used == [
        {"sarif_file": "release-policy-report/lint.sarif", "category": "release-policy-lint"}
    ]
    assert '"ruleId"' in (tmp_path / "release-policy-report" / "lint.sarif").read_text()


def test_merge_writes_the_reports_and_the_job_summary(tmp_path: Path) -> None:
    for shard in (1, 2):
        (tmp_path / "shards" / str(shard)).mkdir(parents=True)
        _write(tmp_path / "shards" / str(shard) / "fuzz.json", _result(TWO_DEFAULTS, shard=shard))
    runner = Runner({"command": "merge", "reports": "shards/*/fuzz.json", "upload-sarif": "false"}, tmp_path)
    assert runner.run() == 1
    assert runner.outputs["run"]["exit-code"] == "1"
    assert runner.used == []
    assert runner.summary_file.read_text().startswith("## release-policy fuzz: 1 violation")
    report = tmp_path / "release-policy-report"
    assert sorted(path.name for path in report.iterdir()) == [
        "fuzz.json",
        "fuzz.sarif",
        "junit.xml",
        "summary.md",
    ]


@pytest.mark.parametrize("command", ["lnt"])
def test_an_unknown_command_is_exit_2(tmp_path: Path, command: str) -> None:
    runner = Runner({"command": command}, tmp_path)
    assert runner.run() == 2
    assert runner.outputs["run"] == {"exit-code": "2", "sarif": ""}
