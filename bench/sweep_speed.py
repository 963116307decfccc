"""Benchmark: how long the boundary sweep takes against the bundled reference server.

    .venv/bin/python bench/sweep_speed.py [--runs 5]

The target is the fuzz command's embedded default (``validator.fuzz.local``:
the Starlette app over a SQLite file, under uvicorn, in this process), so the
fuzzer and the server share the interpreter as in ``release-policy fuzz``.
Each run starts from an empty project; the plan (bodies derived from the spec)
is made once per process and counted in the first run only. Prints each run's
seconds and requests, then the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from validator.fuzz.local import reference_server
from validator.fuzz.sweep import run_sweep
from validator.fuzz.target import Session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    seconds = []
    with reference_server() as target, Session(target) as session:
        for index in range(1, runs + 1):
            started = time.perf_counter()
            result = run_sweep(session)
            seconds.append(time.perf_counter() - started)
            if result.violations:
                raise SystemExit(f"the reference server broke a constraint: {result.violations[0].message}")
            print(f"run {index}: {seconds[-1]:.2f} s, {result.requests} requests")
    load = os.getloadavg()[0]
    print(f"median {statistics.median(seconds):.2f} s over {runs} runs; 1-minute load average {load:.2f}")


if __name__ == "__main__":
    main()
