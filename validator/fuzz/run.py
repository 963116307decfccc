"""One fuzz run: a preflight, the boundary sweep, the contract probes, the oracle, then Schemathesis' phases.

The fuzzer owns the target's first project: it must be empty at the start
(``reset=True`` empties it), every oracle sequence starts from empty, and the
project is emptied again at the end. The other projects are only read.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from validator import spec as spec_module
from validator.counts import counted
from validator.fuzz import cleanup
from validator.fuzz.coverage import Coverage
from validator.fuzz.drift import drift
from validator.fuzz.failures import Reproduction, again, forget, load, reproduction, save
from validator.fuzz.fingerprint import fingerprint
from validator.fuzz.oracle import OracleResult, ResetFailed, Run, run_oracle
from validator.fuzz.pacing import BudgetSpent, Gate, Pace
from validator.fuzz.probes import PROBES, run_probes
from validator.fuzz.progress import Progress
from validator.fuzz.shard import WHOLE, Shard
from validator.fuzz.steps import Step
from validator.fuzz.sweep import SweepResult, run_sweep
from validator.fuzz.target import Session, Target
from validator.fuzz.tour import run_tour
from validator.fuzz.violation import Violation

if TYPE_CHECKING:
    from hypothesis.database import ExampleDatabase

    from validator.fuzz.phases import PhasesResult

#: The share of the time left after the probes that the oracle gets; Schemathesis gets the rest.
ORACLE_SHARE = 0.5
#: The run's sources of findings, in the order they run (``--only`` picks some).
SOURCES = ("sweep", "tour", "probes", "oracle", "schemathesis")


class TargetError(Exception):
    """The target cannot be fuzzed as given: unreachable, a refused token, a project not empty."""


@dataclass(frozen=True)
class FuzzOptions:
    seed: int
    max_time: float = 60.0
    workers: int = 1
    #: Bounds on the work; with ``fixed_work`` they alone bound the oracle and Schemathesis, so a run
    #: does the same work on any machine (the zoo tests), and ``max_time`` is only a safety net.
    oracle_sequences: int = 1_000_000
    phase_examples: int = 25
    fixed_work: bool = False
    reset: bool = False
    #: This runner's part of the work (``--shard I/N``).
    shard: Shard = WHOLE
    #: ``--rate-limit`` and ``--max-requests``: every request of every source passes one gate.
    pace: Pace = field(default_factory=Pace)
    #: The sources to run (``--only``): fewer requests for a metered API, or a test.
    sources: frozenset[str] = frozenset(SOURCES)


def key_prefix(seed: int) -> str:
    """The prefix of every key a run chooses: ``rpv`` and the seed, so the shards of one run share it
    and a rerun with ``--seed`` sends the same requests."""
    return f"rpv{seed:x}"


@dataclass(frozen=True)
class FuzzResult:
    violations: tuple[Violation, ...]
    #: Probe id -> what the target lacks for it.
    skipped: Mapping[str, str]
    errors: tuple[str, ...]
    stats: Mapping[str, float]
    #: The minimal steps of the sweep's and the oracle's violations by check, for the pytest reproductions.
    steps: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)
    #: What the run exercised of the spec's statuses, the swept constraints and the state rules.
    coverage: Coverage | None = None
    #: A violation's fingerprint -> what the server answered that the spec does not know (drift).
    drift: Mapping[str, str] = field(default_factory=dict)


def preflight(session: Session, *, reset: bool) -> None:
    target = session.target
    for project in target.projects:
        answer = session.request("GET", target.policies(project))
        if answer.status == 0:
            raise TargetError(f"cannot connect to {target.url}: {answer.problem or 'no answer'}")
        if answer.status in (401, 403):
            raise TargetError(f"{target.url} refused the token ({answer.status}) for project {project}")
        if answer.status != 200:
            raise TargetError(f"GET {target.policies(project)} answered {answer.status}, expected 200")
    held = answer_count(session)
    if held and reset:
        # --reset hands the project's policies to the run, so its cleanup deletes them.
        session.owned.created.update(
            str(p.get("key")) for p in session.request("GET", target.policies()).items()
        )
    elif held:
        raise TargetError(
            f"project {target.projects[0]} holds {counted(held, 'policy', 'policies')}; the fuzzer needs"
            " an empty project it may change (pass --reset to delete them first)"
        )


def answer_count(session: Session) -> int:
    try:
        return int(session.request("GET", session.target.policies()).json().get("totalCount", 0))
    except (ValueError, AttributeError, TypeError):
        return 0


def fuzz(
    target: Target,
    options: FuzzOptions,
    progress: Progress | None = None,
    failures: ExampleDatabase | None = None,
) -> FuzzResult:
    """Every check against ``target``; raises :class:`TargetError` if it cannot start.

    With a failure store, its failures are replayed first and the run's violations stored at the end."""
    progress = progress or Progress()
    started = time.monotonic()
    progress.deadline = started + options.max_time
    gate = Gate(options.pace)
    session = Session(target, tally=progress.tally, gate=gate, prefix=key_prefix(options.seed))
    with session, cleanup.always(session, _empty) as arm:
        gate.reserve = session.owned.reserve  # sized from the keys the run holds, as it goes
        preflight(session, reset=options.reset)
        errors = _empty(session)
        if errors:
            raise TargetError(errors[0])
        arm()
        found = _Found()
        try:
            _run_sources(found, session, options, progress, failures)
        except BudgetSpent as spent:
            # The findings so far are kept and reported; the reserve pays for the cleanup below.
            gate.cleaning = True
            found.errors.append(f"the run stopped early, {spent}; what it found so far is reported")
        errors += (*found.errors, *_empty(session))
    swept, oracle, replayed = found.swept, found.oracle, found.replayed
    stats = {
        "seconds": round(time.monotonic() - started, 1),
        "sweep requests": swept.requests,
        "oracle sequences": oracle.sequences,
        "oracle requests": oracle.requests,
        "schemathesis test cases": found.test_cases,
        **gate.stats(),
    }
    if not options.shard.whole:
        stats["shard"] = options.shard.index
        stats["shards"] = options.shard.count
    steps = {**swept.steps, **found.tour_steps, **oracle.steps}
    for violation, stored in replayed:
        if stored.steps:
            steps.setdefault(violation.check, tuple(Step(**step) for step in stored.steps))
    coverage = progress.coverage(spec_module.bundled())
    kept = _distinct(found.violations, {fingerprint(v) for v, _ in replayed}, len(replayed))
    if failures is not None:
        save(failures, [reproduction(v, steps.get(v.check), target) for v in kept])
    drifted = {fingerprint(v): str(changed) for v in kept if (changed := drift(v)) is not None}
    return FuzzResult(tuple(kept), found.skipped, errors, stats, steps, coverage, drifted)


