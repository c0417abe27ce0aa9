"""The README is the manual: these tests fail when a command, an option or a sources.yaml key is added
without being documented there (the idea of sqlite-utils' tests/test_docs.py)."""

from __future__ import annotations

import argparse
import re

import pytest

from pipeline.cli import build_parser
from tests.helpers import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
CONFIG_SOURCE = "\n".join(
    path.read_text(encoding="utf-8") for path in sorted((REPO_ROOT / "pipeline").glob("config*.py"))
)


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options() -> list[tuple[str, str]]:
    found = []
    for name, sub in _subcommands().items():
        for action in sub._actions:
            found += [
                (name, option) for option in action.option_strings if option.startswith("--") and option != "--help"
            ]
    return found


def _config_keys() -> set[str]:
    """Every key config.py reads: names in the allowed-key sets and in reader.get(..., "name", ...)."""
    keys: set[str] = set()
    for block in re.findall(r"\{([^{}]*)\}", CONFIG_SOURCE):
        names = re.findall(r'"([a-z_]+)"', block)
        if names and re.fullmatch(r'[\s"a-z_,|]*(#[^\n]*)?[\s"a-z_,]*', block):
            keys.update(names)
    keys.update(re.findall(r'get\([^()]*?,\s*"([a-z_]+)"', CONFIG_SOURCE))
    return keys


def test_the_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "python -m pip install -e . && python run.py sync" in first_block
    assert "python -m pip install -e '.[test]' && python -m pytest" in first_block


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_command_is_documented(command: str) -> None:
    assert f"### `{command}`" in README, f"README has no section for `run.py {command}`"
    assert f"python run.py {command}" in README


@pytest.mark.parametrize(("command", "option"), _options())
def test_every_option_is_documented(command: str, option: str) -> None:
    assert f"`{option}" in README, f"`run.py {command} {option}` is not documented in README.md"


def test_the_config_key_list_is_not_empty() -> None:
    assert {"site_url", "base_url", "request_delay", "article_paths", "min_words"} <= _config_keys()


@pytest.mark.parametrize("key", sorted(_config_keys()))
def test_every_config_key_is_documented(key: str) -> None:
    # In code formatting: `key`, `parent.key`, or inside a shape such as `{path, links}`.
    assert re.search(rf"`[^`\n]*\b{key}\b[^`\n]*`", README), f"sources.yaml key {key!r} is not documented in README.md"
