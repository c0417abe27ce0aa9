"""The documentation is checked against the program (the idea of sqlite-utils' tests/test_docs.py): a
command, an option or a sources.yaml key added without being documented fails here, and so does a
documented option the program does not have, a README grown past a short read, or a quick start whose
commands are not the real ones."""

from __future__ import annotations

import argparse
import re

import pytest

from pipeline.cli import build_parser
from tests.helpers import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS_DOC = (REPO_ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
CONFIG_DOC = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
DOCS = {path.name: path.read_text(encoding="utf-8") for path in sorted((REPO_ROOT / "docs").glob("*.md"))}
CONFIG_SOURCE = "\n".join(
    path.read_text(encoding="utf-8") for path in sorted((REPO_ROOT / "pipeline" / "config").glob("*.py"))
)
# An option as written in the docs: `--name` or `-v`, not the inside of a word such as `some-article`.
OPTION = re.compile(r"(?<![\w-])--?[a-z][a-z-]*")
RUN_PY = re.compile(r"(?<![\w/])(?:python )?run\.py ([a-z][\w-]*)([^\n`#|]*)")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings} - {"-h", "--help"}


def _common_options() -> set[str]:
    return set.intersection(*(_options(sub) for sub in _subcommands().values()))


def _top_level_options() -> set[str]:
    return _options(build_parser())


def _code(text: str) -> str:
    """The text of every code span and code block: where the docs name commands and options."""
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return "\n".join(blocks + spans)


def _sections(text: str) -> dict[str, str]:
    """The `## ` sections of a page by heading, with their `### ` subsections; the preamble under ''."""
    parts = re.split(r"^## (.*)\n", text, flags=re.M)
    return {"": parts[0]} | dict(zip(parts[1::2], parts[2::2], strict=True))


def _command_sections() -> dict[str, str]:
    return {
        heading.strip("`"): body
        for heading, body in _sections(COMMANDS_DOC).items()
        if re.fullmatch(r"`[a-z-]+`", heading)
    }


# --- docs/commands.md against the argument parser --------------------------------------------------------


def test_commands_doc_has_a_section_and_a_table_row_for_each_command_and_no_other() -> None:
    assert set(_command_sections()) == set(_subcommands())
    assert set(re.findall(r"^\| \[`([a-z-]+)`\]\(#", _sections(COMMANDS_DOC)[""], flags=re.M)) == set(_subcommands())


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_command_is_documented_with_an_example(command: str) -> None:
    assert f"python run.py {command}" in _command_sections()[command]


@pytest.mark.parametrize(
    ("command", "option"),
    sorted((name, option) for name, sub in _subcommands().items() for option in _options(sub)),
)
def test_every_option_is_documented(command: str, option: str) -> None:
    """Each command's own options in its section; those every command takes once, before the commands."""
    common = option in _common_options()
    where = _sections(COMMANDS_DOC)["Options every command takes"] if common else _command_sections()[command]
    assert option in OPTION.findall(_code(where)), f"`run.py {command} {option}` is not in docs/commands.md"


def test_the_top_level_options_are_documented() -> None:
    before_the_commands = _sections(COMMANDS_DOC)[""]
    assert _top_level_options() <= set(OPTION.findall(_code(before_the_commands)))


@pytest.mark.parametrize("heading", sorted(_sections(COMMANDS_DOC)))
def test_commands_doc_names_no_option_the_program_lacks(heading: str) -> None:
    """In a command's section its own options (or another's, written after its name: `sync --dry-run`)."""
    commands = _subcommands()
    parser = commands.get(heading.strip("`"))
    allowed = _options(parser) if parser else _common_options() | _top_level_options() | {"--help"}
    for code in _code(_sections(COMMANDS_DOC)[heading]).splitlines():
        named = re.match(rf"(?:python )?(?:run\.py )?({'|'.join(commands)})\b", code)
        options = _options(commands[named[1]]) if named else allowed
        assert set(OPTION.findall(code)) <= options, f"docs/commands.md, section {heading}: {code!r}"


