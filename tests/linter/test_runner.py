"""The runner: large runs split among worker processes give exactly what one process gives."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.payloads import ROOT
from validator.linter.runner import PARALLEL_FROM, collect, lint


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
    serial = lint([tmp_path], jobs=1)
    parallel = lint([tmp_path], jobs=2)
    assert serial.files_checked == count
    assert parallel == serial
    assert {f.rule for f in serial.findings} >= {"contract", "syntax", "duplicate-policy-key"}


@pytest.mark.parametrize(
    ("files", "jobs", "forks"),
    [(PARALLEL_FROM, 2, ["fork"]), (PARALLEL_FROM - 1, 2, []), (PARALLEL_FROM, 1, [])],
)
def test_workers_only_for_large_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int, jobs: int, forks: list[str]
) -> None:
    for index in range(files):  # one project each, so no key repeats
        (tmp_path / str(index)).mkdir()
        shutil.copy(ROOT / "valid" / "minimal.yaml", tmp_path / str(index) / "policy.yaml")
    contexts: list[str] = []
    real = multiprocessing.get_context

    def spy(method: str | None = None) -> Any:
        contexts.append(str(method))
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", spy)
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
