"""Benchmark: is every zoo variant and every spec mutant found within 15 s at each of five seeds?

    .venv/bin/python bench/fuzz_power.py [--max-time 15] [--seeds 1,2,3,4,5] [--jobs 2]
        [--no-zoo] [--no-mutants] [--only PATTERN] [--snapshot REV] [--out PATH] [--json PATH] [NAME ...]

The issue's "done when": every spec mutant and every zoo variant is found with
``--max-time 15`` at each of five seeds, and the reference server gives zero
findings at five seeds. For each seed and each row (the correct reference
server, every variant of ``tests/fuzz/zoo.py``, every spec mutant of
``tests/fuzz/spec_mutants.py`` not in its ``EQUIVALENT``), a fresh server
(``python -m tests.fuzz.zoo_server NAME`` on 127.0.0.1) and

``release-policy fuzz --url URL --token writer-token --reader-token reader-token
--project default --project other --max-time 15 --seed S``

What counts as found: a ``VIOLATION`` line on the fuzzer's stderr (printed the
moment a violation is found) whose check the row expects: for a zoo variant
one of its ``Variant.catches`` (``tour:R`` counting as ``oracle:R``: the state
tour judges by the oracle's model and names its checks by the same rules); for
a spec mutant any check at all (it differs from the reference server only in
the constraint it lacks, and the reference server gives none). The run is
stopped (with its process group) as soon as that line arrives: that is
detection within the budget, and the time shown is the one printed on the line
(the fuzzer's own clock, from its start; the interpreter's start-up is not in
it), with the source named by the check's prefix (``sweep:``, ``tour:``,
``oracle:``, ``schemathesis:``, else a probe). A run that ends without one is
MISSED (with the other checks it reported, if any). The correct server's runs
always go to the end, and pass only with exit 0 and no VIOLATION line.

At most ``--jobs`` runs (server and fuzzer) at a time; every process under a
timeout, killed with its process group when it overstays.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fuzz_speed import (
    describe_tree,
    execute,
    expectation,
    fuzz_argv,
    is_mutant,
    select_names,
    serve,
    source,
    unknown_names,
    use_snapshot,
    violation_lines,
    zoo,
)

#: Lines of the fuzzer's stderr kept for a run that missed or failed.
TAIL = 25


@dataclass
class Outcome:
    """One fuzz run of one row at one seed."""

    name: str
    seed: int
    found_at: float | None = None  # the printed time of the expected VIOLATION line
    check: str = ""
    exit_code: int | None = None
    stopped: bool = False  # stopped on purpose at the expected line
    timed_out: bool = False
    wall: float = 0.0
    #: Checks of every VIOLATION line (for the correct server, and the other checks of a miss).
    violations: list[str] = field(default_factory=list)
    other_at: float = 0.0  # the printed time of the first VIOLATION line, when none was expected
    error: str = ""
    tail: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.found_at is not None

    @property
    def clean(self) -> bool:
        """For the correct server: ran to the end, exit 0, no violation."""
        return self.exit_code == 0 and not self.violations and not self.timed_out and not self.error

    def cell(self) -> str:
        if self.name == "correct":
            if self.clean:
                return f"clean ({self.wall:.0f} s)"
            what = ", ".join(dict.fromkeys(self.violations)) or self.error or "timed out"
            return f"**{len(self.violations)} violation(s), exit {self.exit_code}**: {what}"
        if self.found_at is not None:
            return f"{self.found_at:.1f} {source(self.check)}"
        others = list(dict.fromkeys(self.violations))
        other = f" (other: {others[0]} at {self.other_at:.1f}" + (
            f" +{len(others) - 1})" if others[1:] else ")"
        )
        return "**MISSED**" + (other if others else "") + (f" ({self.error})" if self.error else "")


def run_one(name: str, seed: int, budget: int) -> Outcome:
    counts: Callable[[str], bool] = expectation(name)
    outcome = Outcome(name, seed)
    final = name == "correct"

    def expected(line: str) -> bool:
        return any(counts(seen.check) for seen in violation_lines([(0.0, line)]))

    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="fuzz-power-") as scratch, serve(name) as url:
            root = Path(scratch)
            done = execute(
                fuzz_argv(url, seed, budget, root / "report"), root, timeout=budget + 90,
                stop_at=None if final else expected,
            )  # fmt: skip
    except (RuntimeError, OSError) as error:
        outcome.error = str(error)
        outcome.wall = time.monotonic() - started
        return outcome
    outcome.exit_code, outcome.stopped, outcome.timed_out = done.exit_code, done.stopped, done.timed_out
    outcome.wall = done.wall
    seen = violation_lines(done.lines)
    outcome.violations = [each.check for each in seen]
    first = next((each for each in seen if counts(each.check)), None)
    if first is not None:
        outcome.found_at, outcome.check = first.at, first.check
    elif seen:
        outcome.other_at = seen[0].at
    if done.timed_out:
        outcome.error = "timed out"
    elif not done.stopped and done.exit_code not in (0, 1):
        outcome.error = f"exit {done.exit_code}"
    if (final and not outcome.clean) or (not final and not outcome.found):
        outcome.tail = [line for _, line in done.lines[-TAIL:]]
    return outcome


def table(names: Sequence[str], seeds: Sequence[int], outcomes: dict[tuple[str, int], Outcome]) -> str:
    head = ["row", "kind", *(f"seed {seed}" for seed in seeds)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["--:"] * len(seeds)) + "|"]
    for name in names:
        shown = f"`{name}`" if is_mutant(name) else name
        what = (
            "reference server"
            if name == "correct"
            else "spec mutant"
            if is_mutant(name)
            else f"zoo: {zoo()[name].kind}"
        )
        cells = [outcomes[name, seed].cell() if (name, seed) in outcomes else "(not run)" for seed in seeds]
        lines.append("| " + " | ".join([shown, what, *cells]) + " |")
    return "\n".join(lines)


def summary(
    names: Sequence[str], seeds: Sequence[int], outcomes: dict[tuple[str, int], Outcome], budget: int
) -> str:
    rows = [name for name in names if name != "correct"]

    def always(group: Sequence[str]) -> int:
        return sum(1 for name in group if all(outcomes[name, seed].found for seed in seeds))

    zoo_rows = [name for name in rows if not is_mutant(name)]
    mutant_rows = [name for name in rows if is_mutant(name)]
    found = [outcomes[name, seed] for name in rows for seed in seeds if outcomes[name, seed].found]
    latest = max(found, key=lambda each: each.found_at or 0.0, default=None)
    sources: dict[str, int] = {}
    for each in found:
        sources[source(each.check)] = sources.get(source(each.check), 0) + 1
    text = [
        f"Found {always(rows)} of {len(rows)} at every seed ({', '.join(map(str, seeds))}): "
        f"zoo {always(zoo_rows)} of {len(zoo_rows)}, spec mutants {always(mutant_rows)} of "
        f"{len(mutant_rows)}; {len(found)} of {len(rows) * len(seeds)} runs found theirs, first by "
        + ", ".join(f"{count} {name}" for name, count in sorted(sources.items()))
        + (
            f"; the latest at {latest.found_at:.1f} s ({latest.name}, seed {latest.seed})."
            if latest is not None and latest.found_at is not None
            else "."
        )
    ]
    late = [each for each in found if (each.found_at or 0.0) > budget]
    if late:
        text.append(
            f"Found later than {budget} s on the fuzzer's clock (in a run with --max-time {budget}): "
            + "; ".join(f"{each.name} at seed {each.seed}, {each.found_at:.1f} s" for each in late)
            + "."
        )
    if "correct" in names:
        counts = ", ".join(
            f"seed {seed}: {len(run.violations)} (exit {run.exit_code})"
            for seed, run in ((seed, outcomes["correct", seed]) for seed in seeds)
        )
        text.append(f"Correct server: violations at each seed: {counts}.")
    missed = [outcomes[name, seed] for name in rows for seed in seeds if not outcomes[name, seed].found]
    if missed:
        text.append("MISSED: " + "; ".join(f"{each.name} at seed {each.seed}" for each in missed) + ".")
    return "\n".join(text)


def details(names: Sequence[str], seeds: Sequence[int], outcomes: dict[tuple[str, int], Outcome]) -> str:
    """The fuzzer's stderr tail of every miss and every unclean correct-server run."""
    parts = []
    for name in names:
        for seed in seeds:
            outcome = outcomes[name, seed]
            if outcome.tail or outcome.error:
                parts += [
                    f"### {name}, seed {seed}: {outcome.cell()}",
                    "",
                    "```",
                    *(outcome.tail or ["(no output)"]),
                    "```",
                    "",
                ]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="zoo variants or spec mutants (default: all)"
    )
    parser.add_argument("--max-time", type=int, default=15, metavar="S", help="the fuzzer's budget (15)")
    parser.add_argument("--seeds", default="1,2,3,4,5", metavar="S1,S2", help="seeds (default 1,2,3,4,5)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--no-zoo", action="store_true", help="leave out the zoo")
    parser.add_argument("--no-mutants", action="store_true", help="leave out the spec mutants")
    parser.add_argument(
        "--only", action="append", default=[], metavar="PATTERN",
        help="keep only the rows whose name matches this glob (repeatable); the correct server always runs",
    )  # fmt: skip
    parser.add_argument(
        "--snapshot", metavar="REV",
        help="run the servers, the fuzzer and the zoo from a copy of this commit, not the working tree",
    )  # fmt: skip
    parser.add_argument("--out", metavar="PATH", help="also write the Markdown here")
    parser.add_argument("--json", metavar="PATH", help="also write every run's raw outcome here")
    args = parser.parse_args(argv)
    try:
        seeds = [int(part) for part in args.seeds.split(",") if part.strip()]
    except ValueError:
        parser.error("--seeds takes whole numbers separated by commas")
    if args.max_time < 1 or args.jobs < 1 or not seeds:
        parser.error("--max-time and --jobs must be at least 1, and --seeds name one seed or more")
    with tempfile.TemporaryDirectory(prefix="fuzz-power-tree-") as scratch:
        if args.snapshot:
            use_snapshot(args.snapshot, Path(scratch))
        unknown = unknown_names(args.names)
        if unknown:
            parser.error(f"unknown name(s): {', '.join(unknown)}")
        names = select_names(args.names, not args.no_mutants, args.only, with_zoo=not args.no_zoo)
        return _run(args, names, seeds)


