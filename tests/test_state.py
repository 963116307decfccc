"""The contract's state rules, as the server and the fuzzer's oracle share them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.support import rank_problems
from validator import spec
from validator.state import Conflict, InvalidOrder, NotFound, Policy, Project, StateError, stored_fields

SCOPED = {"name": "n", "releaseMethod": "progressive-release", "scope": {"environmentKeys": ["p"]}}
DEFAULT = {"name": "d", "releaseMethod": "progressive-release"}


def build(*keys: str, default: str | None = None) -> Project:
    project = Project()
    if default:
        project, _ = project.create(f"id-{default}", default, DEFAULT)
    for key in keys:
        project, _ = project.create(f"id-{key}", key, SCOPED)
    return project


def ranks(project: Project) -> dict[str, int]:
    return {policy.key: policy.rank for policy in project.policies}


def test_create_appends_scoped_and_puts_default_at_zero() -> None:
    project = build("a", "b", default="d")
    assert ranks(project) == {"d": 0, "a": 1, "b": 2}
    assert [p.key for p in project.policies] == ["d", "a", "b"]


def test_null_scope_is_the_default_policy() -> None:
    project, policy = Project().create("1", "d", {**DEFAULT, "scope": None})
    assert policy.is_default
    assert policy.rank == 0
    assert project.default == policy


def test_duplicate_key_conflicts() -> None:
    with pytest.raises(Conflict, match="exists already"):
        build("a").create("other-id", "a", DEFAULT)


def test_a_refusal_changes_nothing_because_a_project_cannot_change_in_place() -> None:
    # "A refused request changes nothing" holds by construction: every operation returns a new value.
    project = build("a", default="d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.policies = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.policies[0].rank = 5  # type: ignore[misc]
    assert isinstance(project.policies, tuple)


def test_keys_are_case_sensitive() -> None:
    assert ranks(build("a", "A")) == {"a": 1, "A": 2}


def test_second_default_conflicts() -> None:
    project = build(default="d")
    with pytest.raises(Conflict, match="default policy already"):
        project.create("2", "e", DEFAULT)
    project = build("a", default="d")
    with pytest.raises(Conflict):
        project.update("a", DEFAULT)


def test_delete_closes_the_gap() -> None:
    assert ranks(build("a", "b", "c", default="d").delete("b")) == {"d": 0, "a": 1, "c": 2}
    assert ranks(build("a", default="d").delete("d")) == {"a": 1}
    with pytest.raises(NotFound):
        build("a").delete("zz")


def test_update_keeps_rank_while_scoped() -> None:
    project, policy = build("a", "b", "c").update("b", {**SCOPED, "name": "renamed"})
    assert (policy.rank, policy.fields["name"]) == (2, "renamed")
    assert ranks(project) == {"a": 1, "b": 2, "c": 3}


def test_update_into_default_closes_gap_and_back_appends() -> None:
    project, policy = build("a", "b", "c").update("a", DEFAULT)
    assert policy.rank == 0
    assert ranks(project) == {"a": 0, "b": 1, "c": 2}
    project, policy = project.update("a", SCOPED)
    assert ranks(project) == {"b": 1, "c": 2, "a": 3}


def test_update_replaces_left_out_blocks() -> None:
    full = {**SCOPED, "progressiveReleaseConfig": {"stages": [{"allocation": 1, "durationMillis": 1}]}}
    project, _ = Project().create("1", "a", full)
    project, policy = project.update("a", SCOPED)
    assert "progressiveReleaseConfig" not in policy.to_json()
    assert (policy.id, policy.key) == ("1", "a")


def test_order_ranks_exactly() -> None:
    project, ordered = build("a", "b", "c", default="d").reorder(["c", "a", "b"])
    assert [(p.key, p.rank) for p in ordered] == [("c", 1), ("a", 2), ("b", 3)]
    assert ranks(project) == {"d": 0, "c": 1, "a": 2, "b": 3}


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["a", "b"], "Missing policy key c"),
        (["a", "b", "c", "x"], "Unknown policy key x"),
        (["a", "b", "c", "d"], "Default policy key is not allowed in ordering"),
        (["a", "a", "b", "c"], "Duplicate policy key a"),
    ],
)
def test_order_refusals(keys: list[str], message: str) -> None:
    with pytest.raises(InvalidOrder, match=message) as caught:
        build("a", "b", "c", default="d").reorder(keys)
    assert caught.value.status == 400


def test_empty_order_for_no_scoped_policy() -> None:
    project, ordered = build(default="d").reorder([])
    assert (ordered, ranks(project)) == ((), {"d": 0})


def test_listing_and_json() -> None:
    project = build("a", default="d")
    assert [p.key for p in project.listing(exclude_default=True)] == ["a"]
    assert project.get("a").to_json() == {"_id": "id-a", "key": "a", "rank": 1, **SCOPED}


def test_stored_fields_are_the_body_but_its_key() -> None:
    # The body arrives stripped of undeclared members: what remains is the spec's to say.
    body = {"key": "k", **SCOPED, "guardedReleaseConfig": None}
    assert stored_fields(body) == {**SCOPED, "guardedReleaseConfig": None}


def test_errors_carry_a_status_the_spec_gives_a_code() -> None:
    errors = (NotFound("x", "a"), Conflict("x", "b"), InvalidOrder("x", "c"))
    codes = spec.bundled().error_codes
    assert [(e.status, codes[e.status], e.rule) for e in errors] == [
        (404, "not_found", "a"),
        (409, "conflict", "b"),
        (400, "invalid_request", "c"),
    ]


def test_each_refusal_names_its_rule() -> None:
    project, _ = Project().create("1", "a", SCOPED)
    project, _ = project.create("2", "d", {"name": "d", "releaseMethod": "guarded-release"})
    refusals: dict[str, Callable[[], object]] = {
        "unknown-policy": lambda: project.get("x"),
        "duplicate-key": lambda: project.create("3", "a", SCOPED),
        "second-default": lambda: project.create("3", "e", {"name": "e", "releaseMethod": "guarded-release"}),
        "order-duplicate-key": lambda: project.reorder(["a", "a"]),
        "order-default-key": lambda: project.reorder(["d", "a"]),
        "order-unknown-key": lambda: project.reorder(["a", "z"]),
        "order-missing-key": lambda: project.reorder([]),
    }
    for named, refused in refusals.items():
        with pytest.raises(StateError) as raised:
            refused()
        assert raised.value.rule == named


def test_rank_problems_are_reported() -> None:
    broken = Project((Policy("1", "a", 1, SCOPED), Policy("2", "b", 3, SCOPED), Policy("3", "d", 2, DEFAULT)))
    assert rank_problems(broken) == [
        "default policy d has rank 2, not 0",
        "scoped ranks are [1, 3], not 1..2",
    ]


KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
BODIES = st.sampled_from([SCOPED, DEFAULT, {**SCOPED, "scope": {"viewKeys": ["v"]}}])


class ProjectMachine(RuleBasedStateMachine):
    """Any sequence of operations keeps the invariants; a refused one changes nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.project = Project()
        self.created = 0

    def attempt(self, operation: Any) -> None:
        before = self.project
        try:
            self.project = operation()
        except StateError:
            assert self.project == before

    @rule(key=KEYS, body=BODIES)
    def create(self, key: str, body: dict[str, Any]) -> None:
        self.created += 1
        self.attempt(lambda: self.project.create(str(self.created), key, body)[0])

    @rule(key=KEYS, body=BODIES)
    def update(self, key: str, body: dict[str, Any]) -> None:
        self.attempt(lambda: self.project.update(key, body)[0])

    @rule(key=KEYS)
    def delete(self, key: str) -> None:
        self.attempt(lambda: self.project.delete(key))

    @rule(keys=st.lists(KEYS, max_size=6), shuffle=st.randoms(use_true_random=False))
    def order(self, keys: list[str], shuffle: Any) -> None:
        exact = [p.key for p in self.project.scoped]
        shuffle.shuffle(exact)
        self.attempt(lambda: self.project.reorder(exact)[0])
        self.attempt(lambda: self.project.reorder(keys)[0])

    @invariant()
    def ranks_are_contiguous(self) -> None:
        assert rank_problems(self.project) == []


TestProjectMachine = ProjectMachine.TestCase
TestProjectMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
