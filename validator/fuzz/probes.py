"""Contract probes Schemathesis does not make: each a small function, registered once in ``PROBES``.

A probe takes a :class:`Session` and yields a :class:`Violation` for each
contract rule the server breaks, with the exchanges that show it. Probes are
safe on a shared server: they create only policies with a random prefix,
scoped ones (never a default policy), delete them afterwards, and only ever
re-send the project's current order.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from validator import spec as spec_module
from validator.fuzz.calls import calls
from validator.fuzz.pacing import Pace
from validator.fuzz.shard import WHOLE, Shard
from validator.fuzz.target import Exchange, Session, Target
from validator.fuzz.violation import Violation, error_problem, header


@dataclass(frozen=True)
class Probe:
    id: str
    #: What the probe sends, for progress lines and skip notes.
    about: str
    check: Callable[[Session], Iterator[Violation]]
    needs: str = ""  # "reader", "two projects" or "burst": skipped (and said so) without it

    def unmet(self, target: Target, pace: Pace | None = None) -> str:
        """What the target (or the profile) lacks for this probe, worded for the user; "" if nothing."""
        if self.needs == "burst" and pace is not None and pace.gentle:
            return "a burst of concurrent writes, which --profile gentle never sends"
        if self.needs == "reader" and not target.reader_token:
            return "a reader token (--reader-token)"
        if self.needs == "two projects" and len(target.projects) < 2:
            return "a second project (--project given twice)"
        return ""


def _expect(session: Session, rule: str, exchange: Exchange, status: int) -> Iterator[Violation]:
    problem = error_problem(exchange, status)
    if problem:
        yield Violation(rule, f"{exchange.method} {exchange.url}: {problem}", tuple(session.exchanges))


def _policy(prefix: str, index: int) -> dict[str, Any]:
    return {
        "key": f"{prefix}-{index}",
        "name": f"probe {index}",
        "releaseMethod": "progressive-release",
        "scope": {"environmentKeys": ["probe"]},
    }


def _prefix(session: Session) -> str:
    return session.key("probe-" + secrets.token_hex(4))


def _cleanup(session: Session, project: str | None, keys: list[str]) -> None:
    for key in keys:
        session.request("DELETE", f"{session.target.policies(project)}/{key}")


def _each_operation(session: Session, rule: str, status: int, **change: Any) -> Iterator[Violation]:
    """Every operation of the spec, sent with a valid body and ``change`` to its headers or project,
    must answer ``status``; a write the server wrongly accepted is undone."""
    key = _prefix(session)
    headers = session.headers(**{k: v for k, v in change.items() if k != "project"})
    for call in calls(session.target, key, change.get("project")):
        answer = session.request(call.method, call.url, headers=headers, json_body=call.body)
        yield from _expect(session, rule, answer, status)
    _cleanup(session, None, [key])


def probe_unauthenticated(session: Session) -> Iterator[Violation]:
    rule = "auth"
    yield from _each_operation(session, rule, 401, role=None)
    url = session.target.policies()
    wrong = session.headers(token="rpv-wrong-" + secrets.token_hex(8))
    yield from _expect(session, rule, session.request("GET", url, headers=wrong), 401)
    bearer = session.headers(token=f"Bearer {session.target.token}")
    yield from _expect(session, rule, session.request("GET", url, headers=bearer), 401)


def probe_beta_header(session: Session) -> Iterator[Violation]:
    rule = "beta-header"
    yield from _each_operation(session, rule, 403, beta=None)
    url = session.target.policies()
    yield from _expect(
        session, rule, session.request("GET", url, headers=session.headers(beta="20240415")), 403
    )
    body = _policy(_prefix(session), 0)
    answer = session.request("POST", url, headers=session.headers(beta="20240415"), json_body=body)
    yield from _expect(session, rule, answer, 403)
    if answer.status in (200, 201):
        _cleanup(session, None, [body["key"]])


def probe_unknown_project(session: Session) -> Iterator[Violation]:
    rule = "unknown-project"
    yield from _each_operation(session, rule, 404, project="rpv-absent-" + secrets.token_hex(4))


def probe_bad_query(session: Session) -> Iterator[Violation]:
    rule = "bad-query"
    for call in calls(session.target, _prefix(session)):
        for name in call.typed_query:
            yield from _expect(
                session, rule, session.request(call.method, f"{call.url}?{name}=rpv-invalid"), 400
            )


def probe_unknown_policy(session: Session) -> Iterator[Violation]:
    rule = "unknown-policy"
    for call in calls(session.target, _prefix(session)):
        if call.policy_key is not None:
            yield from _expect(
                session, rule, session.request(call.method, call.url, json_body=call.body), 404
            )


def probe_reader_cannot_write(session: Session) -> Iterator[Violation]:
    rule = "reader-role"
    url = session.target.policies()
    reader = session.headers(role="reader")
    listed = session.request("GET", url, headers=reader)
    if listed.status != 200:
        yield Violation(
            rule, f"a reader's GET answered {listed.status}, expected 200", tuple(session.exchanges)
        )
    body = _policy(_prefix(session), 0)
    answer = session.request("POST", url, headers=reader, json_body=body)
    yield from _expect(session, rule, answer, 403)
    created = session.request("POST", url, json_body=body)
    key_url = f"{url}/{body['key']}"
    for method, payload in (("PUT", {k: v for k, v in body.items() if k != "key"}), ("DELETE", None)):
        yield from _expect(
            session, rule, session.request(method, key_url, headers=reader, json_body=payload), 403
        )
    current = [p.get("key") for p in session.request("GET", url + "?excludeDefault=true").items()]
    yield from _expect(
        session, rule, session.request("POST", url + "/order", headers=reader, json_body=current), 403
    )
    if created.status == 201 or answer.status == 201:
        _cleanup(session, None, [body["key"]])


def probe_method_not_allowed(session: Session) -> Iterator[Violation]:
    rule = "method-not-allowed"
    url = session.target.policies()
    for method, path, allowed in (
        ("GET", "/order", "POST"),
        ("DELETE", "/order", "POST"),
        ("PATCH", "/rpv-x", "PUT"),
    ):
        answer = session.request(method, url + path)
        yield from _expect(session, rule, answer, 405)
        allow = header(answer, "allow") or ""
        if answer.status == 405 and allowed not in [part.strip() for part in allow.split(",")]:
            yield Violation(
                rule, f"{method} {path}: Allow is {allow!r}, missing {allowed}", tuple(session.exchanges)
            )


def probe_payload_too_large(session: Session) -> Iterator[Violation]:
    rule = "payload-too-large"
    prefix = _prefix(session)
    target = _policy(prefix, 0)
    session.request("POST", session.target.policies(), json_body=target)  # a PUT needs a policy to reach 413
    padding = "x" * spec_module.bundled().max_body_bytes
    for call in calls(session.target, target["key"]):
        if call.body is None:
            continue
        body = (
            {**call.body, "key": f"{prefix}-1", "padding": padding}
            if isinstance(call.body, dict)
            else [*call.body, padding]
        )
        yield from _expect(session, rule, session.request(call.method, call.url, json_body=body), 413)
        if session.gate.pace.gentle:
            break  # one oversized body: a shared server's bandwidth is not the fuzzer's
    _cleanup(session, None, [target["key"], f"{prefix}-1"])


def probe_malformed_bodies(session: Session) -> Iterator[Violation]:
    rule = "content-type"
    url = session.target.policies()
    body = _policy(_prefix(session), 0)
    cases: list[tuple[str, bytes]] = [
        ("application/json", b'{"key": "rpv-broken", "name": '),
        ("application/json", b"\xff\xfe not UTF-8"),
        ("text/plain", json.dumps(body).encode()),  # valid JSON: only the Content-Type is wrong
    ]
    for content_type, content in cases:
        headers = {**session.headers(), "Content-Type": content_type}
        yield from _expect(session, rule, session.request("POST", url, headers=headers, content=content), 400)
    charset = {**session.headers(), "Content-Type": "application/json; charset=utf-8"}
    accepted = session.request("POST", url, headers=charset, json_body=body)
    if accepted.status != 201:
        yield Violation(
            rule, f"a JSON body with a charset parameter answered {accepted.status}", tuple(session.exchanges)
        )
    _cleanup(session, None, [body["key"]])


def probe_isolation(session: Session) -> Iterator[Violation]:
    rule = "projects-isolated"
    first, second = session.target.projects[0], session.target.projects[1]
    body = _policy(_prefix(session), 0)
    session.request("POST", session.target.policies(first), json_body=body)
    in_second = f"{session.target.policies(second)}/{body['key']}"
    for method in ("GET", "DELETE"):
        yield from _expect(session, rule, session.request(method, in_second), 404)
    listed = session.request("GET", session.target.policies(second)).items()
    if any(p.get("key") == body["key"] for p in listed):
        yield Violation(
            rule, f"{body['key']} created in {first} is listed in {second}", tuple(session.exchanges)
        )
    still = session.request("GET", f"{session.target.policies(first)}/{body['key']}")
    if still.status != 200:
        yield Violation(
            rule,
            f"{body['key']} in {first} answered {still.status} after a DELETE in {second}",
            tuple(session.exchanges),
        )
    _cleanup(session, first, [body["key"]])


def _rank_problem(items: list[dict[str, Any]]) -> str | None:
    ranks = [p.get("rank", -1) for p in items if p.get("scope") is not None]
    if not all(type(rank) is int for rank in ranks):
        return f"scoped ranks are {ranks}, not integers"
    scoped = sorted(ranks)
    if scoped != list(range(1, len(scoped) + 1)):
        return f"scoped ranks are {scoped}, not 1..{len(scoped)}"
    return None


def _keys(values: Iterable[Any]) -> set[str]:
    """The string keys among ``values``: a broken server may answer any JSON in their place."""
    return {value for value in values if isinstance(value, str)}


def _at_once(calls: list[Callable[[], object]]) -> None:
    """Run the calls in threads started together; wait for them, bounded."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def probe_concurrent_writes(session: Session) -> Iterator[Violation]:
    rule = "concurrency"
    prefix, url = _prefix(session), session.target.policies()
    keys = [f"{prefix}-{index}" for index in range(8)]
    create = functools.partial(session.request, "POST", url)
    _at_once([functools.partial(create, json_body=_policy(prefix, i)) for i in range(len(keys))])
    items = session.request("GET", url).items()
    problem = _rank_problem(items)
    if problem:
        yield Violation(rule, f"after {len(keys)} concurrent creates: {problem}", tuple(session.exchanges))
    acknowledged = _keys(e.member("key") for e in session.exchanges if e.method == "POST" and e.status == 201)
    lost = sorted(acknowledged - _keys(item.get("key") for item in items))
    if lost:
        yield Violation(
            "read-your-writes",
            f"after {len(keys)} concurrent creates, {lost} answered 201 but are not listed",
            tuple(session.exchanges),
        )
    # Re-sending the current order changes nothing, so this is safe on a shared server.
    current = [p.get("key") for p in items if p.get("scope") is not None]
    _at_once([lambda: session.request("POST", url + "/order", json_body=current) for _ in range(4)])
    problem = _rank_problem(session.request("GET", url).items())
    if problem:
        yield Violation(rule, f"after 4 concurrent orders: {problem}", tuple(session.exchanges))
    _cleanup(session, None, keys)


