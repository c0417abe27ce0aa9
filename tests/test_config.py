"""sources.yaml: the shipped file loads, defaults are right, and every problem is reported at once with
its key path and a hint, so a user fixes their file in one go."""

from __future__ import annotations

import copy
import math
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline import PRODUCT, __version__
from pipeline.config import load_config
from pipeline.errors import ConfigError, PanuiError
from pipeline.sync.run import select_sources
from tests.helpers import REPO_ROOT, run_cli

SHIPPED = REPO_ROOT / "sources.yaml"


def shipped_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SHIPPED.read_text("utf-8"))
    return data


def minimal_data() -> dict[str, Any]:
    """The smallest valid config: a contact and one source with only its required keys."""
    inz = shipped_data()["sources"][0]
    return {
        "contact": "mailto:ops@example.org",
        "sources": [
            {
                "id": "inz",
                "name": "Immigration New Zealand",
                "base_url": "https://www.immigration.govt.nz/",
                "discovery": {"sitemap": "/sitemap.xml"},
                "extraction": {key: inz["extraction"][key] for key in ("title", "published", "body")},
                "licence": inz["licence"],
                "attribution": inz["attribution"],
            }
        ],
    }


def write(folder: Path, data: dict[str, Any] | str, name: str = "sources.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, "utf-8")
    return path


def problems_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_the_shipped_config_loads() -> None:
    config = load_config(SHIPPED)
    (inz,) = config.sources
    assert inz.id == "inz"
    assert inz.base_url == "https://www.immigration.govt.nz/"
    assert inz.host == "www.immigration.govt.nz"
    assert inz.request_delay == 5
    assert inz.timezone == "Pacific/Auckland"
    assert inz.licence.name == "CC BY 3.0 NZ"
    assert inz.licence.url == "https://creativecommons.org/licenses/by/3.0/nz/"
    assert "/_search/" in inz.discovery.never_fetch
    assert inz.extraction is not None and inz.extraction.page_type is not None
    assert inz.extraction.page_type.accept == ("NewsAnnouncementPage",)
    assert inz.discovery.article_paths.search("/about-us/news-centre/some-article/")
    assert not inz.discovery.article_paths.search("/about-us/news-centre/")
    assert config.output_dir == REPO_ROOT / "output"
    assert config.state_dir == REPO_ROOT / "state"


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "conf"
    path = write(folder, minimal_data())
    monkeypatch.chdir(tmp_path)  # paths resolve against the file's folder, not the working directory
    config = load_config(Path("conf/sources.yaml"))
    assert config.site_url == "http://localhost:8000/"
    assert config.output_dir == path.parent.resolve() / "output"
    assert config.state_dir == path.parent.resolve() / "state"
    (source,) = config.sources
    assert source.request_delay == 5
    assert source.timezone == "Pacific/Auckland"
    assert source.timeout > 0 and source.retries >= 0 and source.max_bytes > 0
    assert source.discovery.never_fetch == ()
    assert source.extraction is not None and source.extraction.published_format == "%d %B %Y"


def test_relative_output_and_state_dirs_resolve_against_the_config_folder(tmp_path: Path) -> None:
    data = minimal_data() | {"output_dir": "public/feeds", "state_dir": "../private-state"}
    path = write(tmp_path / "site", data)
    config = load_config(path)
    assert config.output_dir.resolve() == (tmp_path / "site" / "public" / "feeds").resolve()
    assert config.state_dir.resolve() == (tmp_path / "private-state").resolve()


def test_site_url_gets_a_trailing_slash(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal_data() | {"site_url": "https://feeds.example.org/panui"}))
    assert config.site_url == "https://feeds.example.org/panui/"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = shipped_data()
    data["output_dir"] = "public"
    data["state_dir"] = "public/state"  # inside output_dir: would be published
    data["out_dir"] = "x"  # unknown, close to output_dir
    source = data["sources"][0]
    source["request_dealy"] = 5  # typo
    source["timeout"] = "thirty"  # wrong type
    del source["name"]  # missing required key
    source["base_url"] = "ftp://www.immigration.govt.nz/"
    source["timezone"] = "Pacific/Atlantis"
    source["extraction"]["title"] = "h1.hero__title > > span["
    source["extraction"]["published_format"] = "%d %Q %Y"  # a directive strptime lacks
    source["discovery"]["article_paths"] = "^/about-us/(news-centre"
    source["schedule"] = {"interval": "every now and then"}
    second = copy.deepcopy(shipped_data()["sources"][0])  # same id again
    data["sources"].insert(1, second)  # (the shipped examples follow it)
    error = problems_of(write(tmp_path, data))
    message = error.message
    keys = {key for key, _, _ in error.problems}
    expected = {
        "state_dir",
        "out_dir",
        "sources[0].request_dealy",
        "sources[0].timeout",
        "sources[0].name",
        "sources[0].base_url",
        "sources[0].timezone",
        "sources[0].extraction.title",
        "sources[0].extraction.published_format",
        "sources[0].discovery.article_paths",
        "sources[0].schedule.interval",
        "sources[1].id",
    }
    assert expected <= keys, expected - keys
    for key in expected:
        assert key in message
    assert "did you mean 'output_dir'?" in message
    assert "did you mean 'request_delay'?" in message
    assert "must be int or float, not str ('thirty')" in message
    assert "is required" in message
    assert "http(s)" in message
    assert "Pacific/Atlantis" in message and "time zone" in message
    assert "CSS selector" in message
    assert "%Q is not a directive" in message
    assert "regular expression" in message
    assert "every now and then" in message
    assert "duplicate source id 'inz'" in message
    assert "inside output_dir" in message
    assert f"{len(error.problems)} problems" in message
    assert error.hint and "docs/configuration.md" in error.hint


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"sitemap_url": "/sitemap.xml"}, "sources[0].sitemap_url", "allowed:"),
        ({"request_delay": -1}, "sources[0].request_delay", "0 or more"),
        ({"request_delay": True}, "sources[0].request_delay", "not bool"),
        ({"retries": 1.5}, "sources[0].retries", "must be int"),
        ({"id": "INZ News"}, "sources[0].id", "slug"),
        (
            {"discovery": {"never_fetch": ["/_search/"]}},
            "sources[0].discovery",
            "at least one listing, a sitemap or a feed",
        ),
        ({"schedule": {"interval": "15m", "cron": "0 * * * *"}}, "sources[0].schedule", "both interval and cron"),
        ({"schedule": {"cron": "every hour"}}, "sources[0].schedule.cron", "5-field crontab"),
        ({"licence": {"name": "CC BY", "url": "creativecommons.org"}}, "sources[0].licence.url", "http(s)"),
    ],
)
def test_single_source_mistakes(tmp_path: Path, change: dict[str, Any], key: str, words: str) -> None:
    data = minimal_data()
    data["sources"][0] |= change
    error = problems_of(write(tmp_path, data))
    assert any(k == key and (words in m or words in h) for k, m, h in error.problems), error.message


