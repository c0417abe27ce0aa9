"""Shared fixtures: a local stand-in for immigration.govt.nz and a config aimed at it; and the two lanes:
a test that starts a process or a server is marked `e2e`, and the fast lane (`-m "not e2e"`) is the rest."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import settings

from tests.fixture_site import FixtureSite
from tests.helpers import MakeConfig, write_config

REPO_ROOT = Path(__file__).resolve().parents[1]

# In CI the property tests run a fixed set of examples, so a green main stays green; on a developer's
# machine they explore new random examples each run (and keep any failure in .hypothesis/).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    """A started fixture site (it stops by itself after 300 s, the pytest timeout)."""
    fixture_site = FixtureSite(max_lifetime=300).start()
    try:
        yield fixture_site
    finally:
        fixture_site.stop()


@pytest.fixture
def make_config() -> MakeConfig:
    """``make_config(site, tmp_path, **overrides) -> Path`` of a written sources.yaml."""
    return write_config


E2E = "e2e"
E2E_FIXTURES = {"site"}  # a test that asks for one of these is e2e without saying so


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{E2E}: starts a process (run.py, the daemon, newsboat, Chromium, nginx, a checker) or a server; "
        'the fast lane, -m "not e2e", leaves these out',
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(E2E)


def _refused(what: str) -> Callable[..., NoReturn]:
    def refuse(*_: Any, **__: Any) -> NoReturn:
        raise AssertionError(
            f"this test {what}, so it belongs to the e2e lane: mark it @pytest.mark.e2e "
            "(or the module with pytestmark = pytest.mark.e2e)"
        )

    return refuse


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """A test not marked e2e may start no process and no server (its fixtures neither): so the fast lane
    stays fast, and an e2e test that lands unmarked fails at once, in either lane."""
    if item.get_closest_marker(E2E) is not None:
        return (yield)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "_execute_child", _refused("starts a process"))
        patch.setattr(socket.socket, "listen", _refused("starts a server"))
        return (yield)
