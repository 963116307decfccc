"""Fixtures shared by every test module."""

from __future__ import annotations

import pytest

from validator import spec as spec_module


@pytest.fixture(scope="session")
def spec() -> spec_module.Spec:
    return spec_module.bundled()
