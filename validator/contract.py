"""The contract's rules in words, each once, by id: what the fuzzer reports and the docs print.

The OpenAPI document says what a server must accept and reject and what it
answers; these rules say what a schema cannot (order of checks, state, ranks).
``validator.state`` applies the state rules; the fuzzer names the rule a
server broke by its id here; ``release-policy docs`` renders this table as
the contract page (``spec/CONTRACT.md`` in the repository). A rule marked
``curated`` is this project's decision where LaunchDarkly's material is silent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    intro: str


@dataclass(frozen=True)
class Rule:
    id: str
    section: int
    text: str
    curated: bool = False


SECTIONS: tuple[Section, ...] = (
    Section(
        1,
        "Contract and lint policy",
        "The contract is what a server must accept and reject, and it is the OpenAPI document: every "
        "constraint on a body is expressible in JSON Schema, so a schema-driven fuzzer generates only "
        "data a correct server accepts. The lint policy is the contract plus best-practice rules "
        "(`release-policy lint --list-rules`) that catch payloads a server would accept but that are "
        "almost surely mistakes; lint rules never change what a server accepts.",
    ),
    Section(
        2,
        "Operations",
        "Six operations under one base path, with the statuses the spec documents for each. The first "
        "three (create, update, order) are the ones LaunchDarkly's reference pages document; the other "
        "three exist in LaunchDarkly's published client and let a client read state back. The "
        "operationIds are LaunchDarkly's own, so the official clients' method names map one to one.",
    ),
    Section(
        3,
        "Headers, authentication, errors",
        "What every request must carry, which check answers first, and what an error looks like.",
    ),
    Section(
        4,
        "Bodies and policies",
        "The schemas themselves (keys, names, the release method, scope, both configs, stages) are the "
        "spec's; the reference lists every field with its limits. What a schema cannot say:",
    ),
    Section(
        5,
        "State",
        "What a server keeps between requests. The reference server applies these rules from one pure "
        "module (`validator.state`), and the fuzzer predicts every answer from the same module.",
    ),
)

RULES: tuple[Rule, ...] = (
    Rule(
        "invalid-rejected",
        1,
        "A body the spec's schema rejects is answered 400, and changes nothing.",
    ),
    Rule(
        "valid-accepted",
        1,
        "A body the spec's schema accepts is never refused with 400, except by the state rules of "
        "section 5: a create answers 201, an update and an order 200.",
    ),
    Rule(
        "response-schema",
        1,
        "Every answer is one the spec documents for its operation: a documented status, with the headers "
        "and the body schema the spec gives that status.",
    ),
    Rule(
        "method-not-allowed",
        2,
        "A method a path does not serve answers 405 with an `Allow` header listing the methods it serves.",
    ),
    Rule(
        "bad-query",
        2,
        "A query parameter whose value its type rejects (`excludeDefault` is a boolean) is 400.",
    ),
    Rule(
        "auth",
        3,
        "The access token travels in `Authorization` as it is, with no `Bearer` prefix. A request "
        "without a token, or with a token the server does not know, is 401.",
    ),
    Rule(
        "beta-header",
        3,
        "Every request carries `LD-API-Version: beta`; without it, or with another value, the answer is 403.",
    ),
    Rule(
        "reader-role",
        3,
        "A token is a writer's or a reader's. A reader may call the two GET operations; any other "
        "operation answers 403.",
        curated=True,
    ),
    Rule(
        "order-of-checks",
        3,
        "The checks run in one order and the first that fails answers: 401 (token), 403 (beta header), "
        "405 (method), 403 (a reader writing), 404 (unknown project, then unknown policy), 413 (size), "
        "400 (body), 409 (state).",
        curated=True,
    ),
    Rule(
        "unknown-project",
        3,
        "An unknown `projectKey` is 404 on every operation, before the body is judged.",
    ),
    Rule(
        "unknown-policy",
        3,
        "GET, PUT or DELETE of a policy that does not exist is 404, before the body is judged.",
    ),
    Rule(
        "payload-too-large",
        3,
        "A request body larger than the spec's limit (`x-max-body-bytes`) is 413, on every operation "
        "that takes a body.",
        curated=True,
    ),
    Rule(
        "content-type",
        3,
        "A request body is `application/json` (a `charset` parameter is allowed); any other content "
        "type, or a body that is not JSON, is 400.",
    ),
    Rule(
        "body-timeout",
        3,
        "A body that does not arrive in full within the server's body timeout is answered 400, or the "
        "connection is closed: the contract has no 408.",
        curated=True,
    ),
    Rule(
        "error-shape",
        3,
        "Every error answer is `application/json`: an object with the strings `code` and `message` "
        "(and optionally `id`), where `code` is the one the spec gives the status, and the message says "
        "what was wrong and where.",
    ),
    Rule("json-responses", 3, "Every answer that has a body is `application/json`."),
    Rule(
        "rate-limited",
        3,
        "Any operation may answer 429, after the token check and before any other, with the error body "
        "(code `rate_limited`) and `Retry-After` (seconds) or `X-Ratelimit-Reset` (a Unix time in "
        "milliseconds). A 429 changes nothing; the client waits and sends the same request again.",
    ),
    Rule(
        "unknown-fields",
        4,
        "Members a request schema does not declare are ignored: not stored, not echoed, and no error. "
        "So the request schemas allow additional properties.",
    ),
    Rule(
        "echo",
        4,
        "A policy echoes every field its create or update stored exactly as it was sent (`scope` and "
        "both configs as an object or null), plus `_id`, `key` and `rank`.",
    ),
    Rule("stable-id", 4, "A policy's `_id` is a UUID string, fixed for the policy's whole life."),
    Rule(
        "projects-isolated",
        5,
        "Projects are configured on the server, and never share policies: nothing done in one is "
        "visible in, or changes, another.",
    ),
    Rule(
        "unique-keys",
        5,
        "Keys are unique within a project and case-sensitive: creating a key the project holds is 409 "
        "and changes nothing.",
    ),
    Rule(
        "reserved-key",
        5,
        "The key `order` is reserved for the order operation: GET, PUT and DELETE on "
        "`/release-policies/order` answer 405, and creating a policy with that key is 400.",
        curated=True,
    ),
    Rule(
        "one-default",
        5,
        "A policy whose `scope` is absent or null is the project's default policy. A project has at "
        "most one: creating or updating into a second is 409.",
        curated=True,
    ),
    Rule(
        "ranks",
        5,
        "The default policy has rank 0; the scoped policies have ranks 1..n, unique and contiguous, 1 "
        "the highest priority. A new scoped policy is appended at n+1. Deleting a scoped policy, or "
        "updating it into the default one, closes the gap; updating the default policy into a scoped "
        "one appends it at n+1; an update that keeps a policy scoped keeps its rank.",
        curated=True,
    ),
    Rule(
        "put-replaces",
        5,
        "PUT replaces every field a create stores (`name`, `releaseMethod`, `scope`, both configs): an "
        "optional block left out is cleared. `_id` and `key` never change, `rank` only as the rank rule "
        "says, and a `key` in the body is an unknown member.",
    ),
    Rule(
        "order-applies",
        5,
        "An order is the project's scoped keys, each once, in the new rank order: the first key gets "
        "rank 1, and the answer is the scoped policies by their new rank. An empty order is valid when "
        "no policy is scoped.",
    ),
    Rule(
        "order-rejects",
        5,
        "An order that leaves out a scoped key, names an unknown key or the default policy's key, or "
        "names a key twice is 400 and changes nothing.",
    ),
    Rule("delete-removes", 5, "DELETE answers 204 with no body and removes the policy."),
    Rule(
        "list",
        5,
        "The list holds the project's policies by rank (the default policy first), with `totalCount` "
        "the number of items; `excludeDefault=true` leaves the default policy out.",
    ),
    Rule(
        "rejected-changes-nothing",
        5,
        "Every operation is atomic: a request answered with an error changes nothing.",
    ),
    Rule(
        "concurrency",
        5,
        "Under any mix of concurrent requests the ranks stay contiguous and unique.",
    ),
    Rule(
        "read-your-writes",
        5,
        "No acknowledged write (a 2xx answer) is lost, even when the server process is killed right "
        "after answering.",
    ),
)

BY_ID = {rule.id: rule for rule in RULES}


def words(rule_id: str) -> str:
    """The rule's text; a ``KeyError`` for an id the table does not hold, so a typo cannot pass silently."""
    return BY_ID[rule_id].text


def rules_of(section: Section) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if rule.section == section.number)
