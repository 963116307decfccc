"""The runner: large runs split among worker processes give exactly what one process gives."""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.payloads import ROOT
from validator.linter.runner import PARALLEL_FROM, collect, lint

#: Lints a tree with two workers and with one, in a process of its own: a process with threads (a test
#: runner's worker, say) never forks, so only a fresh one shows the workers at work.
_BOTH_WAYS = """
import multiprocessing, pickle, sys
from validator.linter.runner import lint
forks = []
real = multiprocessing.get_context
multiprocessing.get_context = lambda method=None: forks.append(method) or real(method)
parallel = lint([sys.argv[1]], jobs=2)
serial = lint([sys.argv[1]], jobs=1)
sys.stdout.buffer.write(pickle.dumps((forks, parallel, serial)))
"""


@pytest.mark.slow
def test_parallel_equals_serial(tmp_path: Path) -> None:
    sources = sorted(p for p in (ROOT / "invalid").iterdir() if p.stat().st_size < 20_000)
    count = 0
    while count < PARALLEL_FROM + 20:
        for source in sources:
            directory = tmp_path / f"project-{count // 7}"  # several files a project: project rules run too
            directory.mkdir(exist_ok=True)
            shutil.copy(source, directory / f"{count}{source.suffix}")
            count += 1
    done = subprocess.run(
        [sys.executable, "-c", _BOTH_WAYS, str(tmp_path)], capture_output=True, timeout=300, check=True
    )
    forks, parallel, serial = pickle.loads(done.stdout)  # noqa: S301 - our own child's output
    assert forks == ["fork"]
    assert serial.files_checked == count
    assert parallel == serial
    assert {f.rule for f in serial.findings} >= {"contract", "syntax", "duplicate-policy-key"}


class _SerialPool:
    """A stand-in for a fork pool: this test checks when workers are used, not the forking itself."""

    def __init__(self, processes: int) -> None:
        self.processes = processes

    def __enter__(self) -> _SerialPool:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def apply_async(self, function: Any, arguments: tuple[Any, ...]) -> Any:
        result = function(*arguments)
        return type("Done", (), {"get": lambda self: result})()


@pytest.mark.parametrize(
    ("files", "jobs", "threads", "forks"),
    [
        (PARALLEL_FROM, 2, 1, ["fork"]),
        (PARALLEL_FROM - 1, 2, 1, []),
        (PARALLEL_FROM, 1, 1, []),
        (PARALLEL_FROM, 2, 3, []),  # a process with threads lints serially: fork would copy their locks
    ],
)
def test_workers_only_for_large_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, files: int, jobs: int, threads: int, forks: list[str]
) -> None:
    for index in range(files):  # one project each, so no key repeats
        (tmp_path / str(index)).mkdir()
        shutil.copy(ROOT / "valid" / "minimal.yaml", tmp_path / str(index) / "policy.yaml")
    contexts: list[str] = []

    def spy(method: str | None = None) -> Any:
        contexts.append(str(method))
        return type("Context", (), {"Pool": _SerialPool})

    monkeypatch.setattr(multiprocessing, "get_context", spy)
    # The test runner's own threads (pytest-xdist's, a live server's) are not the linter's business.
    monkeypatch.setattr(threading, "active_count", lambda: threads)
    result = lint([tmp_path], jobs=jobs)
    assert (result.files_checked, len(result.findings)) == (files, 0)
    assert contexts == forks


def test_collect_keeps_order_and_drops_repeats(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "a.yaml").write_text("{}")
    assert collect([tmp_path / "b.json", tmp_path, tmp_path / "a.yaml"]) == [
        tmp_path / "b.json",
        tmp_path / "a.yaml",
    ]
