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
    # The layers and the store's front door, as pyproject.toml's [tool.importlinter] contracts say.
    "imports": [sys.executable, "-c", "import sys, importlinter.cli as c; sys.exit(c.lint_imports())"],
}
LONGEST_MODULE = 350  # lines: a module longer than this holds two concerns, and is split along them


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_code_passes(name: str) -> None:
    result = subprocess.run(CHECKS[name], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} check failed:\n{result.stdout}\n{result.stderr}"


def test_no_module_is_longer_than_one_concern() -> None:
    lengths = {path: len(path.read_text("utf-8").splitlines()) for path in (REPO_ROOT / "pipeline").rglob("*.py")}
    too_long = {str(path.relative_to(REPO_ROOT)): n for path, n in lengths.items() if n > LONGEST_MODULE}
    assert not too_long, f"split these along their concerns: {too_long}"


def test_nothing_reads_outside_the_repository() -> None:
    """A fresh clone with nothing beside it must pass: no code names a path above the repository's root
    (CI proves it too, by running the tests in a clone in an empty folder)."""
    sibling = "shared"  # spelled apart, so that this test does not name what it forbids
    outside = (f"../{sibling}", f"/work/{sibling}", f"/work/{'main'}", f"inz-{'captures'}")
    for folder in ("pipeline", "tests", "benchmarks", ".ci", "docs"):
        for path in sorted((REPO_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".sh", ".md", "") and path.is_file() and "captures" not in path.parts:
                text = path.read_text("utf-8", errors="replace")
                found = [mark for mark in outside if mark in text]
                assert not found, f"{path.relative_to(REPO_ROOT)} names {found}: keep what it reads in the repository"
