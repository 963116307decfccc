"""The contract's state rules (CONTRACT.md section 5), pure: no HTTP, no SQL, no clock.

A project is an immutable value; every operation returns a new one or raises
a :class:`StateError` and changes nothing. The reference server applies these
functions inside one transaction per request; the fuzzer's oracle applies
them to what a server acknowledged and compares. So the rules live here once:

- the default policy (no scope, or a null one) has rank 0; a project has at most one;
- scoped policies have ranks 1..n, unique and contiguous, 1 the highest priority;
- create appends a scoped policy at n+1; delete closes the gap;
- PUT replaces name, method, scope and both configs; a policy that stays scoped
  keeps its rank, one that becomes the default leaves a gap that closes, the
  default that becomes scoped is appended at n+1;
- order takes exactly the scoped keys, each once, and ranks them 1..n.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

#: What a PUT replaces; an optional block left out of the body is cleared.
REPLACED_FIELDS = ("name", "releaseMethod", "scope", "guardedReleaseConfig", "progressiveReleaseConfig")


class StateError(Exception):
    """A request the state rules refuse; ``status`` and ``code`` are the API's answer, ``rule`` which rule."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message, self.rule = message, rule


class NotFound(StateError):
    status, code = 404, "not_found"


class Conflict(StateError):
    status, code = 409, "conflict"


class InvalidOrder(StateError):
    status, code = 400, "invalid_request"


@dataclass(frozen=True)
class Policy:
    """A stored policy: identity, rank, and the fields a PUT replaces (as sent, unknown ones dropped)."""

    id: str
    key: str
    rank: int
    fields: Mapping[str, Any]

    @property
    def is_default(self) -> bool:
        return self.fields.get("scope") is None

    def to_json(self) -> dict[str, Any]:
        """The API's representation: the stored fields echoed exactly, plus ``_id``, ``key`` and ``rank``."""
        return {"_id": self.id, "key": self.key, "rank": self.rank, **self.fields}


def stored_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a (validated, unknown-fields-dropped) create or PUT body that a policy keeps."""
    return {name: body[name] for name in REPLACED_FIELDS if name in body}


@dataclass(frozen=True)
class Project:
    """The policies of one project, sorted by rank (the default policy first)."""

    policies: tuple[Policy, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", tuple(sorted(self.policies, key=lambda p: (p.rank, p.key))))

    @property
    def scoped(self) -> tuple[Policy, ...]:
        return tuple(policy for policy in self.policies if not policy.is_default)

    @property
    def default(self) -> Policy | None:
        return next((policy for policy in self.policies if policy.is_default), None)

    def get(self, key: str) -> Policy:
        for policy in self.policies:
            if policy.key == key:
                return policy
        raise NotFound(f"Unknown release policy {key}", "unknown-policy")

    def listing(self, *, exclude_default: bool = False) -> tuple[Policy, ...]:
        return self.scoped if exclude_default else self.policies

    def create(self, policy_id: str, key: str, fields: Mapping[str, Any]) -> tuple[Project, Policy]:
        if any(policy.key == key for policy in self.policies):
            raise Conflict(f"A release policy with key {key} exists already", "duplicate-key")
        candidate = Policy(policy_id, key, 0, dict(fields))
        if candidate.is_default:
            self._refuse_second_default(key)
        else:
            candidate = replace(candidate, rank=len(self.scoped) + 1)
        return Project((*self.policies, candidate)), candidate

    def update(self, key: str, fields: Mapping[str, Any]) -> tuple[Project, Policy]:
        """PUT: replace the policy's fields; its rank follows the scope rules."""
        current = self.get(key)
        updated = replace(current, fields=dict(fields))
        others = tuple(policy for policy in self.policies if policy.key != key)
        if updated.is_default and not current.is_default:
            self._refuse_second_default(key)
            return Project((*_closed(others), replace(updated, rank=0))), replace(updated, rank=0)
        if current.is_default and not updated.is_default:
            moved = replace(updated, rank=len(self.scoped) + 1)
            return Project((*others, moved)), moved
        return Project((*others, updated)), updated

    def delete(self, key: str) -> Project:
        self.get(key)
        return Project(_closed(tuple(policy for policy in self.policies if policy.key != key)))

    def reorder(self, keys: Sequence[str]) -> tuple[Project, tuple[Policy, ...]]:
        scoped = {policy.key: policy for policy in self.scoped}
        default = self.default
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise InvalidOrder(f"Duplicate policy key {key}", "order-duplicate-key")
            seen.add(key)
            if default is not None and key == default.key:
                raise InvalidOrder(
                    f"Default policy key is not allowed in ordering: {key}", "order-default-key"
                )
            if key not in scoped:
                raise InvalidOrder(f"Unknown policy key {key}", "order-unknown-key")
        missing = [key for key in scoped if key not in seen]
        if missing:
            raise InvalidOrder(
                f"Missing policy key {missing[0]}: the order must list every scoped policy",
                "order-missing-key",
            )
        ordered = tuple(replace(scoped[key], rank=rank) for rank, key in enumerate(keys, start=1))
        return Project((*([default] if default else []), *ordered)), ordered

    def _refuse_second_default(self, key: str) -> None:
        default = self.default
        if default is not None and default.key != key:
            raise Conflict(
                f"The project has a default policy already ({default.key}); it can have only one",
                "second-default",
            )

    def invariant_violations(self) -> list[str]:
        """What is wrong with the ranks, if anything: the oracle checks every server answer with this."""
        problems = []
        defaults = [policy for policy in self.policies if policy.is_default]
        if len(defaults) > 1:
            problems.append(f"{len(defaults)} default policies: {[p.key for p in defaults]}")
        problems.extend(f"default policy {p.key} has rank {p.rank}, not 0" for p in defaults if p.rank != 0)
        ranks = sorted(policy.rank for policy in self.scoped)
        if ranks != list(range(1, len(ranks) + 1)):
            problems.append(f"scoped ranks are {ranks}, not 1..{len(ranks)}")
        keys = [policy.key for policy in self.policies]
        if len(set(keys)) != len(keys):
            problems.append("a key occurs twice")
        return problems


def _closed(policies: tuple[Policy, ...]) -> tuple[Policy, ...]:
    """The policies with the scoped ranks renumbered 1..n in their current order."""
    scoped = sorted((p for p in policies if not p.is_default), key=lambda p: p.rank)
    renumbered = {p.key: replace(p, rank=rank) for rank, p in enumerate(scoped, start=1)}
    return tuple(renumbered.get(p.key, p) for p in policies)
