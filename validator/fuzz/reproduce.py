"""Replays a violation's evidence against a target and asserts the contract: what generated tests call.

Each reproduction a fuzz run writes is a pytest test of three lines that calls
one of these with the target from the pytest plugin's fixture: so it passes on
a server that keeps the contract and fails, naming the rule, on one that does
not. Credentials are never written into a reproduction: requests carry a role
(``writer``, ``reader``, ``none``, or a literal wrong token) resolved here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from validator import contract
from validator import spec as spec_module
from validator.fuzz.oracle import replay
from validator.fuzz.probes import PROBES
from validator.fuzz.steps import Step
from validator.fuzz.target import Exchange, Session, Target
from validator.fuzz.violation import error_problem

Request = Mapping[str, Any]  # {"method", "path", "auth", "headers", "body"}: ``body`` is text or None


def assert_probe(target: Target, probe_id: str) -> None:
    probe = next(probe for probe in PROBES if probe.id == probe_id)
    with Session(target) as session:
        found = list(probe.check(session))
    assert not found, f"{found[0].words}\n{found[0].message}"


def assert_steps(target: Target, steps: Sequence[Mapping[str, Any]]) -> None:
    with Session(target) as session:
        failure = replay(session, [Step(**step) for step in steps])
        replay(session, [])  # leave the project empty
    assert failure is None, f"{contract.words(failure.verdict.rule)}\n{failure.verdict.message}"


def requests_of(exchanges: Sequence[Exchange], target: Target) -> list[dict[str, Any]]:
    """The exchanges as replayable requests: path only, the token replaced by its role."""
    requests = []
    for exchange in exchanges:
        parts = urlsplit(exchange.url)
        headers = {k: v for k, v in exchange.headers if k.lower() not in ("authorization", "content-length")}
        token = next((v for k, v in exchange.headers if k.lower() == "authorization"), None)
        auth = {target.token: "writer", target.reader_token: "reader", None: "none"}.get(token, token)
        if isinstance(auth, str) and target.token in auth:
            auth = auth.replace(target.token, "{writer}")  # e.g. a "Bearer <token>" probe
        body = None if exchange.body is None else exchange.body.decode("utf-8", "replace")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        requests.append(
            {"method": exchange.method, "path": path, "auth": auth, "headers": headers, "body": body}
        )
    return requests


def send(session: Session, request: Request) -> Exchange:
    """One request of :func:`requests_of`'s, its role resolved to the session's token."""
    target = session.target
    headers = dict(request["headers"])
    auth = str(request["auth"])
    roles = {"writer": target.token, "reader": target.reader_token, "none": None}
    token = roles[auth] if auth in roles else auth.replace("{writer}", target.token)
    if token is not None:
        headers["Authorization"] = token
    body = request["body"]
    return session.request(
        request["method"], target.url.rstrip("/") + request["path"],
        headers=headers, content=None if body is None else body.encode(),
    )  # fmt: skip


def requests_problem(session: Session, requests: Sequence[Request]) -> tuple[str | None, list[Exchange]]:
    """Send the requests in order, then empty the project: what is wrong with the last answer, and the
    exchanges."""
    answers = [send(session, request) for request in requests]
    problem = contract_problem(answers[-1]) if answers else None
    replay(session, [])
    return problem, answers


def assert_requests(target: Target, requests: Sequence[Request]) -> None:
    """Send the requests in order; the last answer must keep the contract."""
    with Session(target) as session:
        problem, _ = requests_problem(session, requests)
    assert problem is None, problem


def contract_problem(answer: Exchange) -> str | None:
    """What the contract says is wrong with one answer, judged without any state: status, shape, body."""
    contract = spec_module.bundled()
    path = urlsplit(answer.url).path
    operation = next(
        (op for op in contract.operations.values()
         if op.method.upper() == answer.method and re.fullmatch(_pattern(op.path), path)),
        None,
    )  # fmt: skip
    where = f"{answer.method} {path}"
    if answer.status == 0:
        return f"{where}: no answer"
    if answer.status >= 500:
        return f"{where}: answered {answer.status}; a server error is never the contract's answer"
    if operation is None or answer.status == 405:  # 405: a method the path does not serve
        problem = error_problem(answer, answer.status) if answer.status >= 400 else "a success"
        return f"{where}: {problem}" if problem else None
    if str(answer.status) not in operation.responses:
        return f"{where}: answered {answer.status}, which the operation does not document"
    problem = error_problem(answer, answer.status) if answer.status >= 400 else None
    if problem:
        return f"{where}: {problem}"
    acceptance = _acceptance(operation.operation_id, answer)
    if acceptance or answer.status >= 204:
        return acceptance
    try:
        body = answer.json()
    except ValueError:
        return f"{where}: the {answer.status} body is not JSON"
    validator = contract.response_validator(operation.operation_id, answer.status)
    error = next(iter(validator.iter_errors(body)), None)
    return (
        None if error is None else f"{where}: the {answer.status} body does not fit the spec: {error.message}"
    )


def _acceptance(operation_id: str, answer: Exchange) -> str | None:
    """A body the schema rejects must be refused; a valid one may be refused only by the state rules."""
    contract = spec_module.bundled()
    if answer.body is None or contract.operations[operation_id].request_schema is None:
        return None
    try:
        body = json.loads(answer.body)
    except ValueError:
        return None
    valid = contract.request_validator(operation_id).is_valid(body)
    if not valid and answer.status < 300:
        return f"{answer.method}: a body the schema rejects was accepted ({answer.status})"
    if valid and answer.status == 400 and operation_id != "PostReleasePoliciesOrder":
        return f"{answer.method}: a schema-valid body was refused with 400"
    return None


def _pattern(template: str) -> str:
    return re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
