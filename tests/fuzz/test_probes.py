"""The contract probes on the reference server: nothing found, nothing left behind (zoo: test_zoo.py)."""

from __future__ import annotations

from tests.fuzz.zoo_server import variant_server
from tests.server.live import PROJECTS, READER, WRITER, LiveServer
from validator import spec as spec_module
from validator.fuzz.coverage import measure
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


def test_the_probes_reach_each_status_every_operation_documents_for_them(server: LiveServer) -> None:
    """401, 403, 404 and 413 on every operation of the spec that documents them, and the bad query's 400."""
    with Session(target(server)) as session:
        run_probes(session)
    coverage = measure(spec_module.bundled(), session.tally, [])
    probed = {"401", "403", "404", "413"}
    missing = [(op, status) for op, status, seen in coverage.statuses if status in probed and not seen]
    assert missing == []
    assert ("GetReleasePolicies", "400", True) in coverage.statuses


def test_a_server_that_serves_any_project_is_found() -> None:
    with variant_server("any-project") as url, Session(Target(url, WRITER, ("default", "other"))) as session:
        violations, _ = run_probes(session, only="unknown-project")
    assert len(violations) == len(spec_module.bundled().operations)  # each operation answered it
    assert all(v.check == "unknown-project" and "expected 404" in v.message for v in violations)
