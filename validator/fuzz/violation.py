"""A broken contract rule and its evidence, and the contract's shape of an error answer (``error-shape``).

Every source of findings (the probes, the oracle, Schemathesis' checks)
reports a :class:`Violation`; reports are generated from its exchanges.
"""

from __future__ import annotations

from dataclasses import dataclass

from validator import contract
from validator import spec as spec_module
from validator.fuzz.target import Exchange


@dataclass(frozen=True)
class Violation:
    """A contract rule broken: the rule's id in ``validator.contract``, what happened, and the evidence.

    ``exchanges`` is the sequence of requests that shows it, from a clean state
    where the source can make one (the oracle shrinks its sequences).
    """

    rule: str
    message: str
    exchanges: tuple[Exchange, ...]
    #: Which check found it: a probe id, ``oracle:<rule>`` or ``schemathesis:<check>``.
    check: str = ""

    def __post_init__(self) -> None:
        contract.words(self.rule)  # an id the contract does not hold is a bug here, not a finding

    @property
    def words(self) -> str:
        """The rule in the contract's words."""
        return contract.words(self.rule)


def header(exchange: Exchange, name: str) -> str | None:
    """The response header ``name`` (lower case), if the answer has it."""
    return next((value for key, value in exchange.response_headers if key.lower() == name), None)


def answered(exchange: Exchange) -> str:
    """The status an exchange got, and why there was no answer or only part of one: for messages."""
    got = str(exchange.status or "nothing")
    return f"{got} ({exchange.problem})" if exchange.problem else got


def error_problem(exchange: Exchange, status: int) -> str | None:
    """What is wrong with an answer that should be the contract's error ``status``, if anything."""
    if exchange.status != status:
        return f"answered {answered(exchange)}, expected {status}"
    if exchange.problem:
        return f"the {status} is incomplete: {exchange.problem}"
    if (header(exchange, "content-type") or "").split(";")[0] != "application/json":
        return f"the {status} is not application/json"
    try:
        body = exchange.json()
    except ValueError as error:
        return f"the {status} body is not JSON: {error}"
    if not spec_module.bundled().schema_validator("Error").is_valid(body):
        return f"the {status} body does not fit the Error schema: {body!r}"
    expected = spec_module.bundled().error_codes.get(status)
    if body.get("code") != expected:
        return f"the {status} body's code is {body.get('code')!r}, expected {expected!r}"
    return None