@pytest.mark.parametrize("page", ["README.md", *DOCS])
def test_every_run_py_command_line_in_the_docs_is_real(page: str) -> None:
    """`python run.py X --opt` anywhere: X is a command and --opt one of its options."""
    text = README if page == "README.md" else DOCS[page]
    commands = _subcommands()
    for command, rest in RUN_PY.findall(_code(text)):
        assert command in commands, f"{page} runs `run.py {command}`, which is not a command"
        assert set(OPTION.findall(rest)) <= _options(commands[command]), f"{page}: `run.py {command}{rest}`"


# --- docs/configuration.md against config.py -------------------------------------------------------------


def _config_keys() -> set[str]:
    """Every key config.py reads: names in the allowed-key sets and in reader.get(..., "name", ...)."""
    keys: set[str] = set()
    for block in re.findall(r"\{([^{}]*)\}", CONFIG_SOURCE):
        names = re.findall(r'"([a-z_]+)"', block)
        if names and re.fullmatch(r'[\s"a-z_,|]*(#[^\n]*)?[\s"a-z_,]*', block):
            keys.update(names)
    keys.update(re.findall(r'get\([^()]*?,\s*"([a-z_]+)"', CONFIG_SOURCE))
    return keys


def test_the_config_key_list_is_not_empty() -> None:
    assert {"site_url", "base_url", "request_delay", "article_paths", "min_words"} <= _config_keys()


@pytest.mark.parametrize("key", sorted(_config_keys()))
def test_every_config_key_is_documented(key: str) -> None:
    # In code formatting: `key`, `parent.key`, or inside a shape such as `{path, links}`.
    assert re.search(rf"`[^`\n]*\b{key}\b[^`\n]*`", CONFIG_DOC), (
        f"sources.yaml key {key!r} not in docs/configuration.md"
    )


# --- the README: short, with a quick start that is the real one ------------------------------------------


def _readme_section(heading: str) -> str:
    return _sections(README)[heading]


def _shell_lines(text: str) -> list[str]:
    """The commands of the ```sh blocks, without their comments."""
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_is_a_five_minute_read() -> None:
    assert len(README.encode("utf-8")) < 15_000, "README.md is 15 KB or more: move reference text to docs/"


def test_benchmarks_md_keeps_the_method_and_the_figures_not_a_history() -> None:
    size = len((REPO_ROOT / "BENCHMARKS.md").read_bytes())
    assert size < 12_000, f"BENCHMARKS.md is {size} bytes: keep the method and current figures; history is in git"


def test_the_readme_lists_every_command_in_its_table() -> None:
    table = _readme_section("Commands")
    assert set(re.findall(r"^\| \[`python run\.py ([a-z-]+)`\]", table, flags=re.M)) == set(_subcommands())


def test_the_readme_links_only_to_files_that_exist() -> None:
    for target in re.findall(r"\]\(((?:docs/|BENCHMARKS)[^)#]*)", README):
        assert (REPO_ROOT / target).is_file(), f"README.md links to {target}, which does not exist"


def test_the_quick_start_installs_in_a_venv_and_runs_the_demo() -> None:
    """Debian 12 and Ubuntu have no `python` and refuse pip outside a venv: `python` only once activated."""
    lines = _shell_lines(_readme_section("Quick start"))
    venv = lines.index("python3 -m venv .venv && . .venv/bin/activate")
    assert lines[0] == "sudo apt update && sudo apt install python3 python3-venv git"
    assert all(not re.match(r"(python|pip) ", line) for line in lines[:venv]), "python before the venv exists"
    assert lines[venv + 1 :][:2] == ["python -m pip install -e .", "python run.py demo"]


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    (test_command,) = [line for line in _shell_lines(_readme_section("Quick start")) if "pytest" in line]
    assert test_command == "python -m pip install -e '.[test]' && python -m pytest -n auto"
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = ci.index("# The README's test command (tests/test_docs.py checks that it is the same):")
    assert ci[marker + 1] == test_command
