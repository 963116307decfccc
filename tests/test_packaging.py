"""The wheel carries the spec, so an installed copy (a pre-commit environment, say) needs no repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import REPOSITORY


def test_wheel_ships_the_spec(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(tmp_path), str(REPOSITORY)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("release_policy_validator-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("validator/release-policies.yaml")
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    assert shipped == (REPOSITORY / "spec" / "release-policies.yaml").read_bytes()
    assert "validator/py.typed" in names
    assert "release-policy = validator.cli:main" in scripts
