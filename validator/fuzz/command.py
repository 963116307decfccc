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

from validator.fuzz.failures import StoreError, open_store
from validator.fuzz.fingerprint import fingerprint
from validator.fuzz.local import LocalServerError, reference_server
from validator.fuzz.merge import ReportError, merge, read
from validator.fuzz.pacing import Pace
from validator.fuzz.progress import Progress
from validator.fuzz.reports import REPORTS, write_reproductions
from validator.fuzz.run import SOURCES, FuzzOptions, FuzzResult, TargetError, fuzz
from validator.fuzz.shard import WHOLE
from validator.fuzz.shard import parse as parse_shard
from validator.fuzz.summary import markdown
from validator.fuzz.target import Target

TOKEN_VARIABLE, READER_TOKEN_VARIABLE = "RELEASE_POLICY_TOKEN", "RELEASE_POLICY_READER_TOKEN"
#: GitHub Actions' job summary: Markdown appended to this file is shown on the run's page.
STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
#: ``--profile``s: ``gentle`` for shared and production-like servers (its rate unless --rate-limit says).
PROFILES = ("full", "gentle")
GENTLE_RATE = 5.0

__all__ = [
    "Outcome", "Plan", "Progress", "Request", "TargetError", "execute", "merge_reports", "plan", "uncovered",
]  # fmt: skip


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
    #: ``I/N``: this runner's part of the work.
    shard: str | None = None
    #: A failure store: a directory, or ``redis://host:port``.
    failures: str | None = None
    #: A file to write the Markdown summary to (besides ``$GITHUB_STEP_SUMMARY``).
    summary: str | None = None
    #: ``--rate-limit`` (requests a second) and ``--max-requests``: None, no limit.
    rate_limit: float | None = None
    max_requests: int | None = None
    profile: str = "full"
    #: ``--only``: the sources to run, comma-separated (None: all).
    only: str | None = None


@dataclass(frozen=True)
class Plan:
    target: Target | None  # None: the in-process reference server
    options: FuzzOptions
    reports: tuple[str, ...]
    report_dir: Path
    #: Fail (exit 1) when anything documented was never exercised.
    require_coverage: bool = False
    failures: str | None = None
    #: Where the Markdown summary goes: ``--summary`` and ``$GITHUB_STEP_SUMMARY`` (appended to).
    summaries: tuple[Path, ...] = ()


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
    if args.shard is not None and args.seed is None:
        raise ValueError("--shard needs --seed: every shard must split the same run")
    seed = args.seed if args.seed is not None else random.randrange(2**32)  # noqa: S311 - a seed to rerun, not a secret
    shard = parse_shard(args.shard) if args.shard is not None else WHOLE
    if args.max_requests is not None and args.max_requests < 1:
        raise ValueError("--max-requests must be at least 1")
    if args.profile not in PROFILES:
        raise ValueError(f"unknown profile {args.profile!r}; choose from {', '.join(PROFILES)}")
    gentle = args.profile == "gentle"
    rate = GENTLE_RATE if gentle and args.rate_limit is None else args.rate_limit
    options = FuzzOptions(
        seed=seed, max_time=args.max_time, workers=args.workers, reset=args.reset, shard=shard,
        pace=Pace(rate, args.max_requests, gentle=gentle), sources=_sources(args.only),
    )  # fmt: skip
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
    return Plan(
        target, options, reports, Path(args.report_dir), args.require_coverage, args.failures,
        summaries(args.summary, environment),
    )  # fmt: skip


def _sources(only: str | None) -> frozenset[str]:
    if only is None:
        return frozenset(SOURCES)
    chosen = frozenset(name.strip() for name in only.split(",") if name.strip())
    unknown = sorted(chosen - set(SOURCES))
    if unknown or not chosen:
        raise ValueError(f"--only takes sources from {', '.join(SOURCES)}, not {only!r}")
    return chosen


def summaries(summary: str | None, environment: Mapping[str, str]) -> tuple[Path, ...]:
    """Where the Markdown summary goes: the file asked for, and the CI job's summary when there is one."""
    step = environment.get(STEP_SUMMARY_VARIABLE)
    return tuple(Path(each) for each in (summary, step) if each)


def write_reports(
    result: FuzzResult, seed: int, names: tuple[str, ...], directory: Path, summary_files: tuple[Path, ...]
) -> list[Path]:
    """The reports by name into ``directory``, and the Markdown summary appended to each summary file."""
    written = []
    for name in names:
        filename, render = REPORTS[name]
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / filename
        path.write_text(render(result, seed))
        written.append(path)
    for path in summary_files:
        with path.open("a", encoding="utf-8") as file:
            file.write(markdown(result, seed))
        written.append(path)
    return written


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
        if plan.options.shard.count > 1:
            progress.note(f"shard {plan.options.shard} of the run")
        try:
            store = open_store(plan.failures) if plan.failures else None
        except StoreError as error:
            raise TargetError(str(error)) from None
        result = fuzz(target, plan.options, progress, store)
        written: list[Path] = []
        if result.violations:
            written += write_reproductions(result, target, plan.options.seed, plan.report_dir)
        written += write_reports(result, plan.options.seed, plan.reports, plan.report_dir, plan.summaries)
    return Outcome(result, summary(result, plan, target.url, written), tuple(written))


def merge_reports(files: tuple[str, ...], plan: Plan) -> Outcome:
    """``fuzz merge``: the shards' JSON reports as one result, written in every format the plan names."""
    if not files:
        raise ValueError("fuzz merge needs the shards' JSON reports (fuzz.json, from --report json)")
    shards = []
    for name in files:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"cannot read {name}: {error.strerror or error}") from None
        try:
            shards.append(read(text, name))
        except ReportError as error:
            raise ValueError(str(error)) from None
    seeds = {shard.seed for shard in shards}
    if len(seeds) > 1:
        raise ValueError(f"the reports are of different runs (seeds {', '.join(map(str, sorted(seeds)))})")
    result = merge(shards)
    seed = seeds.pop()
    written = write_reports(result, seed, plan.reports, plan.report_dir, plan.summaries)
    merged = replace(plan, options=replace(plan.options, seed=seed))
    return Outcome(result, summary(result, merged, f"{len(shards)} shard reports", written), tuple(written))


def uncovered(result: FuzzResult) -> bool:
    """Whether anything documented was never exercised."""
    return result.coverage is None or bool(result.coverage.missing())


def summary(result: FuzzResult, plan: Plan, of: str, written: list[Path]) -> str:
    stats = ", ".join(f"{value:g} {name}" for name, value in result.stats.items())
    lines = [f"release-policy fuzz of {of}: {stats}"]
    for violation in result.violations:
        changed = result.drift.get(fingerprint(violation))
        lines += ["", f"{'DRIFT' if changed else 'VIOLATION'} {violation.check}: {violation.message}"]
        if changed:
            lines.append(f"  the server changed, the spec does not know it: {changed}")
        lines += [
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
    if result.drift:
        verdict += f", {len(result.drift)} of them drift (the server changed; see DRIFT above)"
    if plan.require_coverage and uncovered(result):
        verdict += ", coverage incomplete (--require-coverage)"
    lines += ["", f"{verdict}; rerun with --seed {plan.options.seed}"]
    return "\n".join(lines)
