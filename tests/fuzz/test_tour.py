"""The state tour: every state rule of the contract exercised in every run, silent on the reference server."""

from __future__ import annotations

import pytest

from tests.fuzz.zoo_server import variant_server
from tests.server.live import WRITER, LiveServer
from validator.fuzz.coverage import STATE_RULES
from validator.fuzz.target import Session, Target
from validator.fuzz.tour import run_tour


def test_the_tour_exercises_every_state_rule_and_the_reference_server_keeps_them(server: LiveServer) -> None:
    with Session(Target(server.url, WRITER)) as session:
        violations, steps = run_tour(session)
        assert [(v.check, v.message) for v in violations] == []
        assert steps == {}
        assert session.tally.rules >= set(STATE_RULES)


@pytest.mark.parametrize(
    ("variant", "check"),
    [
        ("two-defaults", "tour:one-default"),
        ("delete-leaves-gap", "tour:ranks"),
        ("order-ignored", "tour:ranks"),
    ],
)
def test_a_broken_state_rule_is_found_and_replays(variant: str, check: str) -> None:
    with variant_server(variant) as url, Session(Target(url, WRITER)) as session:
        violations, steps = run_tour(session)
    assert [v.check for v in violations] == [check]
    assert violations[0].exchanges
    assert list(steps) == [check]
