"""`run.py demo`: the real sync, offline. The configuration's immigration.govt.nz source is pointed at the
captured pages replayed on 127.0.0.1 (pipeline/demo/replay.py), with its state and output in a demo folder of
its own, and synced by the same code as `run.py sync`: robots.txt, discovery, conditional requests,
extraction, the store and publication. The live site is never contacted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline.config import load_config, read_yaml
from pipeline.daemon.health import record_report
from pipeline.daemon.periods import schedule_periods
from pipeline.demo.replay import ReplaySite
from pipeline.errors import PanuiError
from pipeline.model import Config
from pipeline.reports import SyncReport
from pipeline.sync.run import run_sync

CAPTURED_HOST = "www.immigration.govt.nz"
MARK = "# Written by `python run.py demo`"
HEADER = (
    MARK
    + """ from {template}; rewritten on every demo run.
# The immigration.govt.nz source reads the captured pages replayed on 127.0.0.1 (the port is kept, as the
# store knows the articles by their URLs there), with no delay between requests; serve the result again
# with `python run.py serve --config {config}`.
"""
)


@dataclass(frozen=True)
class DemoRun:
    config: Config
    report: SyncReport
    replay_url: str
    answered: tuple[int, ...]  # the replay's status codes, one per request it answered

    @property
    def summary(self) -> str:
        count, fresh = len(self.answered), self.answered.count(304)
        return (
            f"demo: the copy of immigration.govt.nz at {self.replay_url} answered {count} request"
            f"{'s' if count != 1 else ''} ({fresh} with 304 Not Modified); nothing was sent anywhere else"
        )


@contextmanager
def sync_demo(template: Path, folder: Path, port: int) -> Iterator[DemoRun]:
    """Sync the demo folder's store from the replayed captures (its feeds link to 127.0.0.1:`port`); the
    replay answers until the block ends, so the archive's links to the originals work while it is served."""
    source = _captured_source(template)
    config_path = folder.resolve() / "sources.yaml"
    if not _ours(config_path):
        raise PanuiError(
            f"{config_path} is not a demo configuration: the demo writes its own there and will not replace it",
            "give `demo` a --dir of its own (the default is ./demo)",
        )
    # A proxy from the environment would not reach this machine's loopback: the replay is asked directly.
    skip = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
    os.environ["no_proxy"] = f"{skip},127.0.0.1" if skip else "127.0.0.1"
    with ReplaySite(_replay_port(config_path)) as replay:
        demo = {
            "site_url": f"http://127.0.0.1:{port}/",
            "output_dir": "output",
            "state_dir": "state",
            **{key: value for key, value in _read_yaml(template).items() if key in ("contact", "user_agent", "feeds")},
            "sources": [source | {"base_url": replay.url, "request_delay": 0}],
        }
        config_path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(demo, allow_unicode=True, sort_keys=False)
        config_path.write_text(HEADER.format(template=template, config=config_path) + text, encoding="utf-8")
        config = load_config(config_path)
        report = run_sync(config)
        record_report(config, report, schedule_periods(config), command="sync")
        yield DemoRun(config, report, replay.url, tuple(replay.answered))


def _captured_source(template: Path) -> dict[str, Any]:
    """The template's source for immigration.govt.nz, as written there (checked by loading the template)."""
    for index, source in enumerate(load_config(template).sources):
        if urlsplit(source.base_url).hostname == CAPTURED_HOST:
            return dict(_read_yaml(template)["sources"][index])
    raise PanuiError(
        f"{template} has no source for {CAPTURED_HOST}, whose captured pages the demo replays",
        "run the demo with the shipped sources.yaml (`--config` names it), or restore its inz source",
    )


def _ours(config_path: Path) -> bool:
    """True when `config_path` is free, or written by an earlier demo run."""
    try:
        with config_path.open(encoding="utf-8") as stream:
            return stream.read(len(MARK)) == MARK
    except FileNotFoundError:
        return True
    except (OSError, UnicodeDecodeError):
        return False


def _read_yaml(path: Path) -> dict[str, Any]:
    data = read_yaml(path)  # within the same bounds as any configuration
    if not isinstance(data, dict):
        raise PanuiError(f"{path} does not hold a YAML mapping", "restore it, or give `demo` another --dir")
    return data


def _replay_port(config_path: Path) -> int:
    """The port of the previous demo run's replay (its store knows the articles there), else 0 for any."""
    try:
        url = str(_read_yaml(config_path)["sources"][0]["base_url"])
        return urlsplit(url).port or 0
    except (PanuiError, LookupError, TypeError, ValueError):
        return 0
