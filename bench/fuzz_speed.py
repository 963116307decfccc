"""Benchmark: `release-policy fuzz` against a plain `st run`, on every variant of the zoo.

    .venv/bin/python bench/fuzz_speed.py [--max-time 30] [--seed 1] [--ladder 1,5,10] [VARIANT ...]

For each variant of ``tests/fuzz/zoo.py`` (all 23 by default, or those named),
and for the correct reference server first, both tools run against the same
spec, tokens and project, with the same --max-time and --seed, one after the
other, each against a fresh server of its own (``python -m
tests.fuzz.zoo_server NAME``: the fuzzer's project must start empty, and
state left by one tool would change what the other sees):

``release-policy fuzz --url URL --token writer-token --reader-token reader-token
--project default --project other --seed S --max-time T --report json``

``st --config-file C run spec/release-policies.yaml --url URL -H 'Authorization:
writer-token' -H 'LD-API-Version: beta' --max-time T --seed S --report json,ndjson``

where C holds only ``[parameters] "path.projectKey" = "default"``: without it
Schemathesis generates project keys at random and nearly every request ends in a
404 of an unknown project. Everything else in the ``st run`` is Schemathesis'
default: all its checks, all four phases, one worker, no custom check. Each
tool runs in a temporary directory of its own, so Schemathesis' example
database and cache start empty every time.

What the table shows, per tool:

found
    release-policy fuzz: it exited 1 and reported a violation; "yes" when one of
    the checks the zoo lists for the variant (``Variant.catches``) is among
    them, "other" when only other checks fired. st run: its failures of kinds
    (check and operation) that the same ``st run`` does not report against the
    correct server, by check name. Plain ``st run`` fails on the correct server
    too (the "correct" row), so its exit code alone says nothing; the
    correct-server row is its baseline.

detected at
    Seconds from launching the tool's process to the first moment its own
    output shows a failure it reports, so interpreter start-up is included. For
    ``st run``, the timestamp of the first failed scenario (one operation in one
    phase) of a new kind in its NDJSON event stream. For the fuzzer, read from
    its progress lines on stderr (the arrival time of each line): a probe
    violation when the probes end (the "oracle: model-based sequences" line),
    an oracle violation when the oracle reports shrinking it (the oracle does
    not say when it finds one, only after its search, which takes a fixed half
    of the budget left after the probes; so this is an upper bound set by the
    budget), a Schemathesis violation at its first failed scenario line. The
    stage is named with the time.

cases/s
    Requests generated and answered per second of the tool's own run time.
    The fuzzer: (oracle requests + Schemathesis test cases) / seconds from its
    JSON report (the probes' few dozen requests are in the seconds but not
    counted). st run: the interactions with a response in its NDJSON stream /
    its JSON report's running time (equal to its "generated" count when no
    request errs).

--ladder B1,B2,... reruns the fuzzer on each variant it found, with each
smaller budget in turn (a fresh server each), until one finds it too; the
table then shows the smallest such budget and that run's wall time: what a
user with that budget waits for the answer. That is the tighter measure for
the variants only the oracle finds. Every process runs under a timeout and
is killed with its process group when it overstays.
"""

from __future__ import annotations

import argparse
import contextlib
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
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
SPEC = REPOSITORY / "spec" / "release-policies.yaml"
sys.path.insert(0, str(REPOSITORY))  # the zoo lives in tests/, which is not installed

from tests.fuzz.zoo import ZOO  # noqa: E402
from tests.server.live import READER, WRITER  # noqa: E402

PROJECTS = ("default", "other")
SERVER_START_TIMEOUT = 60.0
ST_CONFIG = '[parameters]\n"path.projectKey" = "default"\n'
#: Schemathesis' phases that send test cases.
ST_TESTING = frozenset({"examples", "coverage", "fuzzing", "stateful"})
_FAILED_SCENARIO = re.compile(r"^\[\s*[\d.]+s\] (?:examples|coverage|fuzzing|stateful): .+: failure$")


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
    cases: int = 0
    seconds: float = 0.0
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
    st: Run
    ladder: list[Run] = field(default_factory=list)


def executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"fuzz_speed: {name} not found next to {sys.executable} or on PATH")
    return found


def _stop(process: subprocess.Popen[Any]) -> None:
    """End the process and its group: politely, then not."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


@contextlib.contextmanager
def serve(name: str) -> Iterator[str]:
    """The URL of a fresh server broken as the zoo's ``name`` says (``correct``: not broken)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fuzz.zoo_server", name],
        cwd=REPOSITORY, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, start_new_session=True,
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
        process.stdin.close()  # the zoo server serves until its standard input closes
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        _stop(process)
        process.stdout.close()


