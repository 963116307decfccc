"""What a correct server answers to a step, predicted with the contract's own state rules.

The prediction applies ``validator.state`` (the module the reference server
stores with) to the model of what the server acknowledged so far, after the
same checks, in the same order, as the contract's ``order-of-checks``: 405 for the
reserved key, 404 for an unknown policy, 400 for a body the schema rejects,
then the state rules' 400, 404 and 409.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from validator import spec as spec_module
from validator.fuzz.steps import Step
from validator.schema_shapes import drop_undeclared
from validator.spec import Spec
from validator.state import Conflict, InvalidOrder, NotFound, Project, StateError, stored_fields

_OPERATIONS = {
    "create": "PostReleasePolicy", "put": "PutReleasePolicy", "order": "PostReleasePoliciesOrder",
    "list": "GetReleasePolicies", "get": "GetReleasePolicy", "delete": "DeleteReleasePolicy",
}  # fmt: skip
#: An ``_id`` the server has not told yet: the oracle learns it from the 201.
NEW_ID = ""


@dataclass(frozen=True)
class Prediction:
    """The answer a correct server gives: status, the rule that decides it, the JSON body, the new model."""

    status: int
    rule: str
    after: Project
    body: Any = None
    #: The state rule that refused the step (``validator.state``'s ``StateError.rule``), if one did.
    refusal: str = ""


def operation_id(step: Step) -> str:
    return _OPERATIONS[step.kind]


def predict(project: Project, step: Step, contract: Spec | None = None) -> Prediction:
    """The answer to ``step``; ``contract`` is the spec the server keeps (default: the bundled one)."""
    contract = contract or spec_module.bundled()
    if step.kind in ("put", "delete", "get"):
        if step.key == "order":
            return Prediction(405, "reserved-key", project)
        if not any(policy.key == step.key for policy in project.policies):
            return Prediction(404, "unknown-policy", project, refusal="unknown-policy")
    if step.kind in ("create", "put", "order"):
        data = step.data()
        if not contract.request_validator(operation_id(step)).is_valid(data):
            reserved = step.kind == "create" and isinstance(data, dict) and data.get("key") == "order"
            return Prediction(400, "reserved-key" if reserved else "invalid-rejected", project)
    try:
        return _apply(project, step, contract)
    except NotFound as error:
        return Prediction(404, "unknown-policy", project, refusal=error.rule)
    except InvalidOrder as error:
        return Prediction(400, "order-rejects", project, refusal=error.rule)
    except Conflict as error:
        rule = "unique-keys" if error.rule == "duplicate-key" else "one-default"
        return Prediction(409, rule, project, refusal=error.rule)
    except StateError:  # pragma: no cover - every StateError is one of the three above
        raise


def stored(step: Step, contract: Spec) -> dict[str, Any]:
    """The fields a correct server keeps of the step's (valid) body: the declared ones."""
    schema = contract.get(contract.operations[operation_id(step)].request_schema or ())
    return stored_fields(drop_undeclared(contract, schema, step.data()))


def _apply(project: Project, step: Step, contract: Spec) -> Prediction:
    if step.kind == "create":
        after, policy = project.create(NEW_ID, step.data()["key"], stored(step, contract))
        return Prediction(201, "valid-accepted", after, policy.to_json())
    if step.kind == "put":
        after, policy = project.update(step.key, stored(step, contract))
        return Prediction(200, "valid-accepted", after, policy.to_json())
    if step.kind == "order":
        after, ordered = project.reorder(step.data())
        return Prediction(200, "order-applies", after, [policy.to_json() for policy in ordered])
    if step.kind == "delete":
        return Prediction(204, "delete-removes", project.delete(step.key))
    if step.kind == "get":
        return Prediction(200, "read-your-writes", project, project.get(step.key).to_json())
    items = [policy.to_json() for policy in project.listing(exclude_default=step.exclude_default)]
    return Prediction(200, "list", project, {"items": items, "totalCount": len(items)})


def learn_id(project: Project, key: str, policy_id: str) -> Project:
    """The model once the server has told the new policy's ``_id``."""
    return Project(tuple(replace(p, id=policy_id) if p.key == key else p for p in project.policies))