def test_bad_selectors_in_lists_and_listings_are_named(tmp_path: Path) -> None:
    data = shipped_data()
    data["sources"][0]["extraction"]["body_exclude"] = ["p.ok", "div[", 3]
    data["sources"][0]["discovery"]["listings"][0]["links"] = "a:nth-child("
    error = problems_of(write(tmp_path, data))
    keys = {key for key, _, _ in error.problems}
    assert {
        "sources[0].extraction.body_exclude[1]",
        "sources[0].extraction.body_exclude[2]",
        "sources[0].discovery.listings[0].links",
    } <= keys


def test_empty_or_missing_sources(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, {"contact": "mailto:ops@example.org", "sources": []}))
    assert [key for key, _, _ in error.problems] == ["sources"]
    error = problems_of(write(tmp_path, {"contact": "mailto:ops@example.org"}))
    assert [key for key, _, _ in error.problems] == ["sources"]


def test_default_user_agent_names_panui_its_version_and_the_contact(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal_data()))
    assert PRODUCT in config.user_agent
    assert __version__ in config.user_agent
    assert "mailto:ops@example.org" in config.user_agent
    assert not config.user_agent.lower().startswith("python")


def test_explicit_user_agent_is_used(tmp_path: Path) -> None:
    data = minimal_data() | {"user_agent": "Panui/0.1 (+https://ops.example.org/)"}
    assert load_config(write(tmp_path, data)).user_agent == "Panui/0.1 (+https://ops.example.org/)"


