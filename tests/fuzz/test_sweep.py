"""The boundary sweep: derived from the spec alone, the same every time, silent on the reference server,
and it finds every constraint a server does not enforce (spec mutants generated from the spec)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.fuzz.spec_mutants import EQUIVALENT, mutants
from tests.fuzz.zoo_server import variant_server
from tests.server.live import WRITER, LiveServer
from validator import spec as spec_module
from validator.documents import Document
from validator.fuzz.boundaries import plan
from validator.fuzz.sweep import plans, run_sweep
from validator.fuzz.target import Session, Target
from validator.schema_errors import schema_errors
from validator.spec import Spec


def _copy(change: Any) -> Spec:
    data = copy.deepcopy(dict(spec_module.bundled().data))
    change(data["components"]["schemas"])
    return Spec(Document("changed copy", data, (), lambda: ({}, {})))


def test_every_constraint_of_the_bundled_spec_is_swept_on_both_sides() -> None:
    for swept in plans(spec_module.bundled()):
        assert swept.unswept == ()
        sides = {(constraint.keyword, side) for constraint, side in swept.goals}
        assert ("type", "outside") in sides
    create = plan(spec_module.bundled(), "PostReleasePolicy")
    goals = {(c.id, side) for c, side in create.goals}
    for place, keyword in [
        ("name", "maxLength"), ("releaseMethod", "enum"), ("scope", "anyOf"), ("key", "not"),
        ("guardedReleaseConfig.stages[0].allocation", "maximum"), ("guardedReleaseConfig.stages", "maxItems"),
        ("scope.environmentKeys", "uniqueItems"),
        ("progressiveReleaseConfig.stages[0]", "required=allocation"),
    ]:  # fmt: skip
        assert (f"PostReleasePolicy:{place}:{keyword}", "outside") in goals


def test_each_body_is_valid_inside_and_breaks_its_constraint_outside() -> None:
    contract = spec_module.bundled()
    for swept in plans(contract):
        validator = contract.request_validator(swept.operation_id)
        for case in swept.cases:
            broken = {(error.path, error.keyword) for error in schema_errors(validator, case.body)}
            if case.side == "inside":
                assert broken == set(), (case.label, broken)
                continue
            for constraint in case.credits:
                keyword = constraint.keyword
                assert (constraint.path, keyword) in broken, (constraint.id, case.label, broken)
                # Only what the label admits: "(also breaks pattern)" when no value can avoid it.
                assert len(broken) == 1 or "also breaks" in case.label, (constraint.id, case.label)


def test_lengths_count_characters_not_bytes() -> None:
    create = plan(spec_module.bundled(), "PostReleasePolicy")
    names = [c.body["name"] for c in create.cases if c.credits and c.credits[0].id.endswith("name:maxLength")]
    assert sorted(len(name) for name in names) == [256, 257]
    assert all(len(name.encode()) > len(name) for name in names)  # multi-byte characters


def test_the_plan_is_the_same_every_time() -> None:
    first = [(c.side, c.label, c.body) for p in plans(spec_module.bundled()) for c in p.cases]
    assert first == [(c.side, c.label, c.body) for p in plans(_copy(lambda schemas: None)) for c in p.cases]


@pytest.mark.slow
def test_a_constraint_added_to_a_copy_of_the_spec_is_swept(server: LiveServer) -> None:
    def tighten(schemas: dict[str, Any]) -> None:
        schemas["ReleasePolicyStage"]["properties"]["allocation"]["multipleOf"] = 1000
        schemas["ReleasePolicyName"]["pattern"] = "^[^<>]*$"

    changed = _copy(tighten)
    goals = {(c.id, side) for p in plans(changed) for c, side in p.goals}
    assert ("PutReleasePolicy:guardedReleaseConfig.stages[0].allocation:multipleOf", "outside") in goals
    assert ("PostReleasePolicy:name:pattern", "outside") in goals
    # The reference server keeps the bundled spec, so against the copy it has exactly these gaps.
    with Session(Target(server.url, WRITER)) as session:
        result = run_sweep(session, changed)
    found = {v.check.split(":", 2)[2] for v in result.violations}
    assert found == {"name:pattern", "guardedReleaseConfig.stages[0].allocation:multipleOf",
                     "progressiveReleaseConfig.stages[0].allocation:multipleOf"}  # fmt: skip
    assert all(v.rule and v.exchanges for v in result.violations)


def test_a_keyword_the_sweep_cannot_build_values_for_is_reported_unswept() -> None:
    def widen(schemas: dict[str, Any]) -> None:
        schemas["ReleasePolicyScope"]["minProperties"] = 1

    unswept = {c.id for p in plans(_copy(widen)) for c, _ in p.unswept}
    assert unswept == {"PostReleasePolicy:scope:minProperties", "PutReleasePolicy:scope:minProperties"}


def test_the_reference_server_keeps_every_constraint(server: LiveServer) -> None:
    with Session(Target(server.url, WRITER)) as session:
        first = run_sweep(session)
        second = run_sweep(session)
    assert [(v.check, v.message) for v in first.violations] == []
    goals = {(c.id, side) for p in first.plans for c, side in p.goals}
    assert first.exercised == goals
    assert (first.requests, first.exercised) == (second.requests, second.exercised)


#: The gaps a user found unnoticed before the sweep existed, as spec mutants.
REPORTED = (
    "/components/schemas/ReleasePolicyName/maxLength",
    "/components/schemas/ReleaseMethod/enum",
    "/components/schemas/ReleasePolicyStage/properties/allocation/maximum",
    "/components/schemas/ReleasePolicyStages/maxItems",
    "/components/schemas/ResourceKeyList/uniqueItems",
)


def _swept(name: str) -> set[str]:
    with variant_server(name) as url, Session(Target(url, WRITER)) as session:
        return {violation.check for violation in run_sweep(session).violations}


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTED)
def test_the_reported_validation_gaps_are_found(name: str) -> None:
    assert _swept(name)


def test_the_mutants_cover_the_spec() -> None:
    assert set(REPORTED) | set(EQUIVALENT) <= set(mutants())
    assert len(mutants()) > 50


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(mutants()) - set(EQUIVALENT)))
def test_each_spec_mutant_is_found(name: str) -> None:
    assert _swept(name), f"{name} went unnoticed"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EQUIVALENT))
def test_equivalent_mutants_are_truly_equivalent(name: str) -> None:
    assert _swept(name) == set(), f"{name} is found, so it is not equivalent: {EQUIVALENT[name]}"
