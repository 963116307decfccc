"""Benchmark: `release-policy fuzz` against a plain `st run`, on the zoo and the spec mutants.

    .venv/bin/python bench/fuzz_speed.py [--max-time 30] [--seed 1] [--mutants] [--only PATTERN]
        [--st all|zoo|none] [--ladder 1,5,10] [--snapshot REV] [--json PATH] [VARIANT ...]
    .venv/bin/python bench/fuzz_speed.py --render PATH      # the table of an earlier run's --json

Rows: the correct reference server first, then every variant of
``tests/fuzz/zoo.py`` (or those named), and with ``--mutants`` every spec
mutant of ``tests/fuzz/spec_mutants.py`` that a request can tell apart (the
ones in its ``EQUIVALENT`` are left out). ``--only PATTERN`` (a glob, given
any number of times) keeps the rows whose name matches one of them, e.g.
``--only '/components/schemas/ReleasePolicyName/*'``. Both tools run against
the same spec, tokens and project, with the same --max-time and --seed, one
after the other, each against a fresh server of its own (``python -m
tests.fuzz.zoo_server NAME``: the fuzzer's project must start empty, and state
left by one tool would change what the other sees):

``release-policy fuzz --url URL --token writer-token --reader-token reader-token
--project default --project other --seed S --max-time T --report json``

``st --config-file C run spec/release-policies.yaml --url URL -H 'Authorization:
writer-token' -H 'LD-API-Version: beta' --max-time T --seed S --report json,ndjson``

where C holds only ``[parameters] "path.projectKey" = "default"``: without it
Schemathesis generates project keys at random and nearly every request ends in a
404 of an unknown project. Everything else in the ``st run`` is Schemathesis'
default: all its checks, all four phases, one worker, no custom check. Each
tool runs in a temporary directory of its own, so Schemathesis' example
database and cache start empty every time. ``--st zoo`` runs ``st run`` only on
the correct server and the zoo (not on the spec mutants), ``--st none`` never.

What the table shows, per tool:

found
    release-policy fuzz: the checks of the violations in its JSON report. What
    counts as finding the row: for a zoo variant, one of the checks the zoo
    lists for it (``Variant.catches``: "yes", else "other" when only other
    checks fired), where ``tour:R`` counts as ``oracle:R`` (the state tour
    judges by the oracle's model and names its checks by the same rules); for
    a spec mutant, any violation at all (the mutant differs from the reference
    server, which reports nothing, only in the one constraint it lacks; the
    source column shows whether the sweep was the one that saw it). st run:
    its failures of kinds (check and operation) that the same ``st run`` does
    not report against the correct server, by check name. Plain ``st run``
    fails on the correct server too (the "correct" row), so its exit code
    alone says nothing; the correct-server row is its baseline.

detected at
    release-policy fuzz: the time printed on the first ``VIOLATION`` line of its
    stderr whose check counts as finding the row (above), that is seconds on the
    fuzzer's own clock, which starts as its command begins (before it connects;
    the interpreter's start-up, about 0.4 s, is not in it), with the source
    named by the check's prefix: ``sweep:`` the boundary sweep, ``tour:`` the
    state tour, ``oracle:`` the model-based oracle, ``schemathesis:``
    Schemathesis' phases, anything else a probe. st run: seconds from
    launching its process to the timestamp of the first failed scenario (one
    operation in one phase) of a new kind in its NDJSON event stream.

cases/s
    Requests generated and answered per second of the tool's own run time.
    The fuzzer: (sweep requests + oracle requests + Schemathesis test cases) /
    seconds, all from its JSON report (the probes' and the state tour's few
    dozen requests are in the seconds but not counted). st run: the
    interactions with a response in its NDJSON stream / its JSON report's
    running time.

coverage
    The fuzzer's JSON report's ``coverage``: goals reached of all goals
    (documented statuses answered, swept constraint sides, state rules).

--ladder B1,B2,... reruns the fuzzer on each row it found, with each smaller
budget in turn (a fresh server each), until one finds it too; the table then
shows the smallest such budget and that run's wall time. Every process runs
under a timeout and is killed with its process group when it overstays.

--snapshot REV runs the servers, the fuzzer and the zoo from a copy of that
commit (``git archive``, on ``PYTHONPATH`` ahead of the editable install), so
that edits made to the working tree while a long run goes on never reach it;
the output's first line names the commit (or the working tree's HEAD, and
whether validator/, tests/ or spec/ had uncommitted edits).
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
WRITER, READER = "writer-token", "reader-token"  # tests/server/live.py's


@dataclass
class Tree:
    """The source tree the servers, the fuzzer and the zoo come from: the working tree, or a snapshot of
    a commit (``--snapshot REV``), so that edits made while a long benchmark runs never reach it."""

    root: Path = REPOSITORY
    commit: str = ""

    @property
    def spec(self) -> Path:
        return self.root / "spec" / "release-policies.yaml"

    def environment(self) -> dict[str, str]:
        """A child's environment: this tree's packages first (ahead of the editable install)."""
        paths = [str(self.root), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


TREE = Tree()


def use_snapshot(revision: str, into: Path) -> None:
    """Make ``TREE`` a copy of ``revision`` (``git archive``) extracted under ``into``."""
    git, tar = shutil.which("git"), shutil.which("tar")
    if git is None or tar is None:
        raise SystemExit("fuzz_speed: --snapshot needs git and tar on PATH")
    commit = subprocess.run(
        [git, "-C", str(REPOSITORY), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    archive, root = into / "tree.tar", into / "tree"
    root.mkdir()
    subprocess.run(
        [git, "-C", str(REPOSITORY), "archive", "-o", str(archive), commit], check=True, timeout=120
    )
    subprocess.run([tar, "-xf", str(archive), "-C", str(root)], check=True, timeout=120)
    TREE.root, TREE.commit = root, commit


def _tests() -> None:
    """Put the tree on this process's path: the zoo and the mutants live in tests/, which is not installed."""
    if str(TREE.root) not in sys.path:
        sys.path.insert(0, str(TREE.root))


