"""The ``fuzz`` command's work, without printing: resolve the target, run, write reports, summarize.

``cli.py`` parses the arguments, prints and picks the exit code; this module
turns the arguments into a :class:`Plan` and a run into an :class:`Outcome`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from validator.fuzz.local import LocalServerError, reference_server
from validator.fuzz.progress import Progress
from validator.fuzz.reports import REPORTS, write_reproductions
from validator.fuzz.run import FuzzOptions, FuzzResult, TargetError, fuzz
from validator.fuzz.target import Target

TOKEN_VARIABLE, READER_TOKEN_VARIABLE = "RELEASE_POLICY_TOKEN", "RELEASE_POLICY_READER_TOKEN"

__all__ = ["Outcome", "Plan", "Progress", "Request", "TargetError", "execute", "plan", "uncovered"]


@dataclass(frozen=True)
class Request:
    """What the user asked for, typed: the CLI's options (and their defaults, which the CLI documents),
    before they are checked and resolved into a :class:`Plan`."""

    url: str | None
    token: str | None
    reader_token: str | None
    projects: tuple[str, ...]
    seed: int | None
    max_time: float
    max_examples: int | None
    timeout: float
    workers: int
    reset: bool
    report: str
    report_dir: str
    require_coverage: bool


@dataclass(frozen=True)
class Plan:
    target: Target | None  # None: the in-process reference server
    options: FuzzOptions
    reports: tuple[str, ...]
    report_dir: Path
    #: Fail (exit 1) when anything documented was never exercised.
    require_coverage: bool = False


@dataclass(frozen=True)
class Outcome:
    result: FuzzResult
    summary: str
    written: tuple[Path, ...]


def plan(args: Request, environment: Mapping[str, str]) -> Plan:
    """The run the request asks for; ValueError says what is wrong with it."""
    reports = tuple(name.strip() for name in args.report.split(",") if name.strip())
    unknown = [name for name in reports if name not in REPORTS]
    if unknown:
        raise ValueError(f"unknown report {unknown[0]!r}; choose from {', '.join(REPORTS)}")
    if args.max_time <= 0 or args.timeout <= 0 or args.workers < 1:
        raise ValueError("--max-time and --timeout must be positive, and --workers at least 1")
    if args.max_examples is not None and args.max_examples < 1:
        raise ValueError("--max-examples must be at least 1")
    seed = args.seed if args.seed is not None else random.randrange(2**32)  # noqa: S311 - a seed to rerun, not a secret
    options = FuzzOptions(seed=seed, max_time=args.max_time, workers=args.workers, reset=args.reset)
    if args.max_examples is not None:
        # A fixed amount of work: the same requests for the same seed on any machine.
        options = replace(
            options, oracle_sequences=args.max_examples, phase_examples=args.max_examples, fixed_work=True
        )
    target = None
    if args.url:
        if not args.url.startswith(("http://", "https://")):
            raise ValueError(f"--url must start with http:// or https://, not {args.url!r}")
        token = args.token or environment.get(TOKEN_VARIABLE)
        if not token:
            raise ValueError(f"--url needs a writer token: --token or {TOKEN_VARIABLE}")
        projects = tuple(dict.fromkeys(args.projects or ("default",)))
        reader = args.reader_token or environment.get(READER_TOKEN_VARIABLE)
        target = Target(args.url.rstrip("/"), token, projects, reader, timeout=args.timeout)
    elif args.token or args.reader_token or args.projects:
        raise ValueError("--token, --reader-token and --project go with --url")
    return Plan(target, options, reports, Path(args.report_dir), args.require_coverage)


@contextmanager
def _target(plan: Plan) -> Iterator[Target]:
    if plan.target is not None:
        yield plan.target
        return
    try:
        with reference_server() as local:
            yield local
    except LocalServerError as error:
        raise TargetError(str(error)) from None


def execute(plan: Plan, progress: Progress) -> Outcome:
    with _target(plan) as target:
        progress.note(f"fuzzing {target.url} (project {target.projects[0]}), seed {plan.options.seed}")
        result = fuzz(target, plan.options, progress)
        written: list[Path] = []
        if result.violations:
            written += write_reproductions(result, target, plan.options.seed, plan.report_dir)
        for name in plan.reports:
            filename, render = REPORTS[name]
            plan.report_dir.mkdir(parents=True, exist_ok=True)
            path = plan.report_dir / filename
            path.write_text(render(result, plan.options.seed))
            written.append(path)
    return Outcome(result, summary(result, plan, target, written), tuple(written))


def uncovered(result: FuzzResult) -> bool:
    """Whether anything documented was never exercised."""
    return result.coverage is None or bool(result.coverage.missing())


def summary(result: FuzzResult, plan: Plan, target: Target, written: list[Path]) -> str:
    stats = ", ".join(f"{value:g} {name}" for name, value in result.stats.items())
    lines = [f"release-policy fuzz of {target.url}: {stats}"]
    for violation in result.violations:
        lines += [
            "",
            f"VIOLATION {violation.check}: {violation.message}",
            f"  rule {violation.rule}: {violation.words}",
            f"  shown by {len(violation.exchanges)} request(s)",
        ]
    lines += [f"skipped: {probe} (needs {needs})" for probe, needs in result.skipped.items()]
    if result.coverage is not None:
        missing = result.coverage.missing()
        lines += ["", result.coverage.line()]
        lines += [f"  not exercised: {gap}" for gap in missing]
    lines += [f"error: {error}" for error in result.errors]
    if written:
        lines += ["", f"reports in {plan.report_dir}/: " + ", ".join(path.name for path in written)]
    verdict = f"{len(result.violations)} violation(s)" if result.violations else "no violation"
    if plan.require_coverage and uncovered(result):
        verdict += ", coverage incomplete (--require-coverage)"
    lines += ["", f"{verdict}; rerun with --seed {plan.options.seed}"]
    return "\n".join(lines)
