"""The file rules: each looks at one body, ``(body, kind) -> (path, message)...``.

Rules never assume a well-formed body: the contract rule reports what is
malformed, and the others skip what they cannot read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from validator import spec as spec_module
from validator.linter.fields import unknown_fields
from validator.linter.model import OPERATIONS, Kind, Problem
from validator.schema_errors import schema_errors

GUARDED, PROGRESSIVE = "guarded-release", "progressive-release"
CONFIGS = {GUARDED: "guardedReleaseConfig", PROGRESSIVE: "progressiveReleaseConfig"}
GUARDED_STAGE_CAP = 50000
MIN_SAMPLE_SIZE = 5
#: Allocations count thousandths of a percent; a list that never exceeds this was written in percent.
PERCENT = 100


def _method(body: Any) -> str | None:
    """The body's releaseMethod, when it is one of the known ones."""
    method = body.get("releaseMethod") if isinstance(body, dict) else None
    return method if isinstance(method, str) and method in CONFIGS else None


def _integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _stages(body: Any) -> Iterator[tuple[str, list[Any]]]:
    """(config name, stages) of each config block that has a stage list."""
    if isinstance(body, dict):
        for name in CONFIGS.values():
            config = body.get(name)
            if isinstance(config, dict) and isinstance(config.get("stages"), list):
                yield name, config["stages"]


def _allocations(stages: list[Any]) -> Iterator[tuple[int, int, int]]:
    """(index, previous allocation, allocation) for each pair of consecutive readable stages."""
    for index in range(1, len(stages)):
        before, here = stages[index - 1], stages[index]
        if isinstance(before, dict) and isinstance(here, dict):
            previous, current = before.get("allocation"), here.get("allocation")
            if _integer(previous) and _integer(current):
                yield index, previous, current


def check_contract(body: Any, kind: Kind) -> Iterator[Problem]:
    validator = spec_module.bundled().request_validator(OPERATIONS[kind])
    for error in schema_errors(validator, body):
        yield error.path, error.message


def check_unknown_fields(body: Any, kind: Kind) -> Iterator[Problem]:
    contract = spec_module.bundled()
    operation = contract.operations[OPERATIONS[kind]]
    if operation.request_schema is None:
        return
    for field in unknown_fields(contract, contract.get(operation.request_schema), body):
        if field.path == ("$schema",):
            continue  # editors' schema association; the API ignores it and so does the linter
        hint = field.suggestion()
        advice = f"did you mean {hint!r}?" if hint else f"known fields here: {', '.join(field.known)}"
        yield field.path, f"unknown field {field.name!r} would be silently ignored by the API; {advice}"


def check_allocation_unit(body: Any, kind: Kind) -> Iterator[Problem]:
    for name, stages in _stages(body):
        allocations = [stage.get("allocation") if isinstance(stage, dict) else None for stage in stages]
        readable = [allocation for allocation in allocations if _integer(allocation)]
        if (
            readable
            and len(readable) == len(allocations)
            and all(0 <= allocation <= PERCENT for allocation in readable)
            and max(readable) > 0
        ):
            largest = max(readable)
            yield (
                (name, "stages"),
                (
                    f"every allocation here is at most {PERCENT}, as if in percent: the API counts"
                    f" thousandths of a percent, so {largest} means {largest / 1000:g}% of traffic;"
                    f" for {largest}% write {largest * 1000}"
                ),
            )


def check_config_mismatch(body: Any, kind: Kind) -> Iterator[Problem]:
    method = _method(body)
    if method is None:
        return
    for other_method, name in CONFIGS.items():
        if other_method != method and isinstance(body.get(name), dict):
            yield (name,), f"{name} has no effect on a {method}; it belongs to a {other_method}"


def check_guarded_config_missing(body: Any, kind: Kind) -> Iterator[Problem]:
    if _method(body) == GUARDED and body.get("guardedReleaseConfig") is None:
        yield ("releaseMethod",), "a guarded release without guardedReleaseConfig watches nothing"


def check_guarded_metrics_missing(body: Any, kind: Kind) -> Iterator[Problem]:
    if _method(body) != GUARDED:
        return
    config = body.get("guardedReleaseConfig")
    if isinstance(config, dict) and not config.get("metricKeys") and not config.get("metricGroupKeys"):
        yield (
            ("guardedReleaseConfig",),
            (
                "guardedReleaseConfig names no metricKeys and no metricGroupKeys,"
                " so no regression can be detected"
            ),
        )


def check_decreasing_allocation(body: Any, kind: Kind) -> Iterator[Problem]:
    for name, stages in _stages(body):
        for index, previous, current in _allocations(stages):
            if current < previous:
                yield (
                    (name, "stages", index, "allocation"),
                    (
                        f"allocation {current} is lower than the {previous} of the stage before;"
                        " a rollout only grows"
                    ),
                )


def check_repeated_allocation(body: Any, kind: Kind) -> Iterator[Problem]:
    for name, stages in _stages(body):
        for index, previous, current in _allocations(stages):
            if current == previous:
                yield (
                    (name, "stages", index, "allocation"),
                    (f"allocation {current} repeats the stage before; the stage only extends the wait"),
                )


def check_guarded_stage_cap(body: Any, kind: Kind) -> Iterator[Problem]:
    if not isinstance(body, dict):
        return
    config = body.get("guardedReleaseConfig")
    stages = config.get("stages") if isinstance(config, dict) else None
    for index, stage in enumerate(stages if isinstance(stages, list) else []):
        allocation = stage.get("allocation") if isinstance(stage, dict) else None
        if _integer(allocation) and GUARDED_STAGE_CAP < allocation <= 100000:
            yield (
                ("guardedReleaseConfig", "stages", index, "allocation"),
                (
                    f"guarded stage allocation {allocation} ({allocation / 1000:g}%) is above"
                    f" {GUARDED_STAGE_CAP} (50%), the most LaunchDarkly's guarded rollouts allow"
                ),
            )


def check_zero_duration(body: Any, kind: Kind) -> Iterator[Problem]:
    for name, stages in _stages(body):
        for index, stage in enumerate(stages[:-1]):
            if (
                isinstance(stage, dict)
                and _integer(stage.get("durationMillis"))
                and stage["durationMillis"] == 0
            ):
                yield (
                    (name, "stages", index, "durationMillis"),
                    ("durationMillis 0 on a stage that is not the last skips the stage"),
                )


def check_min_sample_size(body: Any, kind: Kind) -> Iterator[Problem]:
    config = body.get("guardedReleaseConfig") if isinstance(body, dict) else None
    size = config.get("minSampleSize") if isinstance(config, dict) else None
    if _integer(size) and 1 <= size < MIN_SAMPLE_SIZE:
        yield (
            ("guardedReleaseConfig", "minSampleSize"),
            (
                f"minSampleSize {size} is below {MIN_SAMPLE_SIZE},"
                " the least LaunchDarkly's own validator accepts"
            ),
        )
