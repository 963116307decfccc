"""Proof of power: at a fixed seed and amount of work, the fuzzer finds every zoo variant, and nothing else.

Each variant breaks one contract rule of a different kind and runs in its own
process (``zoo_server.py``); the whole fuzzer (probes, oracle, Schemathesis)
runs against it, and one of the checks the variant lists must report it.
"""

from __future__ import annotations

import pytest

from tests.fuzz.zoo import ZOO
from tests.fuzz.zoo_server import variant_server
from tests.server.live import READER, WRITER
from validator.fuzz.run import FuzzOptions, FuzzResult, fuzz
from validator.fuzz.target import Target

#: The fixed budget of every zoo run: small enough for CI, the same on every machine.
BUDGET = FuzzOptions(seed=20261125, max_time=600, oracle_sequences=250, phase_examples=5, fixed_work=True)


def _fuzz(name: str, options: FuzzOptions = BUDGET) -> FuzzResult:
    with variant_server(name) as url:
        return fuzz(Target(url, WRITER, ("default", "other"), READER), options)


def test_the_zoo_covers_every_kind_of_rule_the_issue_names() -> None:
    kinds = {variant.kind for variant in ZOO.values()}
    assert kinds >= {
        "validation gap", "status codes", "response shape", "persistence", "uniqueness", "default policy",
        "ranks", "order", "PUT semantics", "delete", "list", "auth", "roles", "headers", "content type",
        "error shape", "isolation", "concurrency", "robustness",
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ZOO))
def test_each_variant_is_found(name: str) -> None:
    result = _fuzz(name)
    # The state tour judges with the oracle's model and names its checks by the same rules.
    found = {violation.check.replace("tour:", "oracle:", 1) for violation in result.violations}
    assert found & ZOO[name].catches, f"{name} went unnoticed; found only {sorted(found)}"
    assert all(v.rule and v.message and v.exchanges for v in result.violations)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_the_correct_server_yields_nothing(seed: int) -> None:
    result = _fuzz(
        "correct",
        FuzzOptions(seed=seed, max_time=600, oracle_sequences=150, phase_examples=5, fixed_work=True),
    )
    assert [(v.check, v.message) for v in result.violations] == []
    assert result.errors == ()
    assert result.stats["oracle sequences"] == 150
    assert result.stats["schemathesis test cases"] > 100
