"""sources.yaml -> Config. Every problem is collected with its key path, then reported at once."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline import PRODUCT, __version__
from pipeline.config.reader import Reader, between, check_http_url, check_one_line
from pipeline.config.selectors import recall_checked, record_checked
from pipeline.config.sources import parse_sources
from pipeline.config.subscriptions import parse_notify
from pipeline.errors import ConfigError, PanuiError
from pipeline.model import Config, FeedSettings, HealthSettings, Source

__all__ = ["load_config", "parse_config", "record_checked", "require_real_contact"]
# An address at a domain reserved for examples (RFC 2606, RFC 6761): mailto:you@example.org and the like.
PLACEHOLDER_ADDRESS = re.compile(
    r"(?:^|[^\w.-])(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.(?:example|invalid|test|localhost))(?![\w-])",
    re.IGNORECASE,
)


MAX_CONFIG_BYTES = 256 * 1024  # 60 times the shipped file; more is not a sources.yaml (e.g. /dev/zero)
MAX_VALUES = 10_000  # values (mappings, lists, scalars), each alias counted as all it stands for: 70 × shipped
MAX_DEPTH = 20  # levels of nesting written out: the deepest key is 6 levels down
FIX_PATH = "check that --config names your sources.yaml"


class _Refused(Exception):
    def __init__(self, message: str, event: yaml.Event | yaml.Node, hint: str = FIX_PATH) -> None:
        super().__init__(f"line {event.start_mark.line + 1}: {message}" if event.start_mark else message)
        self.hint = hint


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing a file too deep, or with too many values once its aliases are
    expanded, before a value is built. Aliases are counted, not refused: tools that write YAML (PyYAML's
    own dump among them) write one wherever two keys share a value; but one alias can stand for billions
    of values ("billion laughs") that any later walk over the config, or a message quoting it, expands."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.values = 0  # so far, aliases expanded
        self.depth = 0
        self.sizes: dict[int, int] = {}  # id(node) -> the values it stands for, once composed

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # (untyped in types-PyYAML)
        if self.depth >= MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event)
        before, self.depth = self.values, self.depth + 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(event, yaml.AliasEvent):
            if id(node) not in self.sizes:
                raise _Refused(f"the alias *{event.anchor} is inside its own anchor", event, "write the value out")
            self.values += self.sizes[id(node)]
        else:
            self.values += 1
            self.sizes[id(node)] = self.values - before
        if self.values > MAX_VALUES:
            raise _Refused(f"more than {MAX_VALUES} values (aliases expanded): this is not a sources.yaml", event)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        # YAML keeps the last of two equal keys, so the first (a schedule written twice) would be ignored
        # without a word. (Keys a `<<` merge brings in may be overridden: that is what a merge is for.)
        written: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in written:
                    raise _Refused(f"the key {key.value!r} is written twice in one mapping", key, "keep one of them")
                written.add(key.value)
        return super().construct_mapping(node, deep)


def load_config(path: Path) -> Config:
    """Read and validate `path`. Raises ConfigError naming every problem found."""
    return parse_config(read_yaml(path), path)


def read_yaml(path: Path) -> Any:
    """The file's YAML, read within bounds (size; values, aliases expanded; depth), or ConfigError."""

    def refused(message: str, hint: str = FIX_PATH) -> ConfigError:
        return ConfigError(str(path), [("(file)", message, hint)])

    try:
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise refused("not found", "pass --config PATH, or run from the folder holding sources.yaml") from None
    except OSError as error:
        raise refused(f"cannot be read: {error}", "") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise refused(f"is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        return yaml.load(data.decode("utf-8"), Loader=_BoundedLoader)  # (a SafeLoader: no Python objects)
    except UnicodeDecodeError as error:
        raise refused(f"is not UTF-8 text: {error}") from None
    except _Refused as error:
        raise refused(str(error), error.hint) from None
    except (yaml.YAMLError, ValueError, OverflowError) as error:  # (an int of 5,000 digits, a 13th month)
        raise refused(f"is not valid YAML: {error}", "check indentation and quoting") from None


def parse_config(data: Any, path: Path) -> Config:
    reader = Reader()
    top_keys = {"site_url", "output_dir", "state_dir", "contact", "user_agent", "feeds", "sources", "websub_hub"}
    top_keys |= {"run_budget", "health", "warc", "subscriptions", "digest_at", "notify_give_up_after"}
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
    recall_checked(state_dir)  # before the sources' selectors are checked
    user_agent, contact = _user_agent(reader, top)
    feeds = _feeds(reader, top.get("feeds"))
    sources = parse_sources(reader, top.get("sources"))
    run_budget = reader.duration(top, "", "run_budget", "30m", at_most="24h")
    health = _health(reader, top.get("health"))
    # A subscription may name a disabled source (it matches nothing until the source is enabled again).
    configured = {str(item["id"]) for item in top.get("sources") or [] if isinstance(item, dict) and "id" in item}
    notify = parse_notify(reader, top, configured, os.environ)
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
        disabled_sources=tuple(sorted(configured - {source.id for source in sources})),
        run_budget=run_budget,
        health=health,
        contact=contact,
        notify=notify,
    )


