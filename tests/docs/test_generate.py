"""``release-policy docs``: the reference generated from the spec, pinned, and refused for a broken spec."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import REPOSITORY
from validator import spec
from validator.cli import main
from validator.docs import DocsError, write_docs
from validator.linter import RULES

GOLDEN = Path(__file__).parent / "golden" / "reference.md"


def test_reference_md_matches_the_golden_copy(tmp_path: Path) -> None:
    written = write_docs(tmp_path).reference_md.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_GOLDEN") == "1":  # after a deliberate change: UPDATE_GOLDEN=1 scripts/test
        GOLDEN.write_text(written, encoding="utf-8")
    assert written == GOLDEN.read_text(encoding="utf-8")


def test_every_operation_lint_rule_and_state_rule_is_documented(tmp_path: Path) -> None:
    paths = write_docs(tmp_path)
    page = paths.index_html.read_text(encoding="utf-8")
    markdown = paths.reference_md.read_text(encoding="utf-8")
    for operation_id in spec.bundled().operations:
        assert f'<section id="{operation_id}">' in page
        assert f'href="#{operation_id}"' in page
        assert f"## {operation_id}\n" in markdown
    for rule in RULES:
        assert f"<code>{rule.info.id}</code>" in page
        assert f"| `{rule.info.id}` | {rule.info.severity} |" in markdown
    assert "thousandths of a percent" in page
    assert "<strong>default policy</strong>" in page
    assert "**" not in page
    assert "the default policy (no scope, or a null one) has rank 0" in markdown
    assert "Missing policy key" not in page  # messages are the server's; the docs state the rule
    assert "order takes exactly the scoped keys, each once, and ranks them 1..n." in page


def test_examples_shown_are_the_specs_own(tmp_path: Path) -> None:
    markdown = write_docs(tmp_path).reference_md.read_text(encoding="utf-8")
    assert '"metricRegressionThreshold": 0.05' in markdown
    assert '"_id": "550e8400-e29b-41d4-a716-446655440000"' in markdown
    assert (
        "curl -X POST 'https://app.launchdarkly.com/api/v2/projects/default/release-policies/order'"
        in markdown
    )


def test_page_is_self_contained(tmp_path: Path) -> None:
    page = write_docs(tmp_path).index_html.read_text(encoding="utf-8")
    for fetching in ("<link", "<script src", "<img", "@import", "url("):
        assert fetching not in page
    assert '<meta name="viewport"' in page
    assert "@media print" in page


def test_broken_example_stops_the_build_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        spec.bundled_path()
        .read_text(encoding="utf-8")
        .replace("                  key: production-release\n", "                  key: order\n", 1)
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "key: order" in row)
    with pytest.raises(DocsError, match=rf"broken.yaml:{line}:19: \[example-valid\]"):
        write_docs(tmp_path / "out", broken)
    assert not (tmp_path / "out").exists()
    assert main(["docs", "--out", str(tmp_path / "out"), "--spec", str(broken)]) == 1
    assert f"broken.yaml:{line}:19: [example-valid]" in capsys.readouterr().err


def test_cli_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "--out", str(tmp_path / "site")]) == 0
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["index.html", "reference.md"]
    assert main(["docs", "--spec", str(tmp_path / "missing.yaml")]) == 2


def test_scripts_docs_exists() -> None:
    assert os.access(REPOSITORY / "scripts" / "docs", os.X_OK)
