"""The contract probes: nothing found on the reference server, every zoo variant found by its probe."""

from __future__ import annotations

import pytest

from tests.fuzz.zoo import ZOO
from tests.server.live import PROJECTS, READER, WRITER, LiveServer, live_server
from validator.fuzz.probes import run_probes
from validator.fuzz.target import Session, Target


def target(server: LiveServer, *, reader: bool = True, projects: int = 2) -> Target:
    return Target(server.url, WRITER, tuple(sorted(PROJECTS))[:projects], READER if reader else None)


def test_reference_server_keeps_every_probed_rule(server: LiveServer) -> None:
    violations, skipped = run_probes(Session(target(server)))
    assert [(v.check, v.message) for v in violations] == []
    assert skipped == []
    # the probes cleaned up after themselves
    assert Session(target(server)).request("GET", target(server).policies()).json()["totalCount"] == 0


def test_probes_that_cannot_run_are_reported(server: LiveServer) -> None:
    _, skipped = run_probes(Session(target(server, reader=False, projects=1)))
    assert skipped == ["reader-cannot-write", "isolation"]


@pytest.mark.parametrize("name", sorted(ZOO))
def test_each_zoo_variant_is_found_by_its_probe(name: str) -> None:
    probe_id, wrap = ZOO[name]
    with live_server(wrap=wrap) as broken:
        violations, _ = run_probes(Session(target(broken)))
    found = [v for v in violations if v.check == probe_id]
    assert found, f"{name} went unnoticed; found only {sorted({v.check for v in violations})}"
    assert all(v.rule and v.message and v.exchanges for v in found)
