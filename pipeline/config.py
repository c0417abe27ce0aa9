"""sources.yaml -> Config. Every problem is collected with its key path, then reported at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline import PRODUCT, __version__
from pipeline.config_reader import Reader, check_http_url, check_positive, duration, parse_interval
from pipeline.config_sources import parse_sources
from pipeline.errors import ConfigError
from pipeline.model import Config, FeedSettings, HealthSettings

__all__ = ["load_config", "parse_config", "parse_interval"]


def load_config(path: Path) -> Config:
    """Read and validate `path`. Raises ConfigError naming every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path),
            [
                (
                    "(file)",
                    "not found",
                    "pass --config PATH, or run from the folder holding sources.yaml",
                )
            ],
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [("(file)", f"cannot be read: {error}", "")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(
            str(path), [("(file)", f"is not valid YAML: {error}", "check indentation and quoting")]
        ) from None
    return parse_config(data, path)


def parse_config(data: Any, path: Path) -> Config:
    reader = Reader()
    top_keys = {"site_url", "output_dir", "state_dir", "contact", "user_agent", "feeds", "sources", "websub_hub"}
    top_keys |= {"run_budget", "health", "warc"}
    top = reader.mapping(data, "", top_keys)
    folder = path.resolve().parent
    site_url = reader.get(top, "", "site_url", str, "http://localhost:8000/", check_http_url)
    websub_hub = reader.get(top, "", "websub_hub", str, None, check_http_url)
    warc = reader.get(top, "", "warc", bool, False)
    output_dir = folder / reader.get(top, "", "output_dir", str, "output")
    state_dir = folder / reader.get(top, "", "state_dir", str, "state")
    if state_dir.resolve().is_relative_to(output_dir.resolve()):
        reader.problem(
            "state_dir",
            f"{state_dir} is inside output_dir {output_dir}",
            "the store must never be published: put state_dir beside output_dir",
        )
    user_agent = _user_agent(reader, top)
    feeds = _feeds(
        reader,
        reader.mapping(top.get("feeds"), "feeds", {"title", "description", "max_items", "language"}),
    )
    sources = parse_sources(reader, top.get("sources"))
    run_budget = duration(reader, top, "run_budget", "30m")
    health = _health(reader, reader.mapping(top.get("health"), "health", {"public", "stale_after"}))
    if reader.problems:
        raise ConfigError(str(path), reader.problems)
    return Config(
        path=path,
        site_url=site_url if site_url.endswith("/") else site_url + "/",
        output_dir=output_dir,
        state_dir=state_dir,
        user_agent=user_agent,
        feeds=feeds,
        websub_hub=websub_hub,
        warc=warc,
        sources=tuple(sources),
        run_budget=run_budget,
        health=health,
    )


def _user_agent(reader: Reader, top: dict[str, Any]) -> str:
    contact = reader.get(top, "", "contact", str, "")
    explicit = reader.get(top, "", "user_agent", str, "")
    if explicit:
        if explicit.lower().startswith(("python-requests", "python-urllib")):
            reader.problem(
                "user_agent",
                "must not be a library's default",
                "name Pānui and your contact, or set contact instead",
            )
        return str(explicit)
    if not contact:
        reader.problem(
            "contact",
            "is required (or user_agent)",
            "an address the site's operators can reach you at, e.g. mailto:you@example.org",
        )
        return ""
    return f"{PRODUCT}/{__version__} (announcement feeds; +{contact})"


def _health(reader: Reader, data: dict[str, Any]) -> HealthSettings:
    return HealthSettings(
        public=reader.get(data, "health", "public", bool, False),
        stale_after=float(reader.get(data, "health", "stale_after", (int, float), 3, check_positive)),
    )


def _feeds(reader: Reader, data: dict[str, Any]) -> FeedSettings:
    return FeedSettings(
        title=reader.get(data, "feeds", "title", str, "Pānui"),
        description=reader.get(
            data,
            "feeds",
            "description",
            str,
            "Official announcements, republished with attribution.",
        ),
        max_items=reader.get(data, "feeds", "max_items", int, 50, check_positive),
        language=reader.get(data, "feeds", "language", str, "en-NZ"),
    )
