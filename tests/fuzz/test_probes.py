"""The contract probes on the reference server: nothing found, nothing left behind (zoo: test_zoo.py)."""

from __future__ import annotations

from tests.server.live import PROJECTS, READER, WRITER, LiveServer
from validator.fuzz.probes import run_probes
from validator.fuzz.target import Session, Target


def target(server: LiveServer, *, reader: bool = True, projects: int = 2) -> Target:
    return Target(server.url, WRITER, tuple(sorted(PROJECTS))[:projects], READER if reader else None)


def test_reference_server_keeps_every_probed_rule(server: LiveServer) -> None:
    with Session(target(server)) as session:
        violations, skipped = run_probes(session)
    assert [(v.check, v.message) for v in violations] == []
    assert skipped == []
    # the probes cleaned up after themselves
    with Session(target(server)) as session:
        assert session.request("GET", target(server).policies()).json()["totalCount"] == 0


def test_probes_that_cannot_run_are_reported(server: LiveServer) -> None:
    with Session(target(server, reader=False, projects=1)) as session:
        _, skipped = run_probes(session)
    assert skipped == ["reader-cannot-write", "isolation"]
