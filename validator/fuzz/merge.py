"""One result from many (``release-policy fuzz merge REPORT...``): the shards' JSON reports, combined.

A violation is kept once per fingerprint (check, contract rule, shape of its minimal sequence), whichever
shards found it, with the shortest evidence; a coverage goal is reached if any shard reached it (every
shard measures against the same goals, from the spec); the work done is summed, the time is the longest
shard's. Every report format is then written from the merged result as from a run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from validator.fuzz.coverage import Coverage
from validator.fuzz.run import FuzzResult
from validator.fuzz.steps import Step
from validator.fuzz.target import Exchange
from validator.fuzz.violation import Violation

#: Statistics that are not amounts of work, so not summed.
_NOT_SUMMED = {"seconds": max, "shard": None, "shards": None}


class ReportError(Exception):
    """A file that is not a fuzz JSON report (or one written by another layout)."""


@dataclass(frozen=True)
class Shard:
    """One shard's JSON report, read: its result, its seed and each violation's fingerprint."""

    result: FuzzResult
    seed: int
    fingerprints: tuple[str, ...]


def _exchange(data: Mapping[str, Any]) -> Exchange:
    body = data["body"]
    return Exchange(
        data["method"], data["url"], (), None if body is None else body.encode(), data["status"], (), b""
    )


def _coverage(data: Mapping[str, Any]) -> Coverage:
    return Coverage(
        tuple((s["operation"], s["status"], s["returned"]) for s in data["statuses"]),
        tuple((c["constraint"], c["side"], c["swept"]) for c in data["constraints"]),
        tuple((r["rule"], r["exercised"]) for r in data["stateRules"]),
    )


def read(text: str, name: str) -> Shard:
    """A JSON report as a result; ReportError says why it cannot be one."""
    try:
        data = json.loads(text)
        violations = tuple(
            Violation(v["rule"], v["message"], tuple(_exchange(e) for e in v["exchanges"]), v["check"])
            for v in data["violations"]
        )
        steps = {
            v["check"]: tuple(Step(**step) for step in v["steps"]) for v in data["violations"] if v["steps"]
        }
        coverage = None if data["coverage"] is None else _coverage(data["coverage"])
        # A violation's drift label travels with its fingerprint (reports written before it: none).
        drifted = {v["fingerprint"]: str(v["drift"]) for v in data["violations"] if v.get("drift")}
        result = FuzzResult(
            violations, dict(data["skipped"]), tuple(data["errors"]), dict(data["stats"]), steps, coverage,
            drifted,
        )  # fmt: skip
        return Shard(result, int(data["seed"]), tuple(v["fingerprint"] for v in data["violations"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ReportError(f"{name} is not a fuzz JSON report (--report json): {error!r}") from None


def _united(coverages: Sequence[Coverage]) -> Coverage | None:
    """Each goal (the first shard's list: every shard has the same) reached if any shard reached it."""
    if not coverages:
        return None
    statuses = {(o, s) for c in coverages for o, s, seen in c.statuses if seen}
    constraints = {(n, s) for c in coverages for n, s, seen in c.constraints if seen}
    rules = {r for c in coverages for r, seen in c.rules if seen}
    first = coverages[0]
    return Coverage(
        tuple((o, s, (o, s) in statuses) for o, s, _ in first.statuses),
        tuple((n, s, (n, s) in constraints) for n, s, _ in first.constraints),
        tuple((r, r in rules) for r, _ in first.rules),
    )


def _stats(stats: Sequence[Mapping[str, float]]) -> dict[str, float]:
    merged: dict[str, float] = {"shards merged": len(stats)}
    for each in stats:
        for name, value in each.items():
            if name in _NOT_SUMMED:
                combine = _NOT_SUMMED[name]
                if combine is not None:
                    merged[name] = combine(merged.get(name, value), value)
            else:
                merged[name] = merged.get(name, 0) + value
    return merged


def merge(shards: Sequence[Shard]) -> FuzzResult:
    """The shards' results as one: each violation once by fingerprint, coverage united, work summed."""
    kept: dict[str, Violation] = {}
    steps: dict[str, tuple[Step, ...]] = {}
    for shard in shards:
        for violation, print_ in zip(shard.result.violations, shard.fingerprints, strict=True):
            if print_ not in kept or len(violation.exchanges) < len(kept[print_].exchanges):
                kept[print_] = violation
                if violation.check in shard.result.steps:
                    steps[violation.check] = shard.result.steps[violation.check]
    skipped: dict[str, str] = {}
    for shard in shards:
        skipped.update(shard.result.skipped)
    errors = tuple(dict.fromkeys(error for shard in shards for error in shard.result.errors))
    coverages = [shard.result.coverage for shard in shards if shard.result.coverage is not None]
    drifted = {
        print_: label for shard in shards for print_, label in shard.result.drift.items() if print_ in kept
    }
    return FuzzResult(
        tuple(kept.values()),
        skipped,
        errors,
        _stats([shard.result.stats for shard in shards]),
        steps,
        _united(coverages),
        drifted,
    )
