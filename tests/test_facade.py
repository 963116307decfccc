"""``validator.lint`` and ``validator.lint_bytes``: the package's front door for library users."""

from __future__ import annotations

from pathlib import Path

import pytest

import validator

VALID = Path(__file__).parent / "payloads" / "valid" / "minimal.yaml"


@pytest.mark.parametrize("one_path", [str(VALID), VALID])
def test_one_path_instead_of_a_list_is_a_clear_type_error(one_path: str | Path) -> None:
    """Not a lint of each character of the string ("t: no such file")."""
    with pytest.raises(TypeError, match=r"^lint\(\) takes a list of paths, not one path$"):
        validator.lint(one_path)  # type: ignore[arg-type]  # the mistake under test


def test_a_list_of_one_path_lints_it() -> None:
    result = validator.lint([VALID])
    assert (result.files_checked, result.findings) == (1, ())


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'lnt'"):
        validator.lnt  # noqa: B018  # the attribute access is the test
