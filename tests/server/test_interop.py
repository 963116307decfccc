"""LaunchDarkly's official Python client (``launchdarkly-api`` 25.x) against the reference server.

The client parses every answer with its pydantic models, so each successful call
here also proves the server's body has the shape the client expects (a string
``_id``, an integer ``rank``, a known ``releaseMethod``...): a wrong one would make
the call raise. The client also has a known gotcha, pinned here so the README's
advice stays true: since 21.0.0 its ``ApiClient`` sends ``LD-API-Version: 20240415``
whatever ``ld_api_version`` a call passes, and only
``api_client.set_default_header("LD-API-Version", "beta")`` makes it send ``beta``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from launchdarkly_api import (
    ApiClient,
    Configuration,
    Error,
    GuardedReleaseConfig,
    PostReleasePolicyRequest,
    ProgressiveReleaseConfig,
    PutReleasePolicyRequest,
    ReleaseMethod,
    ReleasePoliciesBetaApi,
    ReleasePoliciesResponse,
    ReleasePolicy,
    ReleasePolicyScope,
    ReleasePolicyStage,
)
from launchdarkly_api.exceptions import ConflictException, ForbiddenException, NotFoundException

from tests.server.live import READER, WRITER, LiveServer

BETA = "beta"
PROJECT = "default"
HEADER = "LD-API-Version"

GUARDED_SCOPE = ReleasePolicyScope(environmentKeys=["production"], flagTagKeys=["checkout"])
GUARDED_CONFIG = GuardedReleaseConfig(
    rolloutContextKindKey="user",
    minSampleSize=100,
    rollbackOnRegression=True,
    metricKeys=["http-errors"],
    metricGroupKeys=["latency"],
    stages=[
        ReleasePolicyStage(allocation=25000, durationMillis=3600000),
        ReleasePolicyStage(allocation=50000, durationMillis=7200000),
    ],
)
PROGRESSIVE_SCOPE = ReleasePolicyScope(environmentKeys=["staging"])
PROGRESSIVE_CONFIG = ProgressiveReleaseConfig(
    rolloutContextKindKey="account",
    stages=[ReleasePolicyStage(allocation=10000, durationMillis=600000)],
)


def guarded(key: str = "prod-guarded") -> PostReleasePolicyRequest:
    return PostReleasePolicyRequest(
        key=key,
        name="Prod guarded",
        releaseMethod=ReleaseMethod.GUARDED_MINUS_RELEASE,
        scope=GUARDED_SCOPE,
        guardedReleaseConfig=GUARDED_CONFIG,
    )


def progressive(key: str = "staging-progressive") -> PostReleasePolicyRequest:
    return PostReleasePolicyRequest(
        key=key,
        name="Staging progressive",
        releaseMethod=ReleaseMethod.PROGRESSIVE_MINUS_RELEASE,
        scope=PROGRESSIVE_SCOPE,
        progressiveReleaseConfig=PROGRESSIVE_CONFIG,
    )


def default_policy(key: str = "fallback") -> PostReleasePolicyRequest:
    return PostReleasePolicyRequest(
        key=key,
        name="Fallback",
        releaseMethod=ReleaseMethod.PROGRESSIVE_MINUS_RELEASE,
        progressiveReleaseConfig=PROGRESSIVE_CONFIG,
    )


@contextmanager
def official(client: ApiClient, sent: list[str] | None = None) -> Iterator[ReleasePoliciesBetaApi]:
    """The client's API object; ``sent`` collects the ``LD-API-Version`` of every request on the wire."""
    pool = client.rest_client.pool_manager
    if sent is not None:
        forward = pool.request

        def record(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(kwargs["headers"][HEADER])
            return forward(method, url, *args, **kwargs)

        pool.request = record  # type: ignore[method-assign]
    try:
        yield ReleasePoliciesBetaApi(client)
    finally:
        pool.clear()


def fixed_client(server: LiveServer, token: str) -> ApiClient:
    """The README's way: the one line after construction that makes the client send ``beta``."""
    client = ApiClient(Configuration(host=server.url, api_key={"ApiKey": token}))
    client.set_default_header("LD-API-Version", "beta")  # type: ignore[no-untyped-call]
    return client


@pytest.fixture
def api(server: LiveServer) -> Iterator[ReleasePoliciesBetaApi]:
    with official(fixed_client(server, WRITER)) as writer:
        yield writer


def keys_and_ranks(policies: list[ReleasePolicy]) -> list[tuple[str, int]]:
    return [(policy.key, policy.rank) for policy in policies]


def seed(api: ReleasePoliciesBetaApi) -> tuple[ReleasePolicy, ReleasePolicy, ReleasePolicy]:
    return (
        api.post_release_policy(BETA, PROJECT, guarded()),
        api.post_release_policy(BETA, PROJECT, progressive()),
        api.post_release_policy(BETA, PROJECT, default_policy()),
    )


def test_the_fix_makes_the_client_send_beta(server: LiveServer) -> None:
    sent: list[str] = []
    with official(fixed_client(server, WRITER), sent) as api:
        listed = api.get_release_policies(BETA, PROJECT)
    assert sent == ["beta"]
    assert listed == ReleasePoliciesResponse(items=[], totalCount=0)


def test_create_answers_policies_the_client_parses(api: ReleasePoliciesBetaApi) -> None:
    first, second, fallback = seed(api)

    assert isinstance(first, ReleasePolicy)
    assert uuid.UUID(first.id).version == 4
    assert (first.key, first.name, first.rank) == ("prod-guarded", "Prod guarded", 1)
    assert first.release_method is ReleaseMethod.GUARDED_MINUS_RELEASE
    assert first.scope == GUARDED_SCOPE
    assert first.guarded_release_config == GUARDED_CONFIG
    assert first.progressive_release_config is None

    assert (second.key, second.rank) == ("staging-progressive", 2)
    assert second.release_method is ReleaseMethod.PROGRESSIVE_MINUS_RELEASE
    assert second.scope == PROGRESSIVE_SCOPE
    assert second.progressive_release_config == PROGRESSIVE_CONFIG
    assert second.guarded_release_config is None

    assert (fallback.key, fallback.rank, fallback.scope) == ("fallback", 0, None)
    assert len({first.id, second.id, fallback.id}) == 3


def test_get_and_list(api: ReleasePoliciesBetaApi) -> None:
    first, second, fallback = seed(api)

    assert api.get_release_policy(BETA, PROJECT, "prod-guarded") == first

    listed = api.get_release_policies(BETA, PROJECT)
    assert isinstance(listed, ReleasePoliciesResponse)
    assert listed.total_count == 3
    assert listed.items == [fallback, first, second]
    assert keys_and_ranks(listed.items) == [("fallback", 0), ("prod-guarded", 1), ("staging-progressive", 2)]

    scoped = api.get_release_policies(BETA, PROJECT, exclude_default=True)
    assert scoped.total_count == 2
    assert scoped.items == [first, second]

    assert api.get_release_policies(BETA, PROJECT, exclude_default=False) == listed


def test_raw_bodies_lose_nothing_in_the_models(api: ReleasePoliciesBetaApi) -> None:
    """What the server sends is exactly what the models keep: no field the client drops or renames."""
    seed(api)
    raw = api.get_release_policies_without_preload_content(BETA, PROJECT)
    assert raw.status == 200
    body = json.loads(raw.data)
    assert ReleasePoliciesResponse.from_dict(body) == api.get_release_policies(BETA, PROJECT)
    for item in body["items"]:
        model = ReleasePolicy.from_dict(item)
        assert model is not None
        assert model.to_dict() == {name: value for name, value in item.items() if value is not None}


def test_put_replaces_and_keeps_rank(api: ReleasePoliciesBetaApi) -> None:
    first, _, _ = seed(api)
    replaced = api.put_release_policy(
        BETA,
        PROJECT,
        "prod-guarded",
        PutReleasePolicyRequest(
            name="Prod progressive",
            releaseMethod=ReleaseMethod.PROGRESSIVE_MINUS_RELEASE,
            scope=GUARDED_SCOPE,
            progressiveReleaseConfig=PROGRESSIVE_CONFIG,
        ),
    )
    assert (replaced.id, replaced.key, replaced.rank) == (first.id, "prod-guarded", 1)
    assert replaced.name == "Prod progressive"
    assert replaced.release_method is ReleaseMethod.PROGRESSIVE_MINUS_RELEASE
    assert replaced.guarded_release_config is None  # left out, so cleared
    assert replaced.progressive_release_config == PROGRESSIVE_CONFIG
    assert api.get_release_policy(BETA, PROJECT, "prod-guarded") == replaced


def test_order_the_scoped_policies(api: ReleasePoliciesBetaApi) -> None:
    first, second, fallback = seed(api)
    ordered = api.post_release_policies_order(BETA, PROJECT, ["staging-progressive", "prod-guarded"])
    assert all(isinstance(policy, ReleasePolicy) for policy in ordered)
    assert keys_and_ranks(ordered) == [("staging-progressive", 1), ("prod-guarded", 2)]
    assert [policy.id for policy in ordered] == [second.id, first.id]
    listed = api.get_release_policies(BETA, PROJECT)
    assert listed.items == [fallback, *ordered]


def test_delete_closes_the_rank_gap(api: ReleasePoliciesBetaApi) -> None:
    seed(api)
    third = api.post_release_policy(BETA, PROJECT, guarded("third"))
    assert third.rank == 3
    assert api.delete_release_policy(BETA, PROJECT, "staging-progressive") is None
    listed = api.get_release_policies(BETA, PROJECT)
    assert listed.total_count == 3
    assert keys_and_ranks(listed.items) == [("fallback", 0), ("prod-guarded", 1), ("third", 2)]
    with pytest.raises(NotFoundException) as gone:
        api.get_release_policy(BETA, PROJECT, "staging-progressive")
    assert gone.value.status == 404


def test_not_found_is_a_parsed_error(api: ReleasePoliciesBetaApi) -> None:
    with pytest.raises(NotFoundException) as missing:
        api.get_release_policy(BETA, PROJECT, "no-such-policy")
    assert missing.value.status == 404
    assert isinstance(missing.value.data, Error)
    assert missing.value.data.code == "not_found"

    with pytest.raises(NotFoundException) as no_project:
        api.get_release_policies(BETA, "no-such-project")
    assert no_project.value.status == 404
    assert isinstance(no_project.value.data, Error)
    assert no_project.value.data.code == "not_found"


def test_duplicate_key_is_a_conflict(api: ReleasePoliciesBetaApi) -> None:
    first = api.post_release_policy(BETA, PROJECT, guarded())
    with pytest.raises(ConflictException) as duplicate:
        api.post_release_policy(BETA, PROJECT, progressive(key="prod-guarded"))
    assert duplicate.value.status == 409
    error = duplicate.value.data
    assert isinstance(error, Error)
    assert error.code == "conflict"
    assert error.message
    assert api.get_release_policies(BETA, PROJECT).items == [first]


def test_a_reader_may_read_but_not_write(server: LiveServer, api: ReleasePoliciesBetaApi) -> None:
    first = api.post_release_policy(BETA, PROJECT, guarded())
    with official(fixed_client(server, READER)) as reader:
        assert reader.get_release_policies(BETA, PROJECT).items == [first]
        assert reader.get_release_policy(BETA, PROJECT, "prod-guarded") == first
        with pytest.raises(ForbiddenException) as refused:
            reader.post_release_policy(BETA, PROJECT, progressive())
        assert refused.value.status == 403
        assert isinstance(refused.value.data, Error)
        assert refused.value.data.code == "forbidden"
        with pytest.raises(ForbiddenException):
            reader.delete_release_policy(BETA, PROJECT, "prod-guarded")
    assert api.get_release_policies(BETA, PROJECT).items == [first]


Unfixed = Callable[[LiveServer], tuple[ApiClient, dict[str, Any]]]


def unfixed_plain(server: LiveServer) -> tuple[ApiClient, dict[str, Any]]:
    return ApiClient(Configuration(host=server.url, api_key={"ApiKey": WRITER})), {}


def unfixed_per_call_header(server: LiveServer) -> tuple[ApiClient, dict[str, Any]]:
    client = ApiClient(Configuration(host=server.url, api_key={"ApiKey": WRITER}))
    return client, {"_headers": {HEADER: "beta"}}


def unfixed_constructor_header(server: LiveServer) -> tuple[ApiClient, dict[str, Any]]:
    config = Configuration(host=server.url, api_key={"ApiKey": WRITER})
    return ApiClient(config, header_name=HEADER, header_value="beta"), {}


@pytest.mark.parametrize(
    "unfixed",
    [unfixed_plain, unfixed_per_call_header, unfixed_constructor_header],
    ids=["ld_api_version-argument", "per-call-_headers", "ApiClient-header_value"],
)
def test_without_the_fix_the_client_sends_20240415_and_gets_403(
    server: LiveServer, api: ReleasePoliciesBetaApi, unfixed: Unfixed
) -> None:
    client, extra = unfixed(server)
    sent: list[str] = []
    with official(client, sent) as broken:
        with pytest.raises(ForbiddenException) as read:
            broken.get_release_policies(BETA, PROJECT, **extra)
        with pytest.raises(ForbiddenException) as write:
            broken.post_release_policy(BETA, PROJECT, guarded(), **extra)
    assert sent == ["20240415", "20240415"]
    for refused in (read.value, write.value):
        assert refused.status == 403
        assert isinstance(refused.data, Error)
        assert refused.data.code == "forbidden"
    assert api.get_release_policies(BETA, PROJECT).total_count == 0
