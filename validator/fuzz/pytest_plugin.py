"""The pytest plugin: the fuzzer's checks as tests of the user's own suite.

``pytest --release-policy-url URL --release-policy-token T`` adds the contract
tests (``validator/fuzz/contract_tests.py``: one per probe, the oracle, and
Schemathesis' phases) to the run; ``--release-policy`` adds them against the
in-process reference server. The ``release_policy_target`` fixture is also
what the reproductions a fuzz run writes use; they take the server from the
environment (``RELEASE_POLICY_URL``, ``RELEASE_POLICY_TOKEN``), like the curl
scripts, so running one does not add the whole contract suite. Nothing heavy is imported
until a test asks for it, so having the plugin installed costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from validator.fuzz.target import Target

CONTRACT_TESTS = Path(__file__).with_name("contract_tests.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("release-policy", "release-policies contract checks")
    group.addoption(
        "--release-policy",
        action="store_true",
        help="add the contract checks (no URL: the reference server)",
    )
    group.addoption("--release-policy-url", metavar="URL", help="the server's root; adds the contract checks")
    group.addoption("--release-policy-token", metavar="T", help="a writer token (or RELEASE_POLICY_TOKEN)")
    group.addoption(
        "--release-policy-reader-token", metavar="T", help="a reader token (or RELEASE_POLICY_READER_TOKEN)"
    )
    group.addoption(
        "--release-policy-project", action="append", metavar="KEY", help="the project (twice: isolation too)"
    )
    group.addoption("--release-policy-seed", type=int, default=0, metavar="N", help="the seed (default 0)")
    group.addoption(
        "--release-policy-max-time", type=float, default=60.0, metavar="S", help="oracle and phases budget"
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("release_policy") or config.getoption("release_policy_url"):
        config.args.append(str(CONTRACT_TESTS))


@pytest.fixture(scope="session")
def release_policy_target(pytestconfig: pytest.Config) -> Iterator[Target]:
    """The server under test: ``--release-policy-url``, or a fresh in-process reference server."""
    from validator.fuzz.local import reference_server
    from validator.fuzz.target import Target

    url = pytestconfig.getoption("release_policy_url") or os.environ.get("RELEASE_POLICY_URL")
    if not url:
        with reference_server() as local:
            yield local
        return
    token = pytestconfig.getoption("release_policy_token") or os.environ.get("RELEASE_POLICY_TOKEN")
    if not token:
        raise pytest.UsageError("a release-policy URL needs --release-policy-token (or RELEASE_POLICY_TOKEN)")
    reader = pytestconfig.getoption("release_policy_reader_token") or os.environ.get(
        "RELEASE_POLICY_READER_TOKEN"
    )
    projects = tuple(dict.fromkeys(pytestconfig.getoption("release_policy_project") or ["default"]))
    yield Target(url.rstrip("/"), token, projects, reader)
