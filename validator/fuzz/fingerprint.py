"""A violation's stable identity across runs and shards: its check, its contract rule, and the shape of its
minimal sequence (the operations it calls, in order), never the keys, bodies or messages, which differ
from one shard, seed or server to another.

Merging reports keeps one violation per fingerprint; the failure store keeps one reproduction per
fingerprint; SARIF locates a result at the operation its last request reached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import urlsplit

from validator import spec as spec_module
from validator.fuzz.coverage import _operation_of, _routes
from validator.fuzz.target import Exchange
from validator.fuzz.violation import Violation


def operation(exchange: Exchange) -> str:
    """The spec's operation a request reached; a method no operation of its path serves (a 405), as the
    method on an operation of the path; else the method and path."""
    path, method = urlsplit(exchange.url).path, exchange.method.upper()
    routes = _routes(spec_module.bundled())
    found = _operation_of(routes, method, path)
    if found is not None:
        return found
    of_path = next((op for _, _, op, pattern in routes if pattern.fullmatch(path)), None)
    return f"{method} on {of_path}" if of_path else f"{method} {path}"


def shape(exchanges: Sequence[Exchange]) -> tuple[str, ...]:
    """The operations a sequence calls, each run of repeats once (a batch of creates is one create)."""
    calls: list[str] = []
    for exchange in exchanges:
        called = operation(exchange)
        if not calls or calls[-1] != called:
            calls.append(called)
    return tuple(calls)


def fingerprint(violation: Violation) -> str:
    """Sixteen hex digits naming the violation's check, rule and shape."""
    text = "\n".join((violation.check, violation.rule, *shape(violation.exchanges)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