def require_real_contact(config: Config, sources: Sequence[Source]) -> None:
    """Refuse to contact any host but this machine's own while `contact` is missing or a placeholder, so a
    fresh clone cannot go live by accident (the demo and the tests' fixture sites are on loopback)."""
    urls = [source.base_url for source in sources] + ([config.websub_hub] if config.websub_hub else [])
    remote = sorted({host for url in urls if not _is_loopback(host := urlsplit(url).hostname or "")})
    who = config.contact.strip()
    if not remote or (who and not PLACEHOLDER_ADDRESS.search(who)):
        return
    raise PanuiError(
        f"contact in {config.path} is {f'a placeholder ({who})' if who else 'empty'}: "
        f"Pānui will not send requests to {', '.join(remote)} without a way for its operators to reach you",
        "before you go live, get the site's permission and put your real address in contact "
        "(README: 'Before you go live'); `python run.py demo` shows the pipeline offline meanwhile",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _user_agent(reader: Reader, top: dict[str, Any]) -> tuple[str, str]:
    """The User-Agent, and how a site's operators reach whoever runs Pānui: contact, or the user_agent
    that replaces it."""
    contact = str(reader.get(top, "", "contact", str, "", check_one_line)).strip()
    explicit = reader.get(top, "", "user_agent", str, "", check_one_line)
    if explicit:
        if explicit.lower().startswith(("python-requests", "python-urllib")):
            reader.problem(
                "user_agent",
                "must not be a library's default",
                "name Pānui and your contact, or set contact instead",
            )
        return str(explicit), contact or str(explicit)
    if not contact:
        reader.problem(
            "contact",
            "is required (or user_agent)",
            "an address the site's operators can reach you at, e.g. mailto:you@example.org",
        )
        return "", ""
    return f"{PRODUCT}/{__version__} (announcement feeds; +{contact})", contact


def _health(reader: Reader, value: Any) -> HealthSettings:
    data = reader.mapping(value, "health", {"public", "stale_after"})
    return HealthSettings(
        public=reader.get(data, "health", "public", bool, False),
        stale_after=float(reader.get(data, "health", "stale_after", (int, float), 3, between(0, 1000, above=True))),
    )


def _feeds(reader: Reader, value: Any) -> FeedSettings:
    data = reader.mapping(value, "feeds", {"title", "description", "max_items", "language"})
    return FeedSettings(
        title=reader.get(data, "feeds", "title", str, "Pānui"),
        description=reader.get(
            data,
            "feeds",
            "description",
            str,
            "Official announcements, republished with attribution.",
        ),
        max_items=reader.get(data, "feeds", "max_items", int, 50, between(1, 10_000)),
        language=reader.get(data, "feeds", "language", str, "en-NZ"),
    )
