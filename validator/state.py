"""The contract's state rules, pure: no HTTP, no SQL, no clock.

A project is an immutable value; every operation returns a new one or raises
a :class:`StateError` and changes nothing. The reference server applies these
functions inside one transaction per request; the fuzzer's oracle applies
them to what a server acknowledged and predicts every answer; the linter
feeds a directory's policy files through them. The rules' words are in
``validator.contract`` (``unique-keys``, ``one-default``, ``ranks``,
``put-replaces``, ``order-applies``, ``order-rejects``); each refusal names
the finer state rule it applied (``duplicate-key``, ``order-missing-key``...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any


class StateError(Exception):
    """A request the state rules refuse: ``status`` is the API's answer (the spec gives its error code),
    ``rule`` the state rule that refused it."""

    status = 400

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message, self.rule = message, rule


class NotFound(StateError):
    status = 404


class Conflict(StateError):
    status = 409


class InvalidOrder(StateError):
    status = 400


@dataclass(frozen=True)
class Policy:
    """A stored policy: identity, rank, and the fields its last create or PUT stored (as sent)."""

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
    """What a policy keeps of a create or PUT body that was validated and stripped of the members its
    schema does not declare (``schema_shapes.drop_undeclared``): every member but the key, its identity.

    So the spec alone decides what is stored (and what a PUT replaces): a member added to a request
    schema is stored and echoed with no change here.
    """
    return {name: value for name, value in body.items() if name != "key"}


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


def _closed(policies: tuple[Policy, ...]) -> tuple[Policy, ...]:
    """The policies with the scoped ranks renumbered 1..n in their current order."""
    scoped = sorted((p for p in policies if not p.is_default), key=lambda p: p.rank)
    renumbered = {p.key: replace(p, rank=rank) for rank, p in enumerate(scoped, start=1)}
    return tuple(renumbered.get(p.key, p) for p in policies)
