"""The project rules: the policy files of one directory are one project, checked together."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from validator.findings import Path
from validator.linter.model import PolicyFile

ProjectProblem = tuple[PolicyFile, Path, str]


def _policies(files: Sequence[PolicyFile]) -> list[PolicyFile]:
    """The create bodies with a readable key: the policies the directory defines."""
    return [
        file
        for file in files
        if file.kind == "create" and isinstance(file.body, dict) and isinstance(file.body.get("key"), str)
    ]


def _is_default(file: PolicyFile) -> bool:
    return file.body.get("scope") is None


def check_duplicate_keys(files: Sequence[PolicyFile]) -> Iterator[ProjectProblem]:
    first: dict[str, PolicyFile] = {}
    for file in _policies(files):
        key = file.body["key"]
        if key in first:
            yield (
                file,
                ("key",),
                (
                    f"policy key {key!r} is also defined in {first[key].document.file};"
                    " the server answers the second create with 409"
                ),
            )
        else:
            first[key] = file


def check_default_policies(files: Sequence[PolicyFile]) -> Iterator[ProjectProblem]:
    defaults = [file for file in _policies(files) if _is_default(file)]
    for file in defaults[1:]:
        yield (
            file,
            ("key",),
            (
                f"a second default policy (no scope): {defaults[0].document.file} is one already;"
                " a project has at most one"
            ),
        )


def check_order_lists_the_policies(files: Sequence[PolicyFile]) -> Iterator[ProjectProblem]:
    policies = _policies(files)
    orders = [file for file in files if file.kind == "order" and isinstance(file.body, list)]
    if not policies:
        return
    scoped = {file.body["key"]: file for file in policies if not _is_default(file)}
    defaults = {file.body["key"]: file for file in policies if _is_default(file)}
    for order in orders:
        listed = [key for key in order.body if isinstance(key, str)]
        for index, key in enumerate(order.body):
            if not isinstance(key, str):
                continue  # the contract rule reports it
            if key in defaults:
                yield (
                    order,
                    (index,),
                    (
                        f"{key!r} is the default policy ({defaults[key].document.file}):"
                        " Default policy key is not allowed in ordering"
                    ),
                )
            elif key not in scoped:
                yield (
                    order,
                    (index,),
                    f"{key!r} is not a policy of this directory; the server rejects unknown keys",
                )
        for key in sorted(scoped.keys() - set(listed)):
            yield (
                order,
                (),
                (
                    f"Missing policy key {key!r} ({scoped[key].document.file}):"
                    " the order must list every scoped policy"
                ),
            )
