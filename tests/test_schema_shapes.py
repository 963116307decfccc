"""Unknown fields dropped by the spec's own schemas: what the server stores and the oracle expects."""

from __future__ import annotations

from typing import Any

from tests.support import load_seed
from validator.schema_shapes import drop_undeclared
from validator.spec import Spec


def request_schema(spec: Spec, operation: str) -> Any:
    location = spec.operations[operation].request_schema
    assert location is not None
    return spec.get(location)


def test_unknown_fields_dropped_at_every_depth(spec: Spec) -> None:
    body = {
        "key": "k",
        "name": "n",
        "releaseMethod": "guarded-release",
        "extra": 1,
        "scope": {"environmentKeys": ["p"], "environments": ["q"]},
        "guardedReleaseConfig": {
            "rollbackOnRegresion": True,
            "stages": [{"allocation": 1, "durationMillis": 2, "w": 3}],
        },
        "progressiveReleaseConfig": None,
    }
    assert drop_undeclared(spec, request_schema(spec, "PostReleasePolicy"), body) == {
        "key": "k",
        "name": "n",
        "releaseMethod": "guarded-release",
        "scope": {"environmentKeys": ["p"]},
        "guardedReleaseConfig": {"stages": [{"allocation": 1, "durationMillis": 2}]},
        "progressiveReleaseConfig": None,
    }


def test_key_is_unknown_on_update(spec: Spec) -> None:
    body = {"key": "k", "name": "n", "releaseMethod": "progressive-release"}
    assert drop_undeclared(spec, request_schema(spec, "PutReleasePolicy"), body) == {
        "name": "n",
        "releaseMethod": "progressive-release",
    }


def test_seed_keeps_every_declared_field(spec: Spec) -> None:
    seed = load_seed("put-request-python.json")
    assert drop_undeclared(spec, request_schema(spec, "PutReleasePolicy"), seed) == seed
