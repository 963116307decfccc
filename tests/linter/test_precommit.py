"""pre-commit itself runs the hook (``pre-commit try-repo``) in a fresh git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.payloads import ROOT
from tests.support import REPOSITORY

# pre-commit builds the hook's environment with pip, from the package registry.
pytestmark = [pytest.mark.slow, pytest.mark.network]

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One isolated cache for the module: the hook's environment is built once, from this checkout.
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(workdir: Path, home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [*PRE_COMMIT, "try-repo", str(REPOSITORY), "release-policy-lint", "--verbose", "--files", *files],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "test@example.invalid")
    git(tmp_path, "config", "user.name", "test")
    policies = tmp_path / "policies"
    policies.mkdir()
    shutil.copy(ROOT / "valid" / "checkout-guarded.json", policies / "good.json")
    # Another key than good.json's: two files of one key in a directory are a project error of their own.
    bad = (ROOT / "invalid" / "unknown-field-nested.json").read_text(encoding="utf-8")
    (policies / "bad.json").write_text(
        bad.replace('"checkout-guarded"', '"checkout-typo"', 1), encoding="utf-8"
    )
    (policies / "notes.txt").write_text("not a policy", encoding="utf-8")
    git(tmp_path, "add", ".")
    return tmp_path


def test_hook_passes_a_good_file_and_fails_a_bad_one(workdir: Path, pre_commit_home: Path) -> None:
    good = try_repo(workdir, pre_commit_home, "policies/good.json", "policies/notes.txt")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "release-policy lint" in good.stdout
    assert "Passed" in good.stdout

    bad = try_repo(workdir, pre_commit_home, "policies/good.json", "policies/bad.json")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "policies/bad.json:" in bad.stdout
    assert "[unknown-field]" in bad.stdout
    assert "did you mean 'rollbackOnRegression'?" in bad.stdout


def snapshot(destination: Path) -> str:
    """A commit of this checkout's tracked files as they are now (what try-repo calls a shadow repo)."""
    git(destination.parent, "clone", "-q", str(REPOSITORY), destination.name)
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPOSITORY, check=True, capture_output=True, text=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = REPOSITORY / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination / name)
    git(destination, "add", "-A")
    git(
        destination,
        "-c",
        "user.email=t@example.invalid",
        "-c",
        "user.name=t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "snapshot",
    )
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=destination, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_hook_environment_is_light(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    source = tmp_path_factory.mktemp("source") / "repo"
    revision = snapshot(source)
    home = tmp_path_factory.mktemp("home")
    config = workdir / ".pre-commit-config.yaml"
    config.write_text(
        f"repos:\n- repo: {source}\n  rev: {revision}\n  hooks:\n  - id: release-policy-lint\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [*PRE_COMMIT, "run", "--config", str(config), "--files", "policies/good.json"],
        cwd=workdir,
        env={**os.environ, "PRE_COMMIT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    installed = {path.name.split("-")[0].lower() for path in home.rglob("site-packages/*.dist-info")}
    assert {"jsonschema", "pyyaml", "release_policy_validator"} <= installed
    assert not installed & {"starlette", "uvicorn", "schemathesis", "hypothesis", "launchdarkly_api"}


def test_hook_manifest() -> None:
    import yaml

    (hook,) = yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "release-policy-lint"
    assert (hook["language"], hook["types_or"], hook["minimum_pre_commit_version"]) == (
        "python",
        ["json", "yaml"],
        "2.9.0",
    )
    assert json.dumps(hook["entry"]) == '"release-policy lint"'


def test_hook_honours_the_configuration(workdir: Path, pre_commit_home: Path) -> None:
    (workdir / "pyproject.toml").write_text(
        '[tool.release-policy.lint.per-file."policies/bad.json"]\nignore = ["unknown-field"]\n',
        encoding="utf-8",
    )
    done = try_repo(workdir, pre_commit_home, "policies/good.json", "policies/bad.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_a_commit_adding_a_policy_and_updating_the_order_passes(
    tmp_path: Path, pre_commit_home: Path
) -> None:
    """As the README's hook sees it: only the new policy and order.json are passed, the rest stay unshown."""
    git(tmp_path, "init", "-q")
    policies = tmp_path / "release-policies"
    shutil.copytree(ROOT / "projects" / "order-mismatch", policies)
    (policies / "order.json").write_text('["checkout-guarded"]\n', encoding="utf-8")
    (policies / "progressive.json").unlink()
    git(tmp_path, "add", ".")
    shutil.copy(ROOT / "projects" / "order-mismatch" / "progressive.json", policies / "progressive.json")
    (policies / "order.json").write_text('["staging-progressive", "checkout-guarded"]\n', encoding="utf-8")
    git(tmp_path, "add", ".")
    changed = ("release-policies/progressive.json", "release-policies/order.json")
    done = try_repo(tmp_path, pre_commit_home, *changed)
    assert done.returncode == 0, done.stdout + done.stderr
    # The same commit forgetting the order is refused, naming the new policy.
    (policies / "order.json").write_text('["checkout-guarded"]\n', encoding="utf-8")
    refused = try_repo(tmp_path, pre_commit_home, *changed)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Missing policy key staging-progressive" in refused.stdout