PROBES: tuple[Probe, ...] = (
    Probe(
        "unauthenticated", "401 without a token (every operation) or with a wrong one", probe_unauthenticated
    ),
    Probe("beta-header", "403 without LD-API-Version: beta, on every operation", probe_beta_header),
    Probe(
        "reader-cannot-write", "403 for a reader on every write", probe_reader_cannot_write, needs="reader"
    ),
    Probe("unknown-project", "404 for an unknown project, on every operation", probe_unknown_project),
    Probe("unknown-policy", "404 for an unknown policy", probe_unknown_policy),
    Probe("bad-query", "400 for a query parameter of the wrong type", probe_bad_query),
    Probe("method-not-allowed", "405 with Allow", probe_method_not_allowed),
    Probe(
        "payload-too-large", "413 above 1 MiB, on every operation that takes a body", probe_payload_too_large
    ),
    Probe("malformed-bodies", "400 for malformed JSON and a wrong Content-Type", probe_malformed_bodies),
    Probe("isolation", "projects isolated", probe_isolation, needs="two projects"),
    Probe(
        "concurrent-writes",
        "concurrent creates and orders keep ranks unique",
        probe_concurrent_writes,
        needs="burst",
    ),
)


def run_probes(
    session: Session,
    only: str | None = None,
    found: Callable[[str, str], None] | None = None,
    shard: Shard = WHOLE,
) -> tuple[list[Violation], list[str]]:
    """Every probe the target allows (or just ``only``; of a shard, those it owns): the violations, and the
    probes that could not run.

    ``found`` hears of each violation as soon as its probe has run.
    """
    violations: list[Violation] = []
    skipped: list[str] = []
    for probe in shard.mine(PROBES, lambda probe: probe.id):
        if only is not None and probe.id != only:
            continue
        if probe.unmet(session.target, session.gate.pace):
            skipped.append(probe.id)
            continue
        session.exchanges.clear()
        for violation in probe.check(session):
            violations.append(replace(violation, check=probe.id))
            if found is not None:
                found(probe.id, violation.message)
    return violations, skipped