def zoo() -> Mapping[str, Any]:
    """The zoo (``tests/fuzz/zoo.py``'s ``ZOO``) of ``TREE``."""
    _tests()
    from tests.fuzz.zoo import ZOO

    return ZOO


def all_mutants() -> tuple[list[str], Mapping[str, str]]:
    """Every spec mutant's name, and the equivalent ones with the reason (``tests/fuzz/spec_mutants.py``)."""
    _tests()
    from tests.fuzz.spec_mutants import EQUIVALENT, mutants

    return list(mutants()), EQUIVALENT


PROJECTS = ("default", "other")
SERVER_START_TIMEOUT = 60.0
ST_CONFIG = '[parameters]\n"path.projectKey" = "default"\n'
#: Schemathesis' phases that send test cases.
ST_TESTING = frozenset({"examples", "coverage", "fuzzing", "stateful"})
#: The prefixes of the fuzzer's checks that name their source; a check without one is a probe's.
SOURCES = ("sweep", "tour", "oracle", "schemathesis")
#: The fuzzer's line for a violation the moment it is found (validator/cli_progress.py).
_VIOLATION = re.compile(r"^\[\s*(?P<at>\d+(?:\.\d+)?)s\] VIOLATION (?P<check>\S+?): ")


@dataclass(frozen=True)
class Seen:
    """One VIOLATION line of the fuzzer's stderr."""

    at: float  # the time printed on it: the fuzzer's own clock
    arrived: float  # seconds from launching the process to its arrival
    check: str

    @property
    def source(self) -> str:
        return source(self.check)


def source(check: str) -> str:
    """Which part of the fuzzer reports ``check``: its prefix, or a probe (probe checks have none)."""
    prefix = check.split(":", 1)[0]
    return prefix if prefix in SOURCES and ":" in check else "probe"


def violation_lines(lines: Sequence[tuple[float, str]]) -> list[Seen]:
    """Every VIOLATION line of a fuzzer's stderr, in order."""
    seen = []
    for arrived, line in lines:
        match = _VIOLATION.match(line)
        if match:
            seen.append(Seen(float(match["at"]), arrived, match["check"]))
    return seen