def execute(
    argv: Sequence[str], cwd: Path, timeout: float
) -> tuple[int | None, float, float, list[tuple[float, str]]]:
    """Run a command: its exit code (None if it timed out), the launch's epoch time, its wall time,
    and each line of its stderr with the seconds from launch at which it arrived."""
    lines: list[tuple[float, str]] = []
    started_epoch, started = time.time(), time.monotonic()
    with (cwd / "stdout.txt").open("w") as stdout:
        process = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        assert process.stderr is not None
        stderr = process.stderr

        def read() -> None:
            for line in stderr:
                lines.append((time.monotonic() - started, line.rstrip("\n")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        code: int | None
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _stop(process)
        wall = time.monotonic() - started
        reader.join(timeout=10)
        stderr.close()
    return code, started_epoch, wall, lines


def fuzz(url: str, seed: int, budget: int, workdir: Path, catches: frozenset[str]) -> Run:
    argv = [
        executable("release-policy"), "fuzz", "--url", url, "--token", WRITER, "--reader-token", READER,
        *(part for project in PROJECTS for part in ("--project", project)),
        "--seed", str(seed), "--max-time", str(budget),
        "--report", "json", "--report-dir", str(workdir / "report"),
    ]  # fmt: skip
    code, _, wall, lines = execute(argv, workdir, timeout=3 * budget + 120)
    run = Run("release-policy fuzz", budget, code, wall)
    if code is None:
        run.errors.append("timed out")
    try:
        report = json.loads((workdir / "report" / "fuzz.json").read_text())
    except (OSError, ValueError) as error:
        run.errors.append(f"no JSON report ({error}); stderr: {' | '.join(line for _, line in lines[-3:])}")
        return run
    stats = report["stats"]
    run.cases = int(stats.get("oracle requests", 0) + stats.get("schemathesis test cases", 0))
    run.seconds = float(stats.get("seconds", 0))
    run.errors += report.get("errors", [])
    checks = [violation["check"] for violation in report["violations"]]
    run.found = sorted(dict.fromkeys(checks), key=lambda check: (check not in catches, check))
    stages = {
        "oracle" if check.startswith("oracle:") else "schemathesis" if check.startswith("schemathesis:")
        else "probes"
        for check in checks
    }  # fmt: skip
    evidence: dict[str, float] = {}
    for at, line in lines:
        if "] oracle: model-based sequences" in line:
            evidence.setdefault("probes", at)
        elif "] oracle: shrinking a " in line:
            evidence.setdefault("oracle", at)
        elif _FAILED_SCENARIO.match(line):
            evidence.setdefault("schemathesis", at)
    seen = sorted((evidence.get(stage, wall), stage) for stage in stages)
    if seen:
        run.detected_at, run.stage = seen[0]
    return run


def st_run(url: str, seed: int, budget: int, workdir: Path) -> tuple[Run, dict[str, float]]:
    """A plain ``st run``; also the first time (seconds from launch) each failure kind showed."""
    config = workdir / "schemathesis.toml"
    config.write_text(ST_CONFIG)
    argv = [
        executable("st"), "--config-file", str(config), "run", str(SPEC), "--url", url,
        "-H", f"Authorization: {WRITER}", "-H", "LD-API-Version: beta",
        "--max-time", str(budget), "--seed", str(seed),
        "--report", "json,ndjson", "--report-dir", str(workdir / "report"), "--no-color",
    ]  # fmt: skip
    code, launched, wall, lines = execute(argv, workdir, timeout=2 * budget + 120)
    run = Run("st run", budget, code, wall)
    if code is None:
        run.errors.append("timed out")
    first: dict[str, float] = {}
    try:
        report = json.loads(next((workdir / "report").glob("json-*.json")).read_text())
        events = next((workdir / "report").glob("ndjson-*.ndjson")).read_text().splitlines()
    except (OSError, ValueError, StopIteration) as error:
        run.errors.append(f"no report ({error}); stderr: {' | '.join(line for _, line in lines[-3:])}")
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
                    first.setdefault(kind, finished["timestamp"] - launched)
    run.found = sorted(first)
    return run, first


def measure(name: str, seed: int, budget: int, ladder: Sequence[int], baseline: set[str] | None) -> Row:
    variant = ZOO.get(name)
    catches = variant.catches if variant else frozenset()
    with tempfile.TemporaryDirectory(prefix=f"fuzz-speed-{name}-") as scratch:
        root = Path(scratch)
        (root / "fuzz").mkdir()
        with serve(name) as url:
            fuzzed = fuzz(url, seed, budget, root / "fuzz", catches)
        (root / "st").mkdir()
        with serve(name) as url:
            st, first = st_run(url, seed, budget, root / "st")
        new = {kind: at for kind, at in first.items() if baseline is None or kind not in baseline}
        if new:
            st.detected_at = min(new.values())
            st.stage = "new kind" if baseline is not None else "any failure"
        row = Row(
            name, variant.kind if variant else "(none: the reference server)", sorted(catches), fuzzed, st
        )
        if fuzzed.found:
            for smaller in sorted(b for b in ladder if b < budget):
                directory = root / f"ladder-{smaller}"
                directory.mkdir()
                with serve(name) as url:
                    row.ladder.append(fuzz(url, seed, smaller, directory, catches))
                if row.ladder[-1].found:
                    break
    return row


def _seconds(run: Run) -> str:
    if run.detected_at is None:
        return "-"
    return f"{run.detected_at:.1f} ({run.stage})"


def _fuzz_found(row: Row) -> str:
    run = row.fuzz
    if not run.found:
        return "no" + (f" ({'; '.join(run.errors)})" if run.errors else "")
    if row.variant == "correct":
        return f"FALSE POSITIVE: {', '.join(run.found)}"
    expected = [check for check in run.found if check in row.catches]
    verdict = "yes" if expected else "other"
    shown = expected[:1] or run.found[:1]
    more = len(run.found) - len(shown)
    return f"{verdict}: {shown[0]}" + (f" +{more}" if more else "")


def _st_checks(kinds: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(kind.split(" on ")[0] for kind in kinds))


def _st_found(row: Row, baseline: set[str]) -> str:
    run = row.st
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
    return f"{last.budget} s ({last.wall:.1f} s wall)" if last.found else f"{row.fuzz.budget} s"


def table(rows: Sequence[Row], ladder: bool) -> str:
    baseline = set(rows[0].st.found) if rows and rows[0].variant == "correct" else set()
    head = [
        "variant", "kind", "fuzz: found", "fuzz: detected at s", "fuzz: cases/s",
        "st run: exit", "st run: found (beyond correct)", "st run: detected at s", "st run: cases/s",
        "wall s (fuzz / st)",
    ]  # fmt: skip
    if ladder:
        head.insert(5, "fuzz: smallest budget that finds it")
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" if i < 3 else "--:" for i in range(len(head))) + "|",
    ]
    for row in rows:
        cells = [
            row.variant, row.kind, _fuzz_found(row), _seconds(row.fuzz), f"{row.fuzz.rate:,.0f}",
            "timeout" if row.st.exit_code is None else str(row.st.exit_code), _st_found(row, baseline),
            _seconds(row.st), f"{row.st.rate:,.0f}", f"{row.fuzz.wall:.1f} / {row.st.wall:.1f}",
        ]  # fmt: skip
        if ladder:
            cells.insert(5, _ladder(row))
        lines.append("| " + " | ".join(cells) + " |")
    variants = [row for row in rows if row.variant != "correct"]
    fuzz_found = sum(1 for row in variants if row.fuzz.found)
    fuzz_expected = sum(1 for row in variants if set(row.fuzz.found) & set(row.catches))
    st_found = sum(1 for row in variants if set(row.st.found) - baseline)
    lines += [
        "",
        f"Of {len(variants)} broken variants, release-policy fuzz found {fuzz_found} "
        f"({fuzz_expected} with a check the zoo expects); st run found {st_found} beyond the "
        f"{len(baseline)} failure kind(s) it reports on the correct server "
        f"({', '.join(sorted(baseline)) or 'none'}).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "variants", nargs="*", metavar="VARIANT", help=f"zoo variants (default: all {len(ZOO)})"
    )
    parser.add_argument(
        "--max-time", type=int, default=30, metavar="S", help="each tool's budget (default 30)"
    )
    parser.add_argument("--seed", type=int, default=1, help="both tools' seed (default 1)")
    parser.add_argument(
        "--ladder", default="", metavar="B1,B2",
        help="smaller fuzzer budgets to try on each variant it found (default: none)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="also write every run's raw numbers here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.variants if name not in ZOO and name != "correct"]
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(unknown)}; choose from {', '.join(ZOO)}")
    if args.max_time < 1:
        parser.error("--max-time must be at least 1")
    try:
        ladder = [int(part) for part in args.ladder.split(",") if part.strip()]
    except ValueError:
        parser.error("--ladder takes whole seconds separated by commas")
    names = ["correct", *dict.fromkeys(name for name in (args.variants or ZOO) if name != "correct")]
    rows: list[Row] = []
    baseline: set[str] | None = None
    load_before = os.getloadavg()[0]
    for index, name in enumerate(names, start=1):
        row = measure(name, args.seed, args.max_time, ladder, baseline)
        if name == "correct":
            baseline = set(row.st.found)
        rows.append(row)
        print(
            f"[{index}/{len(names)}] {name}: fuzz exit {row.fuzz.exit_code}, {_fuzz_found(row)}, "
            f"{_seconds(row.fuzz)}; st exit {row.st.exit_code}, {_st_found(row, baseline or set())}, "
            f"{_seconds(row.st)}" + (f"; ladder {_ladder(row)}" if ladder else ""),
            file=sys.stderr, flush=True,
        )  # fmt: skip
        if args.json:
            Path(args.json).write_text(json.dumps([asdict(done) for done in rows], indent=2))
    print(
        f"seed {args.seed}, --max-time {args.max_time} s for each tool; {os.cpu_count()} CPUs, "
        f"1-minute load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end\n"
    )
    print(table(rows, bool(ladder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
