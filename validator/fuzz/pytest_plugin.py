"""The pytest plugin: the fuzzer's checks as tests of the user's own suite.

``pytest --release-policy-url URL --release-policy-token T`` adds the contract
tests (``validator/fuzz/contract_tests.py``: one per probe, the oracle, and
Schemathesis' phases) to the run; ``--release-policy`` adds them against the
in-process reference server. The ``release_policy_target`` fixture is also
what the reproductions a fuzz run writes use; they take the server from the
environment (``RELEASE_POLICY_URL``, ``RELEASE_POLICY_TOKEN``), like the curl
scripts, so running one does not add the whole contract suite. Nothing heavy is imported
until a test asks for it, so having the plugin installed costs nothing.

Under pytest-xdist (``-n N``) the contract checks are not test items (xdist would run each on
one worker) but one fuzz run split in shards: the controller picks the seed and hands each
worker its shard (worker ``i`` of ``N`` is ``--shard i/N``) through ``workerinput``; each
worker runs its shard after its tests and sends back its JSON report; the controller merges
them (``merge``: each violation once), prints the merged violations and coverage once, writes
the merged reports on request, and fails the session if the merge found a violation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from validator.fuzz.run import FuzzResult
    from validator.fuzz.target import Target

CONTRACT_TESTS = Path(__file__).with_name("contract_tests.py")
#: What the controller hands a worker (``workerinput``) and a worker sends back (``workeroutput``).
SEED, SHARD, REPORT, ERROR = (f"release_policy_{name}" for name in ("seed", "shard", "report", "error"))
#: The shards' JSON reports (or why a shard has none), as the controller hears of them.
_HEARD = pytest.StashKey[list[tuple[str, str]]]()
_MERGED = pytest.StashKey["FuzzResult"]()


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
    group.addoption(
        "--release-policy-max-examples",
        type=int,
        metavar="N",
        help="a fixed amount of work instead of the time budget: N oracle sequences and N examples",
    )
    group.addoption(
        "--release-policy-report-dir",
        metavar="DIR",
        help="under xdist: the merged result's reports (json, junit, sarif, markdown) in DIR",
    )


def _controller(config: pytest.Config) -> bool:
    """Whether this process hands the tests to xdist workers (as xdist itself tells)."""
    distributed = config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))
    return distributed and not hasattr(config, "workerinput")


def _worker_shard(config: pytest.Config) -> dict[str, Any] | None:
    """What the controller handed this xdist worker, if it is one running a shard."""
    handed: dict[str, Any] = getattr(config, "workerinput", {})
    return handed if SHARD in handed else None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not (config.getoption("release_policy") or config.getoption("release_policy_url")):
        return
    if _controller(config):
        workers = int(config.getoption("numprocesses") or 1)
        projects = config.getoption("release_policy_project") or ["default"]
        if config.getoption("release_policy_url") and len(dict.fromkeys(projects)) < workers:
            # Every shard empties and refills the project it owns: two on one project would collide.
            raise pytest.UsageError(
                f"under xdist each of the {workers} workers fuzzes a project of its own:"
                f" give --release-policy-project {workers} times (worker i owns the i-th)"
            )
        config.stash[_HEARD] = []
    elif _worker_shard(config) is None:
        config.args.append(str(CONTRACT_TESTS))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """The controller's seed and the worker's shard, handed to the worker (``-n N``: worker i is i/N)."""
    config: pytest.Config = node.config
    if _HEARD not in config.stash:
        return
    handed = node.workerinput
    count = int(handed["workercount"])
    handed[SEED] = config.getoption("release_policy_seed")
    handed[SHARD] = f"{int(str(handed['workerid']).removeprefix('gw')) % count + 1}/{count}"


@contextmanager
def _target(config: pytest.Config, first: int = 0) -> Iterator[Target]:
    """The server under test, its ``first``-th project owned by this process (the others only read)."""
    from validator.fuzz.local import reference_server
    from validator.fuzz.target import Target

    url = config.getoption("release_policy_url") or os.environ.get("RELEASE_POLICY_URL")
    if not url:
        with reference_server() as local:
            yield local
        return
    token = config.getoption("release_policy_token") or os.environ.get("RELEASE_POLICY_TOKEN")
    if not token:
        raise pytest.UsageError("a release-policy URL needs --release-policy-token (or RELEASE_POLICY_TOKEN)")
    reader = config.getoption("release_policy_reader_token") or os.environ.get("RELEASE_POLICY_READER_TOKEN")
    projects = list(dict.fromkeys(config.getoption("release_policy_project") or ["default"]))
    yield Target(url.rstrip("/"), token, (*projects[first:], *projects[:first]), reader)


@pytest.fixture(scope="session")
def release_policy_target(pytestconfig: pytest.Config) -> Iterator[Target]:
    """The server under test: ``--release-policy-url``, or a fresh in-process reference server."""
    with _target(pytestconfig) as target:
        yield target


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker runs its shard; the controller merges the shards' reports and fails on a violation."""
    config = session.config
    handed = _worker_shard(config)
    if handed is not None:
        output: dict[str, str] = getattr(config, "workeroutput")  # noqa: B009 - set by xdist
        try:
            output[REPORT] = _run_shard(config, handed)
        except Exception as error:  # noqa: BLE001 - sent to the controller, which reports it
            output[ERROR] = f"shard {handed[SHARD]}: {error}"
    elif _HEARD in config.stash:
        merged = _merge(config)
        if merged is not None and (merged.violations or merged.errors):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _run_shard(config: pytest.Config, handed: dict[str, Any]) -> str:
    from dataclasses import replace

    from validator.fuzz.reports import json_report
    from validator.fuzz.run import FuzzOptions, fuzz
    from validator.fuzz.shard import parse

    shard = parse(handed[SHARD])
    options = FuzzOptions(
        seed=handed[SEED], max_time=config.getoption("release_policy_max_time"), shard=shard
    )
    examples = config.getoption("release_policy_max_examples")
    if examples is not None:
        options = replace(options, oracle_sequences=examples, phase_examples=examples, fixed_work=True)
    with _target(config, shard.index - 1) as target:
        return json_report(fuzz(target, options), options.seed)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    config: pytest.Config = node.config
    if _HEARD in config.stash:
        output = getattr(node, "workeroutput", {})
        shard = str(node.workerinput.get(SHARD))
        said = (
            output.get(REPORT)
            or output.get(ERROR)
            or f"shard {shard} (worker {node.gateway.id}) sent nothing"
        )
        config.stash[_HEARD].append((shard, said))