@pytest.mark.parametrize("agent", ["python-requests/2", "python-requests/2.31.0", "Python-urllib/3.11"])
def test_library_default_user_agent_is_rejected(tmp_path: Path, agent: str) -> None:
    error = problems_of(write(tmp_path, minimal_data() | {"user_agent": agent}))
    assert [key for key, _, _ in error.problems] == ["user_agent"]
    assert "library's default" in error.message


def test_no_contact_and_no_user_agent_is_rejected(tmp_path: Path) -> None:
    data = minimal_data()
    del data["contact"]
    error = problems_of(write(tmp_path, data))
    assert [key for key, _, _ in error.problems] == ["contact"]
    assert "user_agent" in error.message  # says the alternative too


def test_invalid_yaml(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, "sources:\n  - id: inz\n   name: [unclosed\n"))
    assert "not valid YAML" in error.message
    assert error.problems[0][0] == "(file)"


def test_a_key_written_twice_is_refused_where_yaml_would_keep_the_last(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal_data(), sort_keys=False) + "contact: mailto:other@example.org\n"
    error = problems_of(write(tmp_path, text))
    assert error.problems[0][0] == "(file)"
    assert "the key 'contact' is written twice" in error.message and "keep one of them" in error.message
    # A merge (`<<`) may be overridden: that is what it is for.
    merged = "base: &defaults {interval: 5m}\n" + yaml.safe_dump(minimal_data(), sort_keys=False)
    merged = merged.replace("  base_url:", "  schedule: {<<: *defaults, interval: 10m}\n  base_url:", 1)
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, merged))
    assert [key for key, _, _ in caught.value.problems] == ["base"]  # (an unknown top key, not a twice-written one)


def test_a_disabled_source_named_on_the_command_line_is_said_to_be_disabled(tmp_path: Path) -> None:
    data = minimal_data()
    data["sources"].append(dict(data["sources"][0], id="pages", enabled=False))
    config = load_config(write(tmp_path, data))

    with pytest.raises(PanuiError) as disabled:
        select_sources(config, ["pages"], [])
    with pytest.raises(PanuiError) as unknown:
        select_sources(config, ["pagse"], [])

    assert (disabled.value.message, disabled.value.hint) == (
        f"source 'pages' is disabled in {config.path}",
        "set enabled: true on it to run it",
    )
    assert unknown.value.hint == f"sources in {config.path}: inz; disabled: pages"


