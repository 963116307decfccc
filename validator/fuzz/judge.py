"""Compares a server's answer with the model's prediction and names the contract rule it breaks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from validator import spec as spec_module
from validator.counts import counted
from validator.fuzz.model import NEW_ID, Prediction, operation_id
from validator.fuzz.steps import Step
from validator.fuzz.target import Exchange
from validator.fuzz.violation import answered, error_problem, header

#: Optional blocks: a server may echo an absent one as null.
_BLOCKS = ("scope", "guardedReleaseConfig", "progressiveReleaseConfig")


@dataclass(frozen=True)
class Verdict:
    """A rule the answer breaks (an id of ``validator.contract.RULES``) and what was wrong."""

    rule: str
    message: str


@dataclass(frozen=True)
class History:
    """What the oracle knows beyond the model: the ids other policies hold, each key's last outcome."""

    ids: Mapping[str, str]  # key -> _id of every policy the model holds
    last: Mapping[str, tuple[str, int]]  # key -> (step kind, status) of the last step that named it


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1000 and 1000.0 are equal, ``true`` and 1 are not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def judge(step: Step, predicted: Prediction, answer: Exchange, history: History) -> Verdict | None:
    where = f"{answer.method} {step.path() or '/'}"
    if answer.status != predicted.status:
        return Verdict(predicted.rule, f"{where}: answered {answered(answer)}, expected {predicted.status}")
    if predicted.status >= 400:
        problem = error_problem(answer, predicted.status)
        return Verdict("error-shape", f"{where}: {problem}") if problem else None
    if answer.problem:
        return Verdict("response-schema", f"{where}: the {answer.status} is incomplete: {answer.problem}")
    if predicted.status == 204:
        return None if not answer.response_body else Verdict("delete-removes", f"{where}: the 204 has a body")
    if (header(answer, "content-type") or "").split(";")[0].strip() != "application/json":
        return Verdict("error-shape", f"{where}: the {answer.status} is not application/json")
    try:
        actual = answer.json()
    except ValueError as unreadable:
        return Verdict("error-shape", f"{where}: the {answer.status} body is not JSON: {unreadable}")
    verdict = _compare(step, predicted.body, actual, history)
    if verdict:
        return Verdict(verdict.rule, f"{where}: {verdict.message}")
    validator = spec_module.bundled().response_validator(operation_id(step), predicted.status)
    error = next(iter(validator.iter_errors(actual)), None)
    if error is not None:
        return Verdict("response-schema", f"{where}: {error.message}")
    return None


def _compare(step: Step, expected: Any, actual: Any, history: History) -> Verdict | None:
    if step.kind == "list":
        if not isinstance(actual, dict) or not isinstance(actual.get("items"), list):
            return Verdict("response-schema", "the list is not {items, totalCount}")
        verdict = _sequence(step, expected["items"], actual["items"], history)
        if verdict is None and not same(actual.get("totalCount"), len(actual["items"])):
            return Verdict(
                "list",
                f"totalCount is {actual.get('totalCount')!r} for {counted(len(actual['items']), 'item')}",
            )
        return verdict
    if step.kind == "order":
        if not isinstance(actual, list):
            return Verdict("response-schema", "the order's answer is not an array")
        return _sequence(step, expected, actual, history)
    return _policy(step, expected, actual, history)


def _sequence(step: Step, expected: list[Any], actual: list[Any], history: History) -> Verdict | None:
    # A key the server lists is quoted (!r) in messages: it may hold anything, a newline too.
    want = [policy["key"] for policy in expected]
    keys = [policy.get("key") if isinstance(policy, dict) else None for policy in actual]
    for key in keys:
        if key not in want:
            kind, status = history.last.get(str(key), ("", 0))
            if step.exclude_default and any(
                isinstance(p, dict) and p.get("key") == key and p.get("scope") is None for p in actual
            ):
                return Verdict("list", f"excludeDefault=true lists the default policy {key!r}")
            if kind == "delete" and status == 204:
                return Verdict("delete-removes", f"{key!r} is listed after its DELETE answered 204")
            if status >= 400:
                rule = "order-rejects" if kind == "order" else "rejected-changes-nothing"
                return Verdict(rule, f"{key!r} is listed, but the {kind} that named it answered {status}")
            return Verdict("read-your-writes", f"{key!r} is listed, but no acknowledged write created it")
    missing = [key for key in want if key not in keys]
    if missing:
        return Verdict("read-your-writes", f"{missing[0]} is missing, but its create was acknowledged")
    if keys != want:
        rule = "order-applies" if step.kind == "order" else "list"
        if any(e.get("rank") != a.get("rank") for e, a in zip(expected, _by_key(actual, want), strict=True)):
            rule = "ranks" if step.kind == "list" else rule
        return Verdict(rule, f"the keys come as {keys}, expected {want}")
    for want_policy, got_policy in zip(expected, actual, strict=True):
        verdict = _policy(step, want_policy, got_policy, history)
        if verdict:
            return verdict
    return None


def _by_key(actual: list[Any], keys: list[str]) -> list[dict[str, Any]]:
    found = {p.get("key"): p for p in actual if isinstance(p, dict)}
    return [found.get(key, {}) for key in keys]


def _blocks_normalized(policy: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in policy.items() if k != "_access" and not (k in _BLOCKS and v is None)}


def _policy(step: Step, expected: Mapping[str, Any], actual: Any, history: History) -> Verdict | None:
    if not isinstance(actual, dict):
        return Verdict("response-schema", f"a policy is {type(actual).__name__}, not an object")
    want, got = _blocks_normalized(expected), _blocks_normalized(actual)
    key = str(want["key"])
    known = want["_id"]
    if known == NEW_ID:
        if not isinstance(got.get("_id"), str) or got["_id"] in history.ids.values():
            return Verdict("stable-id", f"{key}'s new _id {got.get('_id')!r} is not a fresh string")
    elif not same(got.get("_id"), known):
        return Verdict("stable-id", f"{key}'s _id changed from {known!r} to {got.get('_id')!r}")
    for name in sorted((want.keys() | got.keys()) - {"_id"}):
        if name in want and name in got and same(want[name], got[name]):
            continue
        shown = (
            f"{key}.{_named(name)} is {got.get(name, '(absent)')!r}, expected {want.get(name, '(absent)')!r}"
        )
        return Verdict(_field_rule(step, name, want, got), shown)
    return None


def _named(name: str) -> str:
    """A member's name for a message, quoted unless plain: the server chose it, and reports quote messages."""
    return name if name.isidentifier() else repr(name)


def _field_rule(step: Step, name: str, want: Mapping[str, Any], got: Mapping[str, Any]) -> str:
    sent = step.data() if step.kind in ("create", "put") else None
    if name == "rank":
        return "ranks"
    if isinstance(sent, dict) and name in got and same(got[name], sent.get(name)) and name not in want:
        return "unknown-fields"  # an undeclared field, stored or echoed as sent
    if isinstance(sent, dict) and name in sent and name in got and same(got[name], sent[name]):
        return "unknown-fields"  # a block echoed with its undeclared members
    if step.kind == "put" and name not in want:
        return "put-replaces"  # a field kept (or made up) that the replacement does not hold
    if step.kind in ("create", "put"):
        return "echo"
    return "read-your-writes"
