"""What a newcomer meets in the first hour: a fresh clone cannot go live by accident (a placeholder contact
reaches no host but this machine), and the reports say plainly what happened."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config, parse_config, require_real_contact
from pipeline.errors import ConfigError, PanuiError
from pipeline.model import Config
from tests.fixture_site import PAGE_CAPTURES, FixtureSite, capture_path
from tests.helpers import REPO_ROOT, MakeConfig, run_cli

SHIPPED = load_config(REPO_ROOT / "sources.yaml")
PLACEHOLDER = "mailto:operator@example.org"  # the shipped contact
LIVE = "http://news.invalid/"  # not loopback, and never resolvable: a broken guard still reaches nothing


def config_with(contact: str, base_url: str, *, hub: str | None = None) -> Config:
    source = dataclasses.replace(SHIPPED.sources[0], base_url=base_url)
    return dataclasses.replace(SHIPPED, contact=contact, sources=(source,), websub_hub=hub)


@pytest.mark.parametrize(
    "contact",
    [PLACEHOLDER, "https://www.example.com/contact", "mailto:me@ops.example.net", "ops@panui.test", ""],
)
def test_a_placeholder_or_blank_contact_reaches_no_host_but_this_machine(contact: str) -> None:
    config = config_with(contact, LIVE)
    with pytest.raises(PanuiError) as refused:
        require_real_contact(config, config.sources)
    assert "news.invalid" in refused.value.message and "Before you go live" in refused.value.hint


def test_a_placeholder_contact_does_not_ping_a_remote_websub_hub() -> None:
    config = config_with(PLACEHOLDER, "http://127.0.0.1:8080/", hub="https://hub.invalid/")
    with pytest.raises(PanuiError, match=r"hub\.invalid"):
        require_real_contact(config, config.sources)


@pytest.mark.parametrize(
    ("contact", "base_url"),
    [
        (PLACEHOLDER, "http://127.0.0.1:8080/"),
        (PLACEHOLDER, "http://127.0.0.2/"),
        (PLACEHOLDER, "http://localhost:8080/"),
        (PLACEHOLDER, "http://[::1]:8080/"),
        ("mailto:ops@panui.nz", LIVE),
        ("https://notexample.org/contact", LIVE),
    ],
)
def test_loopback_hosts_and_real_contacts_are_accepted(contact: str, base_url: str) -> None:
    config = config_with(contact, base_url)
    require_real_contact(config, config.sources)


def test_a_blank_contact_is_a_configuration_error(tmp_path: Path) -> None:
    data = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8")) | {"contact": "   "}
    with pytest.raises(ConfigError, match=r"contact: is required"):
        parse_config(data, tmp_path / "sources.yaml")


@pytest.mark.parametrize(("agent", "refused"), [("NewsBot/1.0 (+mailto:me@example.com)", True), ("NewsBot/1.0", False)])
def test_a_user_agent_that_replaces_contact_must_not_be_a_placeholder(
    tmp_path: Path, agent: str, refused: bool
) -> None:
    data = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    del data["contact"]
    data["user_agent"] = agent
    data["sources"][0]["base_url"] = LIVE
    config = parse_config(data, tmp_path / "sources.yaml")
    if refused:
        with pytest.raises(PanuiError, match="is a placeholder"):
            require_real_contact(config, config.sources)
    else:
        require_real_contact(config, config.sources)


def live_config(tmp_path: Path) -> Path:
    data = yaml.safe_load((REPO_ROOT / "sources.yaml").read_text("utf-8"))
    data["sources"][0]["base_url"] = LIVE
    data["state_dir"], data["output_dir"] = str(tmp_path / "state"), str(tmp_path / "output")
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.mark.e2e
@pytest.mark.parametrize("command", [["sync"], ["sync", "--dry-run"], ["check"], ["daemon"]])
def test_sync_check_and_daemon_refuse_a_live_host_with_the_shipped_placeholder(
    tmp_path: Path, command: list[str]
) -> None:
    result = run_cli(*command, "--config", str(live_config(tmp_path)), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"error: contact in {tmp_path / 'sources.yaml'} is a placeholder ({PLACEHOLDER})" in result.stderr
    assert "news.invalid" in result.stderr and "hint: before you go live" in result.stderr
    assert not (tmp_path / "state").exists() and not (tmp_path / "output").exists()


def test_a_sync_that_has_never_published_says_so(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    site.set_home_links([])
    site.set_sitemap_paths([])
    result = run_cli("sync", "--config", str(make_config(site, tmp_path)), timeout=60)
    assert "published: nothing yet: no article has been stored" in result.stdout, result.stdout
    assert "nothing changed" not in result.stdout


def test_a_url_that_is_not_an_article_is_named_with_the_reason(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    url = site.base_url.rstrip("/") + capture_path(PAGE_CAPTURES[1])  # the copyright page, a ContentPage
    result = run_cli("sync", "--config", str(make_config(site, tmp_path)), "--url", url, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^inz: .*, 1 skipped, 0 problems", result.stdout, re.M), result.stdout
    assert f"note: skipped, page type 'ContentPage' is not one of ['NewsAnnouncementPage']: {url}" in result.stdout


@pytest.mark.e2e
def test_a_fresh_clone_cannot_sync_the_live_site(tmp_path: Path) -> None:
    """The shipped sources.yaml as it is. Every request would go to a proxy where nothing listens, so
    even a broken guard could not reach immigration.govt.nz."""
    shutil.copy(REPO_ROOT / "sources.yaml", tmp_path / "sources.yaml")
    dead_proxy = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    result = run_cli("sync", cwd=tmp_path, env=dead_proxy, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Pānui will not send requests to www.immigration.govt.nz" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sources.yaml"]