def test_a_time_zone_that_is_a_folder_of_zones_is_a_config_error(tmp_path: Path) -> None:
    data = minimal_data()
    data["sources"][0]["timezone"] = "Pacific"  # (ZoneInfo raises IsADirectoryError for it)
    error = problems_of(write(tmp_path, data))
    assert [key for key, _, _ in error.problems] == ["sources[0].timezone"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    error = problems_of(write(tmp_path, "- just\n- a list\n"))
    assert "(top level)" in error.message and "mapping" in error.message


def test_missing_file(tmp_path: Path) -> None:
    error = problems_of(tmp_path / "nowhere" / "sources.yaml")
    assert "not found" in error.message
    assert "--config" in error.message
    assert str(tmp_path / "nowhere" / "sources.yaml") in error.message
    assert error.hint == ""  # its own hint says what to do: there are no keys to fix


# -- values that would pass and crash a later run -----------------------------------------------------


@pytest.mark.parametrize(
    ("where", "value", "words"),
    [
        ("sources.0.request_delay", math.inf, "must be a finite number, not inf"),
        ("sources.0.timeout", math.nan, "must be a finite number, not nan"),
        ("sources.0.request_delay", 3600, "0 or more and at most 600, not 3600"),
        ("sources.0.backoff", 10**400, "at most 600"),
        ("sources.0.retries", 10**30, "0 or more and at most 10"),
        ("sources.0.max_bytes", 10**12, "at most 100000000"),
        ("sources.0.schedule.interval", math.inf, "cannot read inf as an interval"),
        ("sources.0.schedule.jitter", math.nan, "finite number"),
        ("sources.0.removal_grace", "99999999999999999999d", "as a duration"),
        ("sources.0.revisit", [{"every": 10**400}], "as a duration"),
        ("sources.0.expect.max_future_days", -math.inf, "finite number"),
        ("sources.0.expect.min_links", 10**19, "at most 1000000"),
        ("run_budget", math.inf, "finite number"),
        ("run_budget", 10**400, "as a duration up to 24h"),
        ("run_budget", "2d", "as a duration up to 24h"),
        ("feeds.max_items", 2**63, "at most 10000"),
        ("health.stale_after", math.inf, "finite number"),
        ("sources.0.name", "Immigration\x00NZ", "control characters (U+0000 at character 12)"),
        ("feeds.title", "\x1b[31mPānui", "control characters (U+001B at character 1)"),
        ("feeds.description", "half a \ud800 pair", "control characters (U+D800"),
        ("sources.0.discovery.never_fetch", ["/ok/", "/admin\x7f"], "control characters (U+007F"),
        ("contact", "mailto:ops@example.org\nX-Forged: 1", "must be one line of text"),
        ("user_agent", "Panui/1 (+mailto:ops@example.org)\r\nX-Forged: 1", "control characters (U+000D"),
        ("sources.0.base_url", "https://www.immigration.govt.nz/\t", "absolute http(s) URL"),
    ],
    ids=lambda value: repr(value)[:24],
)
def test_numbers_out_of_range_and_text_with_control_characters_are_named(
    tmp_path: Path, where: str, value: Any, words: str
) -> None:
    """Each would pass and crash a later run: a sleep or a timedelta overflowing, an SQL LIMIT too
    large, a header forged or refused, a feed that is not XML. The problem names the key."""
    data = minimal_data()
    *path, last = where.split(".")
    target: Any = data
    for part in path:
        target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
    target[last] = value
    error = problems_of(write(tmp_path, data))
    key = re.sub(r"\.(\d+)", r"[\1]", where)
    assert any(k.startswith(key) and words in m for k, m, _ in error.problems), error.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"contact: mailto:ops@example.org\nsources: {'9' * 5000}\n", "not valid YAML: Exceeds the limit"),
        ("contact: mailto:ops@example.org\nsince: 2026-13-45\n", "not valid YAML: month must be in 1..12"),
        ("sources: " + "[" * 100_000 + "]" * 100_000 + "\n", "line 1: nested more than 20 levels deep"),
        (  # "billion laughs": ten aliases of ten aliases..., 10**10 values from a few hundred bytes
            "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}' if n else 'lol'] * 10)}]\n" for n in range(10))
            + "sources: *l9\n",
            "more than 10000 values (aliases expanded): this is not a sources.yaml",
        ),
        ("sources: &loop [*loop]\n", "line 1: the alias *loop is inside its own anchor"),
        ("contact: x\n" + "# padding\n" * 30_000, "is larger than 256 KiB"),
    ],
    ids=["int-of-5000-digits", "13th-month", "nested-100000-deep", "billion-laughs", "recursive-alias", "300-KB"],
)
def test_a_file_that_would_exhaust_memory_or_crash_the_reader_is_refused(tmp_path: Path, text: str, words: str) -> None:
    tracemalloc.start()
    try:
        error = problems_of(write(tmp_path, text))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [key for key, _, _ in error.problems] == ["(file)"]
    assert words in error.message
    assert peak < 20_000_000  # bytes: never the structure the file describes


def test_a_config_whose_values_are_shared_by_aliases_still_loads(tmp_path: Path) -> None:
    """PyYAML's own dump writes an alias wherever two keys share one value: aliases are counted, not refused."""
    data = minimal_data()
    second = dict(data["sources"][0], id="second", base_url="https://second.example.org/")
    data["sources"].append(second)  # its extraction and licence are the first source's own objects
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    assert "*id00" in text
    config = load_config(write(tmp_path, text))
    assert config.sources[1].extraction == config.sources[0].extraction


@pytest.mark.e2e
def test_a_config_that_is_a_device_stops_the_run_before_anything_is_touched(tmp_path: Path) -> None:
    """`--config /dev/zero` used to read until memory ran out."""
    result = run_cli("sync", "--config", "/dev/zero", cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "/dev/zero: 1 problem in the configuration:\n  (file): is larger than 256 KiB" in result.stderr
    assert "hint: check that --config names your sources.yaml" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no state, no output


def test_an_invalid_source_id_is_one_problem_that_asks_for_a_slug(tmp_path: Path) -> None:
    data = minimal_data()
    data["sources"][0]["id"] = "INZ news"
    problems = problems_of(write(tmp_path, data)).problems
    assert problems == [("sources[0].id", "must be a slug (lower-case letters, digits and '-'), not 'INZ news'", "")]
