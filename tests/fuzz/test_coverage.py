"""Contract coverage: the goals come from the spec and the state rules, and a run reports what it missed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fuzz.zoo_server import variant_server
from tests.server.live import READER, WRITER
from validator import spec as spec_module
from validator.fuzz.coverage import STATE_RULES, Tally, measure, state_events
from validator.fuzz.local import reference_server
from validator.fuzz.model import predict
from validator.fuzz.run import FuzzOptions, fuzz
from validator.fuzz.steps import Step
from validator.state import Project

SCOPED = json.dumps(
    {"key": "a", "name": "a", "releaseMethod": "guarded-release", "scope": {"viewKeys": ["v"]}}
)


def test_an_empty_run_misses_every_goal_the_spec_documents() -> None:
    contract = spec_module.bundled()
    coverage = measure(contract, Tally(), [("PostReleasePolicy:name:maxLength", "outside")])
    missing = coverage.missing()
    for operation in contract.operations.values():
        assert f"{operation.operation_id} never answered 401" in missing
    assert "PostReleasePolicy never answered 409" in missing
    assert not any("500" in gap for gap in missing)  # a correct server never answers 5xx
    assert "GetReleasePolicy never answered 400" not in missing  # exempt in the spec, with its reason
    assert "constraint PostReleasePolicy:name:maxLength never swept outside" in missing
    assert len([gap for gap in missing if gap.startswith("state rule")]) == len(STATE_RULES)


def test_answers_count_for_the_operation_they_reached() -> None:
    tally = Tally()
    base = "http://127.0.0.1:1/api/v2/projects/default/release-policies"
    tally.answer("GET", base + "/order", 405)  # the reserved key, not the order operation
    tally.answer("POST", base + "/order", 413)
    tally.answer("PATCH", base + "/x", 405)  # no operation: no goal
    reached = {(o, s) for o, s, seen in measure(spec_module.bundled(), tally, []).statuses if seen}
    assert reached == {("GetReleasePolicy", "405"), ("PostReleasePoliciesOrder", "413")}


def test_state_events_name_the_rule_each_step_exercised() -> None:
    def events(project: Project, step: Step) -> set[str]:
        return state_events(project, step, predict(project, step))

    empty = Project()
    one = predict(empty, Step("create", body=SCOPED)).after
    assert events(empty, Step("create", body=SCOPED)) == {"create-scoped"}
    assert events(one, Step("create", body=SCOPED)) == {"duplicate-key"}
    assert events(one, Step("create", body=SCOPED.replace('"a"', '"A"', 1))) == {
        "create-scoped",
        "case-sensitive-key",
    }
    assert events(one, Step("get", "order")) == {"reserved-key-405"}
    assert events(one, Step("get", "zzz")) == {"unknown-policy"}
    assert events(one, Step("order", body='["a", "a"]')) == {"order-duplicate-key"}
    assert events(one, Step("order", body="[]")) == {"order-missing-key"}
    assert events(one, Step("put", "a", '{"name": "n", "releaseMethod": "guarded-release"}')) == {
        "put-to-default",
        "put-clears-block",  # the scope it left out
    }


@pytest.mark.slow
def test_a_run_of_fixed_work_reaches_full_coverage_on_the_reference_server() -> None:
    with reference_server() as target:
        result = fuzz(
            target, FuzzOptions(seed=1, max_time=600, oracle_sequences=100, phase_examples=5, fixed_work=True)
        )
    assert result.violations == ()
    assert result.coverage is not None
    assert result.coverage.missing() == []


@pytest.mark.slow
def test_require_coverage_fails_naming_the_gap_on_a_server_that_never_answers_409(tmp_path: object) -> None:
    with variant_server("conflicts-as-400") as url:
        run = subprocess.run(
            [sys.executable, "-m", "validator", "fuzz", "--url", url, "--token", WRITER,
             "--reader-token", READER, "--project", "default", "--project", "other",
             "--max-examples", "40", "--seed", "1",
             "--require-coverage", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "not exercised: PostReleasePolicy never answered 409" in run.stdout
    assert "not exercised: state rule never exercised: creating a key that exists is 409" not in run.stdout
    assert "coverage incomplete (--require-coverage)" in run.stdout
    assert "Traceback" not in run.stderr
