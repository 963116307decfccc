"""Every key a run chooses carries the run's prefix, so a shared project shows whose policies they are.

The keys a run cannot choose are the exceptions, named here from the spec alone: the sweep's cases about
the key itself (its length and pattern are the point) and the keys of the spec's examples.
"""

from __future__ import annotations

import pytest

from tests.fuzz.test_phases import _create_answers
from tests.server.live import READER, WRITER, live_server
from validator import spec as spec_module
from validator.fuzz.phases import _example_strings
from validator.fuzz.run import FuzzOptions, fuzz, key_prefix
from validator.fuzz.sweep import plans
from validator.fuzz.target import Target

pytestmark = pytest.mark.slow


def _not_chosen() -> set[str]:
    """The sweep's keys that are the point of their case, and every string of the spec's examples."""
    about_the_key = {
        case.body["key"]
        for swept in plans(spec_module.bundled())
        for case in swept.cases
        if isinstance(case.body, dict)
        and isinstance(case.body.get("key"), str)
        and any(credit.path == ("key",) for credit in case.credits)
    }
    return about_the_key | set(_example_strings())


@pytest.mark.parametrize("seed", [11, 2**32 - 1])
def test_every_key_a_run_creates_carries_its_prefix(seed: int) -> None:
    answers: list[tuple[object, int, bytes]] = []
    options = FuzzOptions(seed=seed, max_time=600, oracle_sequences=5, phase_examples=2, fixed_work=True)
    with live_server(wrap=_create_answers(answers)) as server:
        result = fuzz(Target(server.url, WRITER, ("default", "other"), READER), options)
    assert [(v.check, v.message) for v in result.violations] == []
    created = {key for key, status, _ in answers if status == 201 and isinstance(key, str)}
    prefix = key_prefix(seed) + "-"
    mine = {key for key in created if key.startswith(prefix)}
    assert created - mine <= _not_chosen(), sorted(created - mine - _not_chosen())[:10]
    # Every source chose keys of its own: the sweep, the tour, the probes, the oracle and Schemathesis.
    for source in ("sweep-", "tour-", "Tour-", "probe-", "st-"):
        assert any(key[len(prefix) :].startswith(source) for key in mine), source
    assert any(key[len(prefix) :] in ("alpha", "Alpha", "beta", "gamma") for key in mine)  # the oracle's
