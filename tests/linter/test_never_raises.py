"""No input makes the linter raise: any JSON value, any bytes, any directory of such files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.payloads import ROOT
from validator.findings import Finding
from validator.linter import KINDS, Kind, lint, lint_bytes

SEED_BODY = json.loads((ROOT / "invalid" / "seed-create.json").read_text(encoding="utf-8"))
FIELDS = [*SEED_BODY, *SEED_BODY["guardedReleaseConfig"], "allocation", "durationMillis", "environmentKeys"]

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
keys = st.sampled_from(FIELDS) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=6),
    max_leaves=40,
)


def well_formed(findings: tuple[Finding, ...], name: str) -> bool:
    return all(
        f.file == name
        and f.line >= 1
        and f.column >= 1
        and f.path.startswith("$")
        and f.severity in ("error", "warning")
        for f in findings
    )


@settings(max_examples=300, deadline=None)
@given(value=json_values, kind=st.sampled_from([None, *KINDS]), indent=st.sampled_from([None, 2]))
def test_any_json_value(value: Any, kind: Kind | None, indent: int | None) -> None:
    findings = lint_bytes(json.dumps(value, indent=indent).encode(), "value.json", kind)
    assert well_formed(findings, "value.json")


@settings(max_examples=200, deadline=None)
@given(
    value=st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS[:8], json_values)),
    kind=st.sampled_from(KINDS),
)
def test_bodies_shaped_like_policies(value: dict[str, Any], kind: Kind) -> None:
    body = {**SEED_BODY, **value}
    assert well_formed(lint_bytes(json.dumps(body).encode(), "p.json", kind), "p.json")


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300), name=st.sampled_from(["x.json", "x.yaml", "x"]))
def test_any_bytes(raw: bytes, name: str) -> None:
    assert well_formed(lint_bytes(raw, name), name)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("{}[]:,\"'-&*!?|>#\n\t 0aeNIf.\\")), max_size=80))
def test_json_and_yaml_shaped_text(text: str) -> None:
    for name in ("t.json", "t.yaml"):
        assert well_formed(lint_bytes(text.encode(), name), name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(json_values | st.just(SEED_BODY), min_size=1, max_size=4))
def test_any_project(values: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        for index, value in enumerate(values):
            Path(directory, f"{index}.json").write_text(json.dumps(value), encoding="utf-8")
        result = lint([directory])
        assert result.files_checked == len(values)
