"""``release-policy spec check`` on the bundled spec and on copies broken one way each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from validator import __version__
from validator import spec as spec_module
from validator.cli import main
from validator.reporters import REPORTERS
from validator.speccheck import RULE_INFO, RULES

SPEC_TEXT = spec_module.bundled_path().read_text(encoding="utf-8")


def mutated(tmp_path: Path, old: str, new: str) -> Path:
    assert SPEC_TEXT.count(old) >= 1, old
    path = tmp_path / "mutated.yaml"
    path.write_text(SPEC_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def run_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    code = main(["spec", "check", "--format", "json", str(path)])
    return code, json.loads(capsys.readouterr().out)["findings"]


def test_bundled_spec_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "check"]) == 0
    assert capsys.readouterr().out.strip() == "no problems in 1 file"


def test_repository_spec_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "check", str(spec_module.bundled_path())]) == 0


def test_example_breaking_its_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, "                  key: production-release\n", "                  key: order\n")
    code, findings = run_json(path, capsys)
    assert code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [
        ("example-valid", line_of(path, "key: order"), 19)
    ]
    assert "'production-release'" in str(findings[0]["message"])
    assert str(findings[0]["path"]).endswith(".examples['production-release'].value.key")


def test_schema_example_breaking_its_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, "      examples: [Production Release]\n", "      examples: ['']\n")
    code, findings = run_json(path, capsys)
    assert code == 1
    assert [(f["rule"], f["path"]) for f in findings] == [
        ("example-valid", "$.components.schemas.ReleasePolicyName.examples[0]")
    ]


def test_operation_without_404(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = '        "404":\n          $ref: "#/components/responses/ProjectNotFound"\n'
    path = mutated(tmp_path, block, "")
    code = main(["spec", "check", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    responses_line = line_of(path, "      responses:")
    assert out[0] == (
        f"{path}:{responses_line}:7: error [error-responses] PostReleasePolicy does not document 404"
        " ($.paths['/api/v2/projects/{projectKey}/release-policies'].post.responses)"
    )
    assert out[-1] == "1 error, 0 warnings in 1 file"


def test_error_without_error_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(
        tmp_path,
        "    PayloadTooLarge:\n      description: The request body is larger than 1 MiB.\n"
        "      content:\n        application/json:\n          schema:\n"
        '            $ref: "#/components/schemas/Error"\n',
        "    PayloadTooLarge:\n      description: The request body is larger than 1 MiB.\n"
        "      content:\n        application/json:\n          schema:\n            type: object\n",
    )
    code, findings = run_json(path, capsys)
    assert code == 1
    assert {f["rule"] for f in findings} == {"error-responses"}
    assert len(findings) == 3  # create, update, order answer 413


def test_dangling_ref(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(
        tmp_path,
        '- $ref: "#/components/schemas/GuardedReleaseConfig"\n              unevaluatedProperties',
        '- $ref: "#/components/schemas/GuardedConfig"\n              unevaluatedProperties',
    )
    code, findings = run_json(path, capsys)
    assert code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [
        ("ref-resolves", line_of(path, "GuardedConfig"), 15)
    ]
    assert (
        findings[0]["path"]
        == "$.components.schemas.ReleasePolicy.properties.guardedReleaseConfig.anyOf[0]['$ref']"
    )


def test_external_ref_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, '$ref: "#/components/schemas/Error"', '$ref: "errors.yaml#/Error"')
    code, findings = run_json(path, capsys)
    assert code == 1
    assert "not a local reference" in str(findings[0]["message"])


def test_duplicate_operation_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(
        tmp_path,
        "    get:\n      operationId: GetReleasePolicy\n",
        "    get:\n      operationId: GetReleasePolicies\n",
    )
    code, findings = run_json(path, capsys)
    assert code == 1
    second = [
        n
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "operationId: GetReleasePolicies" in line
    ][1]
    unique = [f for f in findings if f["rule"] == "operation-id-unique"]
    assert [(f["line"], f["column"]) for f in unique] == [(second, 7)]
    assert "used already by GET /api/v2/projects/{projectKey}/release-policies" in str(unique[0]["message"])
    # ... and the create response's link to GetReleasePolicy now leads nowhere.
    assert {f["rule"] for f in findings} == {"operation-id-unique", "links-resolve"}


def test_link_to_unknown_operation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(
        tmp_path, "              operationId: GetReleasePolicy\n", "              operationId: GetPolicy\n"
    )
    code, findings = run_json(path, capsys)
    assert code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [
        ("links-resolve", line_of(path, "operationId: GetPolicy"), 15)
    ]


def test_link_with_unknown_parameter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(
        tmp_path,
        "                policyKey: $response.body#/key\n",
        "                key: $response.body#/key\n",
    )
    code, findings = run_json(path, capsys)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in findings] == [("links-resolve", line_of(path, "key: $response"))]
    assert "'key' is not a parameter of GetReleasePolicy" in str(findings[0]["message"])


def test_undeclared_path_parameter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, '      - $ref: "#/components/parameters/PolicyKey"\n', "")
    code, findings = run_json(path, capsys)
    assert code == 1
    declared = [f for f in findings if f["rule"] == "path-params-declared"]
    assert len(declared) == 3  # put, get, delete
    # The links from create pass policyKey, which those operations no longer declare.
    assert {f["rule"] for f in findings} == {"path-params-declared", "links-resolve"}


def test_openapi_structure_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(
        tmp_path, "      description: Release policy deleted successfully\n", "      description: 5\n"
    )
    code, findings = run_json(path, capsys)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in findings] == [("openapi-schema", line_of(path, "description: 5"))]


def test_not_openapi_31(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, "openapi: 3.1.0", "openapi: 3.0.3")
    code, findings = run_json(path, capsys)
    assert (code, [(f["rule"], f["line"], f["column"]) for f in findings]) == (1, [("openapi-schema", 1, 1)])


def test_duplicate_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, "  title: LaunchDarkly", "  title: Duplicate\n  title: LaunchDarkly")
    code, findings = run_json(path, capsys)
    assert code == 1
    assert ("duplicate-key", line_of(path, "  title: LaunchDarkly"), 3) in [
        (f["rule"], f["line"], f["column"]) for f in findings
    ]


def test_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, "    ResourceKey:\n", "    ResourceKey\n")
    code, findings = run_json(path, capsys)
    assert code == 1
    assert findings[0]["rule"] == "syntax"
    assert findings[0]["line"] == line_of(path, "    ResourceKey") + 1


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00", b"[1, 2]", b"a: [1,"])
def test_unusable_files_are_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_bytes(content)
    code, findings = run_json(path, capsys)
    assert code == 1
    assert len(findings) == 1


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "check", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_every_rule_is_described() -> None:
    assert {rule.info.id for rule in RULES} <= RULE_INFO.keys()
    assert all(info.summary and info.severity == "error" for info in RULE_INFO.values())


def test_without_the_spec_extra_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "openapi_spec_validator", None)  # import raises ImportError
    assert main(["spec", "check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "release-policy: spec check needs openapi-spec-validator, which is not installed:"
        " pip install 'release-policy-validator[spec]'\n"
    )


def test_every_reporter_is_a_spec_check_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = '        "404":\n          $ref: "#/components/responses/ProjectNotFound"\n'
    path = mutated(tmp_path, block, "")
    line = line_of(path, "      responses:")
    outputs = {}
    for name in REPORTERS:
        assert main(["spec", "check", "--format", name, str(path)]) == 1
        outputs[name] = capsys.readouterr().out
    (run,) = json.loads(outputs["sarif"])["runs"]
    (result,) = run["results"]
    assert (result["ruleId"], result["message"]["text"]) == (
        "error-responses",
        "PostReleasePolicy does not document 404",
    )
    assert run["tool"]["driver"]["version"] == __version__
    assert outputs["github"].startswith(
        f"::error file={path},line={line},col=7,title=release-policy [error-responses]"
        "::PostReleasePolicy does not document 404"
    )
