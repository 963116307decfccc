"""Paths and loaders the test modules share."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from validator.state import Project

TESTS = Path(__file__).parent
SEEDS = TESTS / "seeds"
REPOSITORY = TESTS.parent


def rank_problems(project: Project) -> list[str]:
    """What is wrong with the ranks of a project read back from a server, if anything (the test's own
    statement of the rank rule, independent of ``validator.state``'s operations)."""
    problems = []
    defaults = [policy for policy in project.policies if policy.is_default]
    if len(defaults) > 1:
        problems.append(f"{len(defaults)} default policies: {[p.key for p in defaults]}")
    problems.extend(f"default policy {p.key} has rank {p.rank}, not 0" for p in defaults if p.rank != 0)
    ranks = sorted(policy.rank for policy in project.scoped)
    if ranks != list(range(1, len(ranks) + 1)):
        problems.append(f"scoped ranks are {ranks}, not 1..{len(ranks)}")
    keys = [policy.key for policy in project.policies]
    if len(set(keys)) != len(keys):
        problems.append("a key occurs twice")
    return problems


def load_seed(name: str) -> Any:
    return json.loads((SEEDS / name).read_text(encoding="utf-8"))


@contextmanager
def served(module: str, *arguments: str) -> Iterator[str]:
    """The URL that ``python -m module arguments...`` prints once it serves; the server stops when its
    standard input closes (as ``tests.fuzz.zoo_server`` and ``tests.fuzz.garbage_server`` do)."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *arguments],
        cwd=REPOSITORY, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the {' '.join(arguments)} server did not start")
        yield url
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
