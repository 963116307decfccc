"""Drift told apart from a broken rule, from the evidence and the spec alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from validator.fuzz.drift import drift
from validator.fuzz.target import Exchange
from validator.fuzz.violation import Violation

URL = "http://127.0.0.1:1/api/v2/projects/default/release-policies"
POLICY = {
    "_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "key": "a", "name": "n", "rank": 1,
    "releaseMethod": "progressive-release", "scope": {"environmentKeys": ["p"]},
}  # fmt: skip


def _drift(status: int, body: Any, method: str = "GET", url: str = URL + "/a") -> tuple[str, str] | None:
    answer = Exchange(
        method, url, (), None, status, (("content-type", "application/json"),), json.dumps(body).encode()
    )
    found = drift(Violation("response-schema", "m", (answer,)))
    return None if found is None else (found.kind, found.what)


@pytest.mark.parametrize(
    ("status", "body", "method", "url", "expected"),
    [
        (200, {**POLICY, "createdAt": 1}, "GET", URL + "/a",
         ("member", "GetReleasePolicy 200 has member(s) the spec does not declare: $.createdAt")),
        (200, {"items": [{**POLICY, "x": 1}, {**POLICY, "x": 2}], "totalCount": 2}, "GET", URL,
         ("member", "GetReleasePolicies 200 has member(s) the spec does not declare: $.items[*].x")),
        (200, {**POLICY, "scope": {"environmentKeys": ["p"], "new": 1}}, "GET", URL + "/a",
         ("member", "GetReleasePolicy 200 has member(s) the spec does not declare: $.scope.new")),
        (200, {**POLICY, "releaseMethod": "canary"}, "GET", URL + "/a",
         ("enum value",
          "GetReleasePolicy 200 has value(s) the spec does not list: 'canary' at $.releaseMethod")),
        (202, POLICY, "POST", URL,
         ("status", "PostReleasePolicy answered 202, a status the spec does not document for it")),
    ],
)  # fmt: skip
def test_what_the_spec_does_not_know_is_drift(
    status: int, body: Any, method: str, url: str, expected: tuple[str, str]
) -> None:
    assert _drift(status, body, method, url) == expected


@pytest.mark.parametrize(
    "answer",
    [
        (200, POLICY),  # nothing wrong with the answer: the rule broken is elsewhere
        (200, {**POLICY, "rank": "1"}),  # a wrong type: broken, not new
        (200, {k: v for k, v in POLICY.items() if k != "rank"}),  # a member missing
        (200, {**POLICY, "createdAt": 1, "rank": -1}),  # new member and a broken one: broken
        (500, POLICY),  # the server failed
    ],
)
def test_a_broken_rule_is_not_drift(answer: tuple[int, Any]) -> None:
    assert _drift(*answer) is None