def is_mutant(name: str) -> bool:
    return name.startswith("/")


def expectation(name: str) -> Callable[[str], bool]:
    """Whether a violation of this check counts as finding ``name`` (nothing counts on ``correct``)."""
    if name == "correct":
        return lambda check: False
    if is_mutant(name):
        return lambda check: True  # the mutant differs from the reference server in its constraint only
    catches = zoo()[name].catches
    # The state tour judges by the oracle's model and names its checks by the same rules: ``tour:R``
    # is the finding ``oracle:R`` is, from a fixed sequence rather than a drawn one.
    return lambda check: (
        check in catches or (check.startswith("tour:") and f"oracle:{check.removeprefix('tour:')}" in catches)
    )


def kind(name: str) -> str:
    if name == "correct":
        return "(none: the reference server)"
    if not is_mutant(name):
        return str(zoo()[name].kind)
    parts = name.split("/")
    if name.endswith("/anyOf/null"):
        return "spec: null refused"
    if len(parts) > 2 and parts[-2] == "required":
        return "spec: required"
    return f"spec: {parts[-1]}"


def spec_mutants() -> list[str]:
    """Every spec mutant a request can tell from the spec, in the generator's order."""
    names, equivalent = all_mutants()
    return [name for name in names if name not in equivalent]


def select_names(
    named: Sequence[str], with_mutants: bool, only: Sequence[str], *, with_zoo: bool = True
) -> list[str]:
    """The rows: ``correct`` first, then the named variants or the zoo, then (optionally) the mutants."""
    chosen = list(named) or [*(zoo() if with_zoo else ()), *(spec_mutants() if with_mutants else ())]
    if only:
        chosen = [name for name in chosen if any(fnmatch.fnmatchcase(name, pattern) for pattern in only)]
    return ["correct", *dict.fromkeys(name for name in chosen if name != "correct")]


def unknown_names(names: Sequence[str]) -> list[str]:
    known = {"correct", *zoo(), *all_mutants()[0]}
    return [name for name in names if name not in known]


@dataclass
class Run:
    """One tool's run against one fresh server."""

    tool: str
    budget: int
    exit_code: int | None  # None: killed after its timeout
    wall: float
    detected_at: float | None = None
    stage: str = ""
    #: Fuzzer: the checks of its violations. st run: "check on operation" of each failure kind.
    found: list[str] = field(default_factory=list)
    #: Fuzzer: whether a check that counts as finding the row is among ``found``.
    expected: bool = False
    #: Fuzzer: every VIOLATION line, as (printed time, arrival from launch, check).
    seen: list[tuple[float, float, str]] = field(default_factory=list)
    cases: int = 0
    seconds: float = 0.0
    coverage: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    variant: str
    kind: str
    catches: list[str]
    fuzz: Run
    st: Run | None
    ladder: list[Run] = field(default_factory=list)


def executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"fuzz_speed: {name} not found next to {sys.executable} or on PATH")
    return found


def stop(process: subprocess.Popen[Any]) -> None:
    """End the process and its group: politely, then not."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything of its group still there


@contextlib.contextmanager
def serve(name: str) -> Iterator[str]:
    """The URL of a fresh server broken as ``name`` says (a zoo variant, a spec mutant, or ``correct``)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fuzz.zoo_server", name],
        cwd=TREE.root, env=TREE.environment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], SERVER_START_TIMEOUT)
        url = process.stdout.readline().strip() if ready else ""
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the {name} server did not start within {SERVER_START_TIMEOUT:g} s")
        yield url
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()  # the zoo server serves until its standard input closes
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        stop(process)
        process.stdout.close()


@dataclass
class Execution:
    """A finished command."""

    exit_code: int | None  # None: it timed out, or was stopped on purpose (``stopped``)
    launched: float  # epoch time of the launch
    wall: float
    #: Each line of its stderr with the seconds from launch at which it arrived.
    lines: list[tuple[float, str]]
    stopped: bool = False  # ended by ``stop_at``
    timed_out: bool = False


