"""The command's front door: exit codes, usage errors, and no traceback ever."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from validator import __version__, speccheck
from validator.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"release-policy {__version__}"


@pytest.mark.parametrize("argv", [[], ["bogus"], ["spec"], ["spec", "check", "--format", "xml"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: release-policy" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "check", "--help"]) == 0
    assert "openapi-spec-validator" in capsys.readouterr().out


def test_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", "check", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("release-policy: ")


def test_unreadable_file_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def denied(*_args: object, **_kwargs: object) -> list[object]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(speccheck, "check_file", denied)
    assert main(["spec", "check"]) == 2
    assert capsys.readouterr().err.endswith("cannot read: Permission denied\n")


def test_internal_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(speccheck, "check_file", explode)
    assert main(["spec", "check"]) == 3
    captured = capsys.readouterr()
    assert captured.err == "release-policy: internal error: RuntimeError: boom\n"
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.slow
def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    script = shutil.which("release-policy", path=str(Path(sys.executable).parent))
    assert script is not None, "the package is installed with its console script"
    for command in ([script], [sys.executable, "-m", "validator"]):
        done = subprocess.run([*command, "spec", "check"], capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout.strip()) == (0, "no problems in 1 file"), done.stderr
        missing = subprocess.run(
            [*command, "spec", "check", str(tmp_path / "x.yaml")], capture_output=True, text=True, check=False
        )
        assert missing.returncode == 2
        assert "Traceback" not in missing.stderr
