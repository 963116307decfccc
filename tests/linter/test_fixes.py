"""Safe fixes: through ``main(argv)`` (--fix, --diff), byte for byte, and over the whole payload corpus."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import pytest

from tests.payloads import ROOT, Payload, payloads
from validator.cli import main
from validator.linter import Kind, lint_bytes
from validator.linter.config import LintConfig
from validator.linter.fixing import fix_bytes
from validator.linter.registry import RULES

FIXABLE = {rule.info.id for rule in RULES if rule.fix is not None}
RULES_ON = LintConfig().rules()


@pytest.mark.parametrize("payload", payloads(), ids=lambda p: p.name)
def test_fixing_the_corpus(payload: Payload) -> None:
    raw = payload.path.read_bytes()
    kind = cast(Kind, payload.kind)
    fixed, applied = fix_bytes(raw, payload.name, kind, RULES_ON)
    assert fix_bytes(fixed, payload.name, kind, RULES_ON) == (fixed, ())  # twice changes nothing
    before = [f for f in lint_bytes(raw, payload.name, kind) if f.rule in FIXABLE]
    after = [f for f in lint_bytes(fixed, payload.name, kind) if f.rule in FIXABLE]
    # Every fix removes its finding and makes no new one of a fixable rule.
    assert len(after) == len(before) - len(applied)
    assert {(f.rule, f.path) for f in after} <= {(f.rule, f.path) for f in before}


EXPECTED_FIXES = {
    "invalid/unknown-field-typo.yaml": ("unknown-field",),
    "invalid/update-with-key.json": ("unknown-field",),
    "invalid/metric-keys-duplicate.json": ("contract",),
    "invalid/scope-duplicate-environment.json": ("contract",),
    "invalid/order-duplicates.json": ("contract",),
}


def test_which_corpus_files_fix() -> None:
    fixed = {}
    for payload in payloads():
        _, applied = fix_bytes(payload.path.read_bytes(), payload.name, cast(Kind, payload.kind), RULES_ON)
        if applied:
            fixed[payload.name] = applied
    assert fixed == EXPECTED_FIXES


def test_rename_keeps_everything_else_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (ROOT / "invalid" / "unknown-field-typo.yaml").read_bytes()
    crlf = b"\xef\xbb\xbf" + source.replace(b"\n", b"\r\n")  # a BOM and Windows line endings
    path = tmp_path / "typo.yaml"
    path.write_bytes(crlf)
    assert main(["lint", "--isolated", "--fix", str(path)]) == 0
    assert capsys.readouterr().out == f"fixed {path}: 1 unknown-field\nno problems in 1 file\n"
    assert path.read_bytes() == crlf.replace(b"rollbackOnRegresion:", b"rollbackOnRegression:")


def test_diff_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "order.json"
    path.write_text('[\n  "a",\n  "b",\n  "a"\n]\n', encoding="utf-8")
    assert main(["lint", "--isolated", "--diff", str(path)]) == 1
    assert capsys.readouterr().out == (
        f'--- {path}\n+++ {path}\n@@ -1,5 +1,4 @@\n [\n   "a",\n-  "b",\n-  "a"\n+  "b"\n ]\n'
    )
    assert path.read_text(encoding="utf-8") == '[\n  "a",\n  "b",\n  "a"\n]\n'
    assert main(["lint", "--isolated", "--fix", str(path)]) == 0
    capsys.readouterr()
    assert main(["lint", "--isolated", "--diff", str(path)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("- a\n- b\n- a  # again\n", "- a\n- b\n- a  # again\n"),  # a comment would be lost: no fix
        ("- a\n- b\n- a\n", "- a\n- b\n"),
        ("[a, b, a]\n", "[a, b]\n"),
        ("key: k\nname: n\nreleaseMethod: guarded-release\n", "name: n\nreleaseMethod: guarded-release\n"),
        (
            '{"name": "n", "releaseMethod": "guarded-release", "key": "k"}',
            '{"name": "n", "releaseMethod": "guarded-release"}',
        ),
    ],
)
def test_yaml_and_json_shapes(text: str, fixed: str) -> None:
    name = "body.json" if text.startswith("{") else "body.yaml"
    kind = "order" if "- " in text or text.startswith("[") else "update"
    assert fix_bytes(text.encode(), name, kind, RULES_ON)[0].decode() == fixed  # type: ignore[arg-type]


def test_no_rename_when_the_target_exists_or_is_ambiguous() -> None:
    body = b'{"key": "k", "name": "n", "releaseMethod": "guarded-release", "nam": "x", "name2": 1}'
    assert fix_bytes(body, "b.json", "create", RULES_ON) == (body, ())


def test_a_suppressed_or_disabled_finding_is_not_fixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "order.yaml"
    path.write_text("- a\n- a  # release-policy: ignore[contract]\n", encoding="utf-8")
    assert main(["lint", "--isolated", "--diff", str(path)]) == 0
    shutil.copy(ROOT / "invalid" / "order-duplicates.json", tmp_path / "o.json")
    assert main(["lint", "--isolated", "--ignore", "contract", "--diff", str(tmp_path / "o.json")]) == 0
    assert capsys.readouterr().out == ""
