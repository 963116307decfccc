"""Shards: a deterministic partition of a run's work, with no overlap and nothing left out."""

from __future__ import annotations

import pytest

from validator import spec as spec_module
from validator.fuzz.phases import STATEFUL, _parts
from validator.fuzz.probes import PROBES
from validator.fuzz.shard import Shard, parse
from validator.fuzz.sweep import _case_name, plans


@pytest.mark.parametrize("count", [1, 2, 4, 7])
def test_the_shards_deal_every_item_to_exactly_one_of_them(count: int) -> None:
    cases = [case for plan in plans(spec_module.bundled()) for case in plan.cases]
    names = [_case_name(case) for case in cases]
    dealt = [Shard(index, count).mine(cases, _case_name) for index in range(1, count + 1)]
    assert sorted(_case_name(case) for part in dealt for case in part) == sorted(names)
    # Both sides of one constraint go to one shard, and the shards are within one constraint of even.
    owners = {_case_name(case): index for index, part in enumerate(dealt) for case in part}
    sizes = [sum(1 for owner in owners.values() if owner == index) for index in range(count)]
    assert max(sizes) - min(sizes) <= 1
    probes = [Shard(index, count).mine(PROBES, lambda probe: probe.id) for index in range(1, count + 1)]
    assert sorted(probe.id for part in probes for probe in part) == sorted(probe.id for probe in PROBES)


def test_the_partition_is_the_same_on_every_call_and_keeps_the_items_order() -> None:
    items = ["echo", "alpha", "charlie", "bravo", "delta"]
    assert Shard(2, 3).mine(items) == Shard(2, 3).mine(list(items)) == ["echo", "bravo"]
    assert Shard().mine(items) == items


def test_the_oracle_batches_of_the_shards_are_those_of_one_longer_run() -> None:
    seeds = sorted(Shard(index, 4).batch_seed(9, batch) for index in range(1, 5) for batch in range(3))
    assert seeds == [Shard().batch_seed(9, batch) for batch in range(12)]


def test_schemathesis_operations_and_the_stateful_phase_are_dealt_once() -> None:
    operations = {op.operation_id for op in spec_module.bundled().operations.values()}
    left_out: dict[str, int] = {}
    stateful = 0
    for index in range(1, 5):
        for others, phases in _parts(Shard(index, 4)):
            if phases.get(STATEFUL, {}).get("enabled", True):
                stateful += 1
                assert others == []
            else:
                for operation in operations - set(others):
                    left_out[operation] = left_out.get(operation, 0) + 1
    assert stateful == 1
    assert left_out == dict.fromkeys(operations, 1)
    assert _parts(Shard()) == [([], {})]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0/4", "between 1 and N"),
        ("5/4", "between 1 and N"),
        ("2", "I/N"),
        ("a/b", "I/N"),
        ("1/0", "between"),
    ],
)
def test_a_bad_shard_is_refused_with_its_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse(text)


def test_a_shard_is_spelled_as_given() -> None:
    assert str(parse(" 3/8 ")) == "3/8"