def execute(
    argv: Sequence[str], cwd: Path, timeout: float, stop_at: Callable[[str], bool] | None = None
) -> Execution:
    """Run a command under ``timeout``, its stdout to ``cwd/stdout.txt``; with ``stop_at``, end it
    (and its process group) as soon as a line of its stderr satisfies it."""
    lines: list[tuple[float, str]] = []
    hit = threading.Event()
    launched, started = time.time(), time.monotonic()
    with (cwd / "stdout.txt").open("w") as stdout:
        process = subprocess.Popen(
            argv, cwd=cwd, env=TREE.environment(), stdin=subprocess.DEVNULL, stdout=stdout,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        assert process.stderr is not None
        stderr = process.stderr

        def read() -> None:
            for line in stderr:
                lines.append((time.monotonic() - started, line.rstrip("\n")))
                if stop_at is not None and stop_at(line):
                    hit.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        code: int | None = None
        stopped = timed_out = False
        try:
            deadline = started + timeout
            while True:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = process.wait(timeout=0.05)
                    break
                if hit.is_set():
                    stopped = True
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    break
        finally:
            stop(process)
        wall = time.monotonic() - started
        reader.join(timeout=10)
        stderr.close()
    return Execution(code, launched, wall, lines, stopped, timed_out)


def fuzz_argv(url: str, seed: int, budget: int, report_dir: Path, reports: str = "") -> list[str]:
    return [
        sys.executable, "-m", "validator.cli", "fuzz",
        "--url", url, "--token", WRITER, "--reader-token", READER,
        *(part for project in PROJECTS for part in ("--project", project)),
        "--seed", str(seed), "--max-time", str(budget), "--report-dir", str(report_dir),
        *(("--report", reports) if reports else ()),
    ]  # fmt: skip


def fuzz(url: str, seed: int, budget: int, workdir: Path, counts: Callable[[str], bool]) -> Run:
    done = execute(fuzz_argv(url, seed, budget, workdir / "report", "json"), workdir, 3 * budget + 120)
    run = Run("release-policy fuzz", budget, done.exit_code, done.wall)
    if done.timed_out:
        run.errors.append("timed out")
    seen = violation_lines(done.lines)
    run.seen = [(each.at, each.arrived, each.check) for each in seen]
    checks = [each.check for each in seen]
    try:
        report = json.loads((workdir / "report" / "fuzz.json").read_text())
    except (OSError, ValueError) as error:
        tail = " | ".join(line for _, line in done.lines[-3:])
        run.errors.append(f"no JSON report ({error}); stderr: {tail}")
    else:
        stats = report["stats"]
        run.cases = int(
            stats.get("sweep requests", 0)
            + stats.get("oracle requests", 0)
            + stats.get("schemathesis test cases", 0)
        )
        run.seconds = float(stats.get("seconds", 0))
        run.errors += report.get("errors", [])
        checks += [violation["check"] for violation in report["violations"]]
        coverage = report.get("coverage") or {}
        goals = sum(len(coverage.get(part, [])) for part in ("statuses", "constraints", "stateRules"))
        if goals:
            run.coverage = f"{goals - len(coverage.get('missing', []))}/{goals}"
    run.found = sorted(dict.fromkeys(checks), key=lambda check: (not counts(check), check))
    run.expected = any(counts(check) for check in run.found)
    first = next((each for each in seen if counts(each.check)), None)
    if first is None and not run.expected:
        first = next(iter(seen), None)  # "other": when the first other finding showed
    if first is not None:
        run.detected_at, run.stage = first.at, first.source
    return run


def st_run(url: str, seed: int, budget: int, workdir: Path) -> tuple[Run, dict[str, float]]:
    """A plain ``st run``; also the first time (seconds from launch) each failure kind showed."""
    config = workdir / "schemathesis.toml"
    config.write_text(ST_CONFIG)
    argv = [
        executable("st"), "--config-file", str(config), "run", str(TREE.spec), "--url", url,
        "-H", f"Authorization: {WRITER}", "-H", "LD-API-Version: beta",
        "--max-time", str(budget), "--seed", str(seed),
        "--report", "json,ndjson", "--report-dir", str(workdir / "report"), "--no-color",
    ]  # fmt: skip
    done = execute(argv, workdir, timeout=2 * budget + 120)
    run = Run("st run", budget, done.exit_code, done.wall)
    if done.timed_out:
        run.errors.append("timed out")
    first: dict[str, float] = {}
    try:
        report = json.loads(next((workdir / "report").glob("json-*.json")).read_text())
        events = next((workdir / "report").glob("ndjson-*.ndjson")).read_text().splitlines()
    except (OSError, ValueError, StopIteration) as error:
        tail = " | ".join(line for _, line in done.lines[-3:])
        run.errors.append(f"no report ({error}); stderr: {tail}")
        return run, first
    run.seconds = float(report.get("running_time", 0))
    run.errors += [str(error.get("title", error)) if isinstance(error, dict) else str(error)
                   for error in report.get("errors", [])]  # fmt: skip
    for text in events:
        event = json.loads(text)
        finished = event.get("ScenarioFinished")
        if finished is None or finished.get("phase") not in ST_TESTING:
            continue
        recorder = finished["recorder"]
        run.cases += sum(1 for done in recorder.get("interactions", {}).values() if done.get("response"))
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check.get("failure_info"):
                    failure = check["failure_info"]["failure"]
                    kind = f"{check['name']} on {failure.get('operation') or recorder.get('label')}"
                    first.setdefault(kind, finished["timestamp"] - done.launched)
    run.found = sorted(first)
    return run, first


def measure(
    name: str, seed: int, budget: int, ladder: Sequence[int], baseline: set[str] | None, *, with_st: bool
) -> Row:
    counts = expectation(name)
    catches = sorted(zoo()[name].catches) if name in zoo() else []
    with tempfile.TemporaryDirectory(prefix="fuzz-speed-") as scratch:
        root = Path(scratch)
        (root / "fuzz").mkdir()
        with serve(name) as url:
            fuzzed = fuzz(url, seed, budget, root / "fuzz", counts)
        st: Run | None = None
        if with_st:
            (root / "st").mkdir()
            with serve(name) as url:
                st, first = st_run(url, seed, budget, root / "st")
            new = {kind: at for kind, at in first.items() if baseline is None or kind not in baseline}
            if new:
                st.detected_at = min(new.values())
                st.stage = "new kind" if baseline is not None else "any failure"
        row = Row(name, kind(name), catches, fuzzed, st)
        if fuzzed.expected:
            for smaller in sorted(b for b in ladder if b < budget):
                directory = root / f"ladder-{smaller}"
                directory.mkdir()
                with serve(name) as url:
                    row.ladder.append(fuzz(url, seed, smaller, directory, counts))
                if row.ladder[-1].expected:
                    break
    return row


def _seconds(run: Run | None) -> str:
    if run is None:
        return "(not run)"
    if run.detected_at is None:
        return "-"
    return f"{run.detected_at:.1f} ({run.stage})"


def _fuzz_found(row: Row) -> str:
    run = row.fuzz
    if not run.found:
        return "no" + (f" ({'; '.join(run.errors)})" if run.errors else "")
    if row.variant == "correct":
        return f"FALSE POSITIVE: {', '.join(run.found)}"
    counts = expectation(row.variant)
    # The check that showed first of those that count (the detection), else the first that counts.
    shown = next((check for _, _, check in run.seen if counts(check)), run.found[0])
    more = len(run.found) - 1
    return f"{'yes' if run.expected else 'other'}: {shown}" + (f" +{more}" if more else "")


def _st_checks(kinds: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(kind.split(" on ")[0] for kind in kinds))


def _st_found(row: Row, baseline: set[str]) -> str:
    run = row.st
    if run is None:
        return "(not run)"
    if row.variant == "correct":
        return f"FALSE POSITIVE: {_st_checks(run.found)}" if run.found else "no"
    new = [kind for kind in run.found if kind not in baseline]
    if new:
        return f"yes: {_st_checks(new)}"
    return "no" + (" (baseline only)" if run.found else "")


def _ladder(row: Row) -> str:
    if not row.ladder:
        return "-"
    last = row.ladder[-1]
    return f"{last.budget} s ({last.wall:.1f} s wall)" if last.expected else f"{row.fuzz.budget} s"


def _name(name: str) -> str:
    return f"`{name}`" if is_mutant(name) else name


def table(rows: Sequence[Row], ladder: bool) -> str:
    correct = rows[0] if rows and rows[0].variant == "correct" else None
    baseline = set(correct.st.found) if correct and correct.st else set()
    head = [
        "variant", "kind", "fuzz: found", "fuzz: detected at s (source)", "fuzz: cases/s",
        "fuzz: coverage", "st run: exit", "st run: found (beyond correct)", "st run: detected at s",
        "st run: cases/s", "wall s (fuzz / st)",
    ]  # fmt: skip
    if ladder:
        head.insert(6, "fuzz: smallest budget that finds it")
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" if i < 3 else "--:" for i in range(len(head))) + "|",
    ]
    for row in rows:
        st = row.st
        cells = [
            _name(row.variant), row.kind, _fuzz_found(row), _seconds(row.fuzz), f"{row.fuzz.rate:,.0f}",
            row.fuzz.coverage or "-",
            "-" if st is None else "timeout" if st.exit_code is None else str(st.exit_code),
            _st_found(row, baseline), _seconds(st), "-" if st is None else f"{st.rate:,.0f}",
            f"{row.fuzz.wall:.1f} / " + ("-" if st is None else f"{st.wall:.1f}"),
        ]  # fmt: skip
        if ladder:
            cells.insert(6, _ladder(row))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for label, group in (
        ("zoo variants", [row for row in rows if row.variant in zoo()]),
        ("spec mutants", [row for row in rows if is_mutant(row.variant)]),
    ):
        if not group:
            continue
        found = [row for row in group if row.fuzz.expected]
        sources: dict[str, int] = {}
        for row in found:
            sources[row.fuzz.stage] = sources.get(row.fuzz.stage, 0) + 1
        latest = max((row.fuzz.detected_at or 0.0 for row in found), default=0.0)
        text = (
            f"Of {len(group)} {label}, release-policy fuzz found {len(found)} "
            f"(first by: {', '.join(f'{n} {s}' for s, n in sorted(sources.items())) or 'none'}; "
            f"the latest at {latest:.1f} s)"
        )
        ran = [row for row in group if row.st is not None]
        if ran:
            st_found = sum(1 for row in ran if set(row.st.found if row.st else ()) - baseline)
            text += f"; st run found {st_found} of the {len(ran)} it ran on beyond its baseline"
        lines.append(text + ".")
    if correct is not None:
        lines.append(
            f"On the correct server release-policy fuzz reported {len(correct.fuzz.found)} violation(s) "
            f"(exit {correct.fuzz.exit_code})"
            + (
                f"; st run reported {len(baseline)} failure kind(s), its baseline "
                f"({', '.join(sorted(baseline)) or 'none'})."
                if correct.st
                else "."
            )
        )
    return "\n".join(lines)


