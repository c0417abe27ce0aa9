"""Shared fixtures: a local stand-in for immigration.govt.nz and a config aimed at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
