"""The one command (`python -m pytest`) also runs the format, lint and type checks, so developers and
CI run exactly the same checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

CHECKS = {
    "format": [sys.executable, "-m", "ruff", "format", "--check", "pipeline", "tests", "benchmarks", "docs", "run.py"],
    "lint": [sys.executable, "-m", "ruff", "check", "pipeline", "tests", "benchmarks", "docs", "run.py"],
    "types": [sys.executable, "-m", "mypy"],
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_code_passes(name: str) -> None:
    result = subprocess.run(CHECKS[name], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} check failed:\n{result.stdout}\n{result.stderr}"
