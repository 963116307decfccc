"""The contract checks as pytest tests; the plugin adds this module to a run that asks for it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from validator.fuzz.probes import PROBES, Probe
from validator.fuzz.target import Session, Target
from validator.fuzz.violation import Violation


def _describe(violations: Sequence[Violation]) -> str:
    return "\n\n".join(f"{v.check}: {v.message}\n  rule {v.rule}: {v.words}" for v in violations)


@pytest.fixture(scope="module")
def session(release_policy_target: Target) -> Iterator[Session]:
    from validator.fuzz.run import TargetError, preflight

    with Session(release_policy_target) as checked:
        try:
            preflight(checked, reset=False)
        except TargetError as error:
            pytest.fail(str(error), pytrace=False)
        yield checked


def test_boundary_sweep(session: Session) -> None:
    from validator.fuzz.sweep import run_sweep

    result = run_sweep(session)
    assert not result.errors, "\n".join(result.errors)
    assert not result.violations, _describe(result.violations)


@pytest.mark.parametrize("probe", PROBES, ids=[probe.id for probe in PROBES])
def test_probe(session: Session, probe: Probe) -> None:
    from validator.fuzz.probes import run_probes

    target = session.target
    if probe.unmet(target):
        pytest.skip(f"{probe.id} needs {probe.unmet(target)}")
    violations, _ = run_probes(session, only=probe.id)
    assert not violations, _describe(violations)


def test_oracle(session: Session, pytestconfig: pytest.Config) -> None:
    from validator.fuzz.oracle import run_oracle

    result = run_oracle(
        session,
        seed=pytestconfig.getoption("release_policy_seed"),
        max_examples=pytestconfig.getoption("release_policy_max_examples") or 1_000_000,
        max_time=pytestconfig.getoption("release_policy_max_time") / 2,
    )
    assert result.sequences > 0
    assert not result.violations, _describe(result.violations)


def test_schemathesis_phases(session: Session, pytestconfig: pytest.Config) -> None:
    from validator.fuzz.phases import run_phases

    result = run_phases(
        session.target,
        seed=pytestconfig.getoption("release_policy_seed"),
        max_examples=pytestconfig.getoption("release_policy_max_examples") or 25,
        max_time=pytestconfig.getoption("release_policy_max_time") / 2,
    )
    assert not result.errors, "\n".join(result.errors)
    assert not result.violations, _describe(result.violations)