def _merge(config: pytest.Config) -> FuzzResult | None:
    """The shards' reports merged (a shard without one is an error of the merge), and written if asked."""
    from dataclasses import replace

    from validator.fuzz.command import write_reports
    from validator.fuzz.merge import ReportError, merge, read
    from validator.fuzz.reports import REPORTS

    directory = config.getoption("release_policy_report_dir")
    shards, errors = [], []
    heard = config.stash[_HEARD]
    for shard, text in sorted(heard):
        try:
            shards.append(read(text, f"shard {shard}"))
        except ReportError:
            errors.append(text)
            continue
        if directory:  # each shard's own report too, for a later ``fuzz merge``
            Path(directory).mkdir(parents=True, exist_ok=True)
            (Path(directory) / f"shard-{shard.replace('/', '-of-')}.json").write_text(text)
    if not shards and not errors:
        return None
    merged = merge(shards)
    merged = replace(merged, errors=(*merged.errors, *errors))
    config.stash[_MERGED] = merged
    if directory:
        write_reports(merged, config.getoption("release_policy_seed"), tuple(REPORTS), Path(directory), ())
    return merged


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The merged result, once: each violation, the coverage, what is missing."""
    if _MERGED not in config.stash:
        return
    from validator.fuzz.command import Plan, summary
    from validator.fuzz.run import FuzzOptions

    merged = config.stash[_MERGED]
    directory = Path(config.getoption("release_policy_report_dir") or ".")
    plan = Plan(None, FuzzOptions(seed=config.getoption("release_policy_seed")), (), directory)
    terminalreporter.write_sep("=", "release-policy contract checks, the shards merged")
    terminalreporter.write_line(summary(merged, plan, f"{len(config.stash[_HEARD])} xdist workers", []))
