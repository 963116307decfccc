"""Four shards and a merge, against the reference server and a broken one, with shared failure stores.

Fixed amounts of work only, and as little as proves the point. Against the reference server the
shards and the run four times as long are run once for the module and shared by its tests. Coverage
depends on none of the oracle's sequences (the tour reaches every state rule and the reserved key's
405s, the sweep every constraint, the probes the other statuses), so the shards get two each;
Schemathesis' examples get one each (four times that for the shard's operations), against four for
the whole run. Against the broken server only the sources that find its rule run (the tour and the
oracle), with enough sequences that two shards find it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.fuzz.redis_server import redis_server
from tests.fuzz.zoo import ZOO
from tests.fuzz.zoo_server import variant_server
from tests.server.live import READER, WRITER, live_server
from validator.fuzz.failures import load, open_store
from validator.fuzz.fingerprint import fingerprint
from validator.fuzz.merge import Shard as Report
from validator.fuzz.merge import merge, read
from validator.fuzz.progress import Progress
from validator.fuzz.reports import json_report
from validator.fuzz.run import FuzzOptions, FuzzResult, fuzz
from validator.fuzz.shard import Shard
from validator.fuzz.target import Target

pytestmark = pytest.mark.slow

SHARD = FuzzOptions(seed=515, max_time=600, oracle_sequences=2, phase_examples=1, fixed_work=True, reset=True)
WHOLE = replace(SHARD, oracle_sequences=8, phase_examples=4)
BROKEN = "two-defaults"
BROKEN_SHARD = replace(SHARD, oracle_sequences=10, sources=frozenset({"tour", "oracle"}))


def _report(result: FuzzResult, seed: int) -> Report:
    """The result as ``fuzz merge`` reads it: through its JSON report."""
    return read(json_report(result, seed), "shard")


@dataclass(frozen=True)
class Runs:
    shards: list[FuzzResult]
    merged: FuzzResult
    whole: FuzzResult


@pytest.fixture(scope="module")
def reference_runs() -> Runs:
    """Four shards, their merge, and one run four times as long, against one reference server."""
    with live_server() as server:
        target = Target(server.url, WRITER, ("default", "other"), READER)
        shards = [fuzz(target, replace(SHARD, shard=Shard(index, 4))) for index in range(1, 5)]
        whole = fuzz(target, WHOLE)
    return Runs(shards, merge([_report(result, SHARD.seed) for result in shards]), whole)


def test_four_shards_merged_find_nothing_and_cover_what_one_run_four_times_as_long_covers(
    reference_runs: Runs,
) -> None:
    merged, whole = reference_runs.merged, reference_runs.whole
    assert [(v.check, v.message) for v in merged.violations] == []
    assert merged.errors == () == whole.errors
    assert merged.coverage is not None
    assert whole.coverage is not None
    assert merged.coverage.missing() == whole.coverage.missing() == []
    assert merged.coverage == whole.coverage


def test_the_shards_do_the_work_of_the_longer_run_with_no_overlap(reference_runs: Runs) -> None:
    merged, whole = reference_runs.merged, reference_runs.whole
    assert merged.stats["oracle sequences"] == whole.stats["oracle sequences"] == 8
    # The shards' sweeps together sent the cases of one sweep, each once.
    assert merged.stats["sweep requests"] == pytest.approx(whole.stats["sweep requests"], rel=0.25)
    assert [result.stats["shard"] for result in reference_runs.shards] == [1, 2, 3, 4]


def test_the_reserved_keys_405s_never_depend_on_the_oracles_draws(reference_runs: Runs) -> None:
    # The shard with the tour answers every 405 goal itself: the coverage above is not luck.
    first = reference_runs.shards[0].coverage
    assert first is not None
    reserved = {(operation, seen) for operation, status, seen in first.statuses if status == "405"}
    assert reserved == {("GetReleasePolicy", True), ("PutReleasePolicy", True), ("DeleteReleasePolicy", True)}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def _replays(heard: list[float]) -> Callable[[str, str], None]:
    """A progress callback noting when each replayed failure is reported."""

    def found(check: str, message: str) -> None:
        if message.endswith("(stored failure, replayed)"):
            heard.append(time.monotonic())

    return found


def test_shards_sharing_failure_stores_report_each_violation_once_and_stored_ones_first(
    redis_url: str, tmp_path: Path
) -> None:
    # Shards 1 and 2 share a Redis, 3 and 4 a directory; each runs after the one it shares with.
    stores = [
        open_store(redis_url),
        open_store(redis_url),
        open_store(str(tmp_path)),
        open_store(str(tmp_path)),
    ]
    results, replayed_after = [], []
    with variant_server(BROKEN) as url:
        target = Target(url, WRITER, ("default", "other"), READER)
        for index, store in enumerate(stores, start=1):
            heard: list[float] = []
            progress = Progress(found=_replays(heard))
            started = time.monotonic()
            results.append(fuzz(target, replace(BROKEN_SHARD, shard=Shard(index, 4)), progress, store))
            replayed_after.append(heard[0] - started if heard else 0.0)
    # The first of each pair had nothing stored; the second replayed the first's within seconds.
    assert replayed_after[0] == replayed_after[2] == 0.0
    assert 0 < replayed_after[1] < 5
    assert 0 < replayed_after[3] < 5
    stored = {each.fingerprint for each in load(stores[0])} | {each.fingerprint for each in load(stores[2])}
    found = [{fingerprint(v) for v in result.violations} for result in results]
    assert stored == set().union(*found)
    merged = merge([_report(result, SHARD.seed) for result in results])
    prints = [fingerprint(v) for v in merged.violations]
    assert sorted(prints) == sorted(set().union(*found))  # each violation once, whoever found it
    assert any(len([f for f in found if p in f]) > 1 for p in prints), "no violation was found twice"
    checks = {v.check.replace("tour:", "oracle:", 1) for v in merged.violations}
    assert checks & ZOO[BROKEN].catches