def _run(args: argparse.Namespace, names: Sequence[str], seeds: Sequence[int]) -> int:
    jobs = [(name, seed) for seed in seeds for name in names]
    outcomes: dict[tuple[str, int], Outcome] = {}
    lock = threading.Lock()
    loads = [os.getloadavg()[0]]
    started = time.monotonic()

    def one(job: tuple[str, int]) -> None:
        outcome = run_one(*job, args.max_time)
        with lock:
            outcomes[job] = outcome
            loads.append(os.getloadavg()[0])
            print(
                f"[{len(outcomes)}/{len(jobs)} {time.monotonic() - started:6.0f}s] seed {job[1]} {job[0]}: "
                f"{outcome.cell()} (wall {outcome.wall:.1f} s, load {loads[-1]:.2f})",
                file=sys.stderr, flush=True,
            )  # fmt: skip
            if args.json:
                Path(args.json).write_text(json.dumps([asdict(each) for each in outcomes.values()], indent=1))

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done in [pool.submit(one, job) for job in jobs]:
            done.result()
    minutes = (time.monotonic() - started) / 60
    text = (
        "\n".join(
            [
                f"{describe_tree()}; --max-time {args.max_time}, seeds {', '.join(map(str, seeds))}; "
                f"{len(jobs)} runs, {args.jobs} at a time, {minutes:.0f} min; {os.cpu_count()} CPUs, "
                f"1-minute load average {min(loads):.2f}-{max(loads):.2f} (at the start and after each run)",
                "",
                table(names, seeds, outcomes),
                "",
                summary(names, seeds, outcomes, args.max_time),
                "",
                details(names, seeds, outcomes),
            ]
        ).rstrip()
        + "\n"
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    rows = [name for name in names if name != "correct"]
    passed = all(outcomes[name, seed].found for name in rows for seed in seeds) and all(
        outcomes["correct", seed].clean for seed in seeds
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
