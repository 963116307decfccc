"""The model-based oracle: silent on the reference server, exact by hand, minimal when shrunk."""

from __future__ import annotations

import json

import pytest

from tests.fuzz.zoo_server import variant_server
from tests.server.live import WRITER, LiveServer
from validator.fuzz.judge import same
from validator.fuzz.model import predict
from validator.fuzz.oracle import replay, run_oracle
from validator.fuzz.shrink import ddmin, simplify
from validator.fuzz.steps import Step
from validator.fuzz.target import Session, Target
from validator.state import Project


def _scoped(key: str, **extra: object) -> str:
    body = {"key": key, "name": key, "releaseMethod": "guarded-release", "scope": {"viewKeys": ["v"]}}
    return json.dumps({**body, **extra})


@pytest.mark.parametrize(
    "seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_reference_server_yields_nothing(server: LiveServer, seed: int) -> None:
    with Session(Target(server.url, WRITER)) as session:
        result = run_oracle(session, seed=seed, max_examples=60, max_time=120)
    assert result.sequences == 60
    assert result.requests > 60 * 3  # a reset, some steps and the final list each
    assert [(v.check, v.message) for v in result.violations] == []


@pytest.mark.slow
def test_a_search_is_the_same_for_the_same_seed(server: LiveServer) -> None:
    with Session(Target(server.url, WRITER)) as session:
        first = run_oracle(session, seed=5, max_examples=15, max_time=120)
        second = run_oracle(session, seed=5, max_examples=15, max_time=120)
    assert first.requests == second.requests


def test_predictions_follow_the_contracts_order_of_checks() -> None:
    project = Project()
    assert predict(project, Step("get", "order")).status == 405
    # an unknown policy is 404 before its body is judged
    assert predict(project, Step("put", "missing", body='{"name": ""}')).status == 404
    created = predict(project, Step("create", body=_scoped("a")))
    assert (created.status, created.body["rank"]) == (201, 1)
    again = predict(created.after, Step("create", body=_scoped("a")))
    assert (again.status, again.rule) == (409, "unique-keys")
    reserved = predict(project, Step("create", body=_scoped("order")))
    assert (reserved.status, reserved.rule) == (400, "reserved-key")
    missing = predict(created.after, Step("order", body="[]"))
    assert (missing.status, missing.rule, missing.after) == (400, "order-rejects", created.after)


def test_unknown_fields_are_predicted_dropped() -> None:
    created = predict(Project(), Step("create", body=_scoped("a", rollbackOnRegresion=True)))
    assert "rollbackOnRegresion" not in created.body


def test_json_equality_tells_booleans_from_numbers() -> None:
    assert same({"a": [1000, True]}, {"a": [1000.0, True]})
    assert not same(True, 1)
    assert not same({"a": 1}, {"a": 1, "b": None})
    assert not same([1, 2], [2, 1])


def test_a_broken_rule_is_named_on_a_hand_made_sequence() -> None:
    steps = [Step("create", body=_scoped("a")), Step("create", body=_scoped("b")), Step("delete", "a")]
    with variant_server("delete-leaves-gap") as url, Session(Target(url, WRITER)) as session:
        failure = replay(session, [*steps, Step("get", "b")])
    assert failure is not None
    assert failure.verdict.rule == "ranks"
    assert failure.verdict.message == "GET /b: b.rank is 2, expected 1"
    assert len(failure.exchanges) == 4


@pytest.mark.slow
def test_the_search_shrinks_what_it_finds_to_a_minimal_sequence() -> None:
    with variant_server("put-merges") as url, Session(Target(url, WRITER)) as session:
        result = run_oracle(session, seed=7, max_examples=150, max_time=120)
        violation = next(v for v in result.violations if v.check == "oracle:put-replaces")
        steps = result.steps["oracle:put-replaces"]
        # a create and a PUT that leaves a block out: nothing shorter shows a PUT that merges
        assert [step.kind for step in steps] == ["create", "put"]
        assert violation.rule == "put-replaces"
        assert len(violation.exchanges) == 2
        again = replay(session, steps)
    assert again is not None
    assert again.verdict.rule == "put-replaces"


def test_ddmin_finds_the_two_items_that_matter_within_its_budget() -> None:
    calls = []

    def attempt(items: object) -> list[int] | None:
        calls.append(items)
        kept = list(items)  # type: ignore[call-overload]
        return kept if 3 in kept and 7 in kept else None

    smallest, left = ddmin(list(range(10)), attempt, budget=100)
    assert smallest == [3, 7]
    assert left == 100 - len(calls)
    assert ddmin(list(range(10)), attempt, budget=2)[1] == 0


def test_simplify_keeps_only_failing_variants() -> None:
    def attempt(items: object) -> list[str] | None:
        kept = list(items)  # type: ignore[call-overload]
        return kept if any("x" in item for item in kept) else None

    def shorter(item: str) -> list[str]:
        return [item[:i] + item[i + 1 :] for i in range(len(item))]

    # each item as short as the failure allows: "ef" plays no part, so it empties
    assert simplify(["abxcd", "ef"], shorter, attempt, budget=100) == ["x", ""]
    assert simplify(["abxcd"], shorter, attempt, budget=1) == ["bxcd"]
