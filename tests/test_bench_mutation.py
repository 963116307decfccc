"""The mutation benchmark (bench/mutation.py) serves the mutant it names, not the original code.

A harness that silently served the original code would report every mutant of
the state rules as killed by nothing, or worse, as a perfect score if it ran
the fuzzer's model on the mutant too. This runs no fuzzer: it generates the
mutants with mutmut (the ``bench`` extra; skipped without it) and asks three
servers of the mutants tree for a create.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import REPOSITORY

pytest.importorskip("mutmut", reason="the bench extra (mutmut) is not installed")


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_mutation", REPOSITORY / "bench" / "mutation.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_server_of_the_mutants_tree_runs_the_mutant_it_is_given(tmp_path: Path) -> None:
    mutation = _benchmark()
    mutation.snapshot(tmp_path, None)
    mutants = mutation.generate(tmp_path)
    files = {mutant.file for mutant in mutants}
    assert files == {"validator/state.py", "validator/server/store.py"}
    # The harness' own proof: no mutant answers 201 with _id, "fail" does not start, the witness
    # (Policy.to_json answering "XX_idXX" for "_id") answers without _id.
    mutation.verify_harness(tmp_path, mutants)
    witness = next(m for m in mutants if (m.function, m.change) == mutation.WITNESS)
    with mutation.mutant_server(tmp_path, witness.name) as url:
        status, answer = mutation._create(url)
    assert status == 201
    assert "XX_idXX" in answer
    assert "_id" not in answer
    with mutation.mutant_server(tmp_path, "") as url:
        status, answer = mutation._create(url)
    assert status == 201
    assert "_id" in answer
