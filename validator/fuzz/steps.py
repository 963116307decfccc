"""The oracle's requests: a :class:`Step` is one call of the API, and Hypothesis draws them.

Bodies come from Schemathesis' strategies for the spec's operations (positive
ones, and now and then negative ones), drawn once per run into a pool, so
generation stays Schemathesis';
this module only decides which operation comes next and which keys it names.
Keys come from a small pool, so that sequences collide: a second create of a
key, a PUT of a deleted one, a key that differs only in case.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

from validator import spec as spec_module
from validator.state import Project

Kind = Literal["create", "put", "delete", "get", "list", "order"]
#: ``order`` is the reserved key: the order operation's path, never a policy.
KEYS = ("alpha", "beta", "Alpha", "gamma", "order")


@dataclass(frozen=True)
class Step:
    """One request: its kind, the policy key in its path, its JSON body (as text) and the list flag."""

    kind: Kind
    key: str = ""
    body: str | None = None
    exclude_default: bool = False

    @property
    def method(self) -> str:
        return {"create": "POST", "order": "POST", "put": "PUT", "delete": "DELETE"}.get(self.kind, "GET")

    def path(self) -> str:
        """The path below ``.../release-policies``."""
        if self.kind in ("put", "delete", "get"):
            return f"/{self.key}"
        if self.kind == "order":
            return "/order"
        return "?excludeDefault=true" if self.exclude_default else ""

    def data(self) -> Any:
        return None if self.body is None else json.loads(self.body)


@dataclass(frozen=True)
class Bodies:
    """Bodies Schemathesis generated for the spec's operations, drawn once per run and reused.

    Drawing a body from Schemathesis costs about 20 ms, ten times a request to a local server;
    a pool drawn up front lets the search spend its time on sequences, where the state bugs are.
    """

    create: tuple[str, ...]
    scoped: tuple[str, ...]  # the creates with a scope: most of them leave it out
    put: tuple[str, ...]
    bad_create: tuple[str, ...]
    bad_put: tuple[str, ...]


def _with_key(text: str, key: str) -> str:
    return json.dumps({**json.loads(text), "key": key})


def well_formed_key(key: str) -> bool:
    """Whether the spec's key schema accepts ``key`` (so a run may put one of its own in its place)."""
    return bool(spec_module.bundled().schema_validator("ReleasePolicyKey").is_valid(key))


def _with_own_key(text: str, key: str) -> str:
    """A body the schema rejects, with the run's ``key`` in place of a well-formed one of its own: what
    makes it invalid is elsewhere (should a server accept it anyway, the policy is the run's)."""
    body = json.loads(text)
    if not isinstance(body, dict) or not isinstance(body.get("key"), str):
        return text
    if not well_formed_key(body["key"]):
        return text  # the key itself is what the body gets wrong
    return _with_key(text, key)


def _order(scoped: tuple[str, ...], default: str | None) -> st.SearchStrategy[str]:
    """Mostly the scoped keys in a new order; sometimes one broken the ways the contract rejects."""
    mutations: list[Callable[[list[str]], list[str]]] = [lambda keys: keys] * 3
    mutations.append(lambda keys: [*keys, "gamma"])  # unknown (or, if it exists, a duplicate)
    if scoped:
        mutations += [lambda keys: keys[1:], lambda keys: [*keys, keys[0]]]  # missing, duplicate
    if default is not None:
        mutations.append(lambda keys: [default, *keys])
    return st.tuples(st.permutations(scoped), st.sampled_from(mutations)).map(
        lambda drawn: json.dumps(drawn[1](list(drawn[0])))
    )


def keys(prefix: str = "") -> tuple[str, ...]:
    """The keys sequences draw from: ``KEYS`` behind a run's prefix, but the reserved ``order``."""
    return tuple(key if key == "order" or not prefix else f"{prefix}-{key}" for key in KEYS)


def steps_for(project: Project, bodies: Bodies, prefix: str = "") -> st.SearchStrategy[Step]:
    """The next step, given what the model holds now; new keys begin with ``prefix``."""
    default = project.default
    return _steps(
        tuple(policy.key for policy in project.policies),
        tuple(policy.key for policy in project.scoped),
        default.key if default else None,
        bodies,
        keys(prefix),
    )


@functools.lru_cache(maxsize=1024)
def _steps(
    existing: tuple[str, ...],
    scoped: tuple[str, ...],
    default: str | None,
    bodies: Bodies,
    names: tuple[str, ...],
) -> st.SearchStrategy[Step]:
    # Cached: building and validating the strategy costs more than drawing from it.
    pool = st.sampled_from(names)
    held = st.sampled_from(existing) if existing else pool
    keys = st.one_of(held, held, pool)  # a PUT, GET or DELETE mostly names a policy that exists
    fresh = [key for key in names if key not in existing and key != "order"]
    unused = st.sampled_from(fresh) if fresh else pool
    new_keys = st.one_of(unused, unused, unused, held)  # mostly a new policy, sometimes a duplicate
    create = st.tuples(st.sampled_from(bodies.create), new_keys).map(
        lambda drawn: Step("create", body=_with_key(*drawn))
    )
    # Two thirds of generated bodies leave the scope out, and a project has one default policy:
    # without scoped creates, ranks and order would hardly be exercised.
    scoped_create = st.tuples(st.sampled_from(bodies.scoped), new_keys).map(
        lambda drawn: Step("create", body=_with_key(*drawn))
    )
    listing = st.builds(lambda flag: Step("list", exclude_default=flag), st.booleans())
    # Hypothesis favours a one_of's first branch: a scoped create moves the state furthest.
    return st.one_of(
        scoped_create,
        scoped_create,
        scoped_create,
        create,
        st.tuples(st.sampled_from(bodies.bad_create), new_keys).map(
            lambda drawn: Step("create", body=_with_own_key(*drawn))
        ),
        st.builds(lambda key, body: Step("put", key, body), keys, st.sampled_from(bodies.put)),
        st.builds(lambda key, body: Step("put", key, body), keys, st.sampled_from(bodies.bad_put)),
        st.builds(lambda key: Step("delete", key), keys),
        st.builds(lambda key: Step("get", key), keys),
        listing,
        listing,  # reads often: a wrong rank or a lost write shows before a later step hides it
        st.builds(lambda body: Step("order", body=body), _order(scoped, default)),
    )