def _row(data: dict[str, Any]) -> Row:
    """A row from its ``--json`` form."""

    def run(fields: dict[str, Any]) -> Run:
        return Run(**{**fields, "seen": [tuple(each) for each in fields.get("seen", [])]})

    return Row(
        data["variant"], data["kind"], data["catches"], run(data["fuzz"]),
        run(data["st"]) if data["st"] else None, [run(each) for each in data["ladder"]],
    )  # fmt: skip


def describe_tree() -> str:
    """Which code ran: the snapshot's commit, or the working tree's HEAD and whether it was edited."""
    if TREE.commit:
        return f"commit {TREE.commit[:10]} (a snapshot)"
    git = shutil.which("git")
    if git is None:
        return "the working tree"
    head = subprocess.run(
        [git, "-C", str(REPOSITORY), "rev-parse", "--short=10", "HEAD"], capture_output=True, text=True,
        timeout=60, check=False,
    ).stdout.strip()  # fmt: skip
    edited = subprocess.run(
        [git, "-C", str(REPOSITORY), "status", "--porcelain", "--", "validator", "tests", "spec"],
        capture_output=True, text=True, timeout=60, check=False,
    ).stdout.strip()  # fmt: skip
    return f"the working tree at {head}" + (" with uncommitted edits" if edited else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "variants", nargs="*", metavar="VARIANT",
        help="zoo variants or spec mutants (default: every zoo variant)",
    )  # fmt: skip
    parser.add_argument(
        "--mutants", action="store_true",
        help="add every spec mutant a request can tell apart",
    )  # fmt: skip
    parser.add_argument(
        "--only", action="append", default=[], metavar="PATTERN",
        help="keep only the rows whose name matches this glob (repeatable); the correct server always runs",
    )  # fmt: skip
    parser.add_argument(
        "--st", choices=("all", "zoo", "none"), default="all",
        help="which rows also get a plain st run: all, the correct server and the zoo only, or none",
    )  # fmt: skip
    parser.add_argument(
        "--max-time", type=int, default=30, metavar="S", help="each tool's budget (default 30)"
    )
    parser.add_argument("--seed", type=int, default=1, help="both tools' seed (default 1)")
    parser.add_argument(
        "--ladder", default="", metavar="B1,B2",
        help="smaller fuzzer budgets to try on each row it found (default: none)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="also write every run's raw numbers here")
    parser.add_argument(
        "--render", metavar="PATH", help="only print the table of a --json file of an earlier run, and exit"
    )
    parser.add_argument(
        "--snapshot", metavar="REV",
        help="run the servers, the fuzzer and the zoo from a copy of this commit (git archive), not the "
        "working tree",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.render:
        rows = [_row(data) for data in json.loads(Path(args.render).read_text())]
        print(table(rows, any(row.ladder for row in rows)))
        return 0
    with tempfile.TemporaryDirectory(prefix="fuzz-speed-tree-") as scratch:
        if args.snapshot:
            use_snapshot(args.snapshot, Path(scratch))
        return _main(parser, args)


def _main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    unknown = unknown_names(args.variants)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(unknown)}; choose from {', '.join(zoo())} or a mutant")
    if args.max_time < 1:
        parser.error("--max-time must be at least 1")
    try:
        ladder = [int(part) for part in args.ladder.split(",") if part.strip()]
    except ValueError:
        parser.error("--ladder takes whole seconds separated by commas")
    names = select_names(args.variants, args.mutants, args.only)
    rows: list[Row] = []
    baseline: set[str] | None = None
    load_before = os.getloadavg()[0]
    loads: list[float] = []
    for index, name in enumerate(names, start=1):
        with_st = args.st == "all" or (args.st == "zoo" and not is_mutant(name))
        row = measure(name, args.seed, args.max_time, ladder, baseline, with_st=with_st)
        if name == "correct" and row.st is not None:
            baseline = set(row.st.found)
        rows.append(row)
        loads.append(os.getloadavg()[0])
        print(
            f"[{index}/{len(names)}] {name}: fuzz exit {row.fuzz.exit_code}, {_fuzz_found(row)}, "
            f"{_seconds(row.fuzz)}; st {_st_found(row, baseline or set())}, {_seconds(row.st)}"
            + (f"; ladder {_ladder(row)}" if ladder else "") + f"; load {loads[-1]:.2f}",
            file=sys.stderr, flush=True,
        )  # fmt: skip
        if args.json:
            Path(args.json).write_text(json.dumps([asdict(done) for done in rows], indent=2))
    print(
        f"{describe_tree()}; seed {args.seed}, --max-time {args.max_time} s for each tool; "
        f"{os.cpu_count()} CPUs, "
        f"1-minute load average {load_before:.2f} at the start, {min(loads, default=0):.2f}-"
        f"{max(loads, default=0):.2f} after each row, {os.getloadavg()[0]:.2f} at the end\n"
    )
    print(table(rows, bool(ladder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