@dataclass
class _Found:
    """What the sources found so far: all of it is reported, even when the budget stops them."""

    replayed: list[tuple[Violation, Reproduction]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    swept: SweepResult = field(default_factory=SweepResult)
    tour_steps: dict[str, tuple[Step, ...]] = field(default_factory=dict)
    oracle: OracleResult = field(default_factory=lambda: OracleResult((), 0, 0))
    test_cases: int = 0


def _run_sources(
    found: _Found,
    session: Session,
    options: FuzzOptions,
    progress: Progress,
    failures: ExampleDatabase | None,
) -> None:
    """The sources ``options`` asks for, in order, each adding to ``found`` as it ends."""
    sources = options.sources
    if failures is not None:
        found.replayed = _replay(session, failures, progress)
        found.violations += [v for v, _ in found.replayed]
    if "sweep" in sources:
        progress.enter(
            "sweep", "sweep: every constraint of every request schema, just inside and just outside"
        )
        found.swept = run_sweep(session, progress=progress, shard=options.shard)
        found.violations += found.swept.violations
        found.errors += (*found.swept.errors, *_empty(session))
    if "tour" in sources and options.shard.first:  # one fixed sequence: the first shard's
        progress.enter("tour", "tour: every state rule of the contract, once")
        toured, found.tour_steps = run_tour(session)
        for violation in toured:
            progress.violation(violation.check, violation.message)
        found.violations += toured
        found.errors += _empty(session)
    if "probes" in sources:
        progress.enter(
            "probes", "probes: auth, beta header, roles, 404, 405, 413, bodies, isolation, concurrency"
        )
        probed, skipped = run_probes(session, found=progress.violation, shard=options.shard)
        found.violations += probed
        found.skipped = {p.id: p.unmet(session.target, options.pace) for p in PROBES if p.id in skipped}
    if "oracle" in sources:
        left = max(progress.deadline - time.monotonic(), 1.0)
        share = options.max_time if options.fixed_work else left * ORACLE_SHARE
        progress.enter(
            "oracle", "oracle: model-based sequences" + ("" if options.fixed_work else f" for {share:.0f} s")
        )
        found.oracle = run_oracle(
            session, seed=options.seed, max_examples=options.oracle_sequences, max_time=share,
            progress=progress, shard=options.shard,
        )  # fmt: skip
        found.violations += found.oracle.violations
        found.errors += _empty(session)
    if "schemathesis" in sources:
        phases = _phases(session.target, options, progress, session)
        found.violations += phases.violations
        found.errors += phases.errors
        found.test_cases = phases.test_cases


def _phases(target: Target, options: FuzzOptions, progress: Progress, session: Session) -> PhasesResult:
    """Schemathesis' phases, unless the server's answers are too large for it."""
    from validator.fuzz.phases import PhasesResult, run_phases

    if session.oversized:
        # Schemathesis reads every answer whole: 50 MB ones would cost gigabytes and minutes.
        return PhasesResult(
            (), 0, ("Schemathesis' phases skipped: the server sent answers over the read cap",)
        )
    progress.enter("schemathesis", "schemathesis: examples, coverage, fuzzing and stateful phases")
    left = max(progress.deadline - time.monotonic(), 1.0)
    # A shard runs a share of the operations, each with N times the examples: N shards do the work of
    # one run N times as long.
    return run_phases(
        target, seed=options.seed, max_examples=options.phase_examples * options.shard.count,
        max_time=None if options.fixed_work else left, workers=options.workers,
        progress=progress, shard=options.shard, gate=session.gate, owned=session.owned,
        prefix=session.prefix,
    )  # fmt: skip


def _replay(
    session: Session, failures: ExampleDatabase, progress: Progress
) -> list[tuple[Violation, Reproduction]]:
    """The stored failures that still happen, each told as it is confirmed; the others are forgotten."""
    stored = load(failures)
    progress.enter("replay", f"replay: {counted(len(stored), 'stored failure')}")
    confirmed = []
    for each in stored:
        violation = again(session, each)
        if violation is None:
            forget(failures, each)
            continue
        progress.violation(violation.check, f"{violation.message} (stored failure, replayed)")
        confirmed.append((violation, each))
    errors = _empty(session)
    if errors:
        raise TargetError(errors[0])
    return confirmed


def _empty(session: Session) -> tuple[str, ...]:
    try:
        Run(session).start()
    except ResetFailed as error:
        return (f"cannot empty project {session.target.projects[0]}: {error}",)
    return ()


def _distinct(violations: list[Violation], replayed: set[str], first: int) -> list[Violation]:
    """Each violation once: the first of each check and message; after the ``first`` (the replayed
    failures), none with a replayed one's fingerprint."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for index, violation in enumerate(violations):
        if index >= first and fingerprint(violation) in replayed:
            continue
        if (violation.check, violation.message) not in seen:
            seen.add((violation.check, violation.message))
            kept.append(violation)
    return kept
