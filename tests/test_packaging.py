"""The wheel carries the spec, so an installed copy (a pre-commit environment, say) needs no repository.

The repository has one spec file, ``spec/release-policies.yaml`` (no symlink, which a Windows checkout
would turn into a one-line text file); the build copies it into the package.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from tests.support import REPOSITORY

SPEC = REPOSITORY / "spec" / "release-policies.yaml"


def build(*command: str, cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of the committed tree: what a user, pip or pre-commit gets."""
    if not (REPOSITORY / ".git").exists():
        pytest.skip("not a git checkout")
    target = tmp_path_factory.mktemp("clone") / "repo"
    build("git", "clone", "--quiet", "--no-hardlinks", str(REPOSITORY), str(target), cwd=REPOSITORY)
    return target


@pytest.fixture(scope="module")
def wheel(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    build(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "-w", str(out), str(clone), cwd=clone)  # fmt: skip
    (built,) = out.glob("release_policy_validator-*.whl")
    return zipfile.ZipFile(built)


def test_the_checkout_holds_no_symlink(clone: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=clone, check=True, capture_output=True, text=True)
    assert [line for line in listed.stdout.splitlines() if line.startswith("120000")] == []
    assert not (clone / "validator" / "release-policies.yaml").exists()  # one file people edit


@pytest.mark.slow
def test_wheel_from_a_fresh_clone_ships_the_spec(wheel: zipfile.ZipFile) -> None:
    assert wheel.read("validator/release-policies.yaml") == SPEC.read_bytes()
    names = set(wheel.namelist())
    assert "validator/py.typed" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "release-policy = validator.cli:main" in wheel.read(entry_points).decode()


@pytest.mark.slow
def test_the_lint_path_installs_no_spec_validator(wheel: zipfile.ZipFile) -> None:
    """openapi-spec-validator (and pydantic with it) only with the spec extra, which [all] includes."""
    metadata_name = next(name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    metadata = HeaderParser().parsestr(wheel.read(metadata_name).decode())
    requires = metadata.get_all("Requires-Dist") or []
    spec_validator = {r for r in requires if r.startswith("openapi-spec-validator")}
    # hatchling spells [all]'s reference to [spec] out as the requirement itself
    assert spec_validator == {
        f"openapi-spec-validator<1,>=0.7; extra == '{extra}'" for extra in ("spec", "all")
    }


@pytest.mark.slow
def test_an_installed_wheel_finds_its_spec(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """Outside the checkout, the package reads the copy inside it."""
    wheel.extractall(tmp_path)
    found = subprocess.run(
        [sys.executable, "-c", "from validator import spec; print(spec.bundled_path())"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == str(tmp_path / "validator" / "release-policies.yaml")
