"""The project rules: the policy files of one directory replayed through ``validator.state``.

The linter does not restate a state rule: it creates each policy of the
directory in a ``state.Project`` and applies each order file with
``Project.reorder``, as the server would, and each :class:`state.StateError`
becomes a finding. So the linter, the server and the fuzzer's oracle cannot
disagree about duplicate keys, default policies or orders.

A run may be shown only part of a directory (pre-commit passes the changed
files). An order file may then name policies the run was not shown, so an
unknown key is reported only when the run saw the whole directory; a policy
the run was shown and the order leaves out is reported either way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from validator.findings import Path
from validator.linter.model import PolicyFile, ProjectProblem, ProjectView

if TYPE_CHECKING:
    from validator import state

#: The lint rule that reports each state rule a directory can break.
LINT_RULES = {
    "duplicate-key": "duplicate-policy-key",
    "second-default": "multiple-default-policies",
    "order-duplicate-key": "order-mismatch",
    "order-default-key": "order-mismatch",
    "order-unknown-key": "order-mismatch",
    "order-missing-key": "order-mismatch",
}
_MISSING, _UNKNOWN = "order-missing-key", "order-unknown-key"


@dataclass(frozen=True)
class _Outcome:
    file: PolicyFile
    path: Path
    rule: str
    message: str


def _key(file: PolicyFile) -> str | None:
    body = file.body
    key = body.get("key") if file.kind == "create" and isinstance(body, dict) else None
    return key if isinstance(key, str) else None


@functools.lru_cache(maxsize=1)  # the three project rules ask in turn about the same view
def _replay(view: ProjectView) -> tuple[_Outcome, ...]:
    if len(view.files) < 2:
        return ()  # one file alone can repeat no key and no default, and an order alone names no policy
    from validator import state  # loaded only when a directory holds files to compare

    outcomes: list[_Outcome] = []
    project = state.Project()
    owners: dict[str, PolicyFile] = {}
    for file in view.files:
        key = _key(file)
        if key is None:
            continue
        try:
            project, _ = project.create(f"lint-{len(owners)}", key, file.body)
        except state.StateError as error:
            other = owners.get(key) or (owners[project.default.key] if project.default else None)
            where = f" (see {other.document.file})" if other is not None else ""
            outcomes.append(_Outcome(file, ("key",), LINT_RULES[error.rule], error.message + where))
            continue
        owners[key] = file
    for order in view.files if owners else ():  # an order alone names policies kept elsewhere
        if order.kind == "order" and isinstance(order.body, list):
            outcomes.extend(_order_outcomes(project, order, owners, view.whole))
    return tuple(outcomes)


def _order_outcomes(
    project: state.Project, order: PolicyFile, owners: dict[str, PolicyFile], whole: bool
) -> Iterator[_Outcome]:
    """Each item the state rules refuse (where it stands), then each policy the order leaves out."""
    from validator import state

    accepted: list[str] = []
    seen: set[str] = set()
    for index, key in enumerate(order.body):
        if not isinstance(key, str) or key in seen:
            continue  # not a key, or listed twice: the contract rule reports it, as the API's schema does
        seen.add(key)
        try:
            project.reorder([*accepted, key])
        except state.StateError as error:
            if error.rule != _MISSING:
                if whole or error.rule != _UNKNOWN:  # in part of a directory, unknown may be unshown
                    yield _Outcome(order, (index,), LINT_RULES[error.rule], error.message)
                continue
        accepted.append(key)
    missing = [policy.key for policy in project.scoped if policy.key not in seen]
    for key in missing:
        others = [other for other in missing if other != key]
        try:  # all but this one listed: the state rules name exactly this one
            project.reorder([*accepted, *others])
        except state.StateError as error:
            yield _Outcome(
                order, (), LINT_RULES[error.rule], f"{error.message} ({owners[key].document.file})"
            )


def check(rule: str, view: ProjectView) -> Iterator[ProjectProblem]:
    """The findings of one lint rule among what replaying the directory refused."""
    for outcome in _replay(view):
        if outcome.rule == rule:
            yield outcome.file, outcome.path, outcome.message
