"""Optional WARC capture (issue 6): with `warc: true` every response a sync fetches is also kept in a
WARC file per run in state_dir/warc/, readable by standard web-archive tools (here: warcio)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tests.fixture_site import ARTICLE_PATHS, OLD_PATHWAY_PATH, PATHWAY_PATH, FixtureSite
from tests.helpers import MakeConfig, run_cli


@dataclass(frozen=True)
class Record:
    kind: str
    uri: str | None
    status: int | None
    headers: dict[str, str]
    payload: bytes
    date: str | None
    digests_pass: bool | None  # the WARC-Block/Payload-Digest headers match the bytes (None: no digest)


def read_records(warc_file: Path) -> list[Record]:
    records = []
    with warc_file.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests=True):
            http = record.http_headers
            payload = record.content_stream().read()  # read first: the digests are checked as it is read
            records.append(
                Record(
                    kind=record.rec_type,
                    uri=record.rec_headers.get_header("WARC-Target-URI"),
                    status=int(http.get_statuscode()) if http is not None else None,
                    headers={name.lower(): value for name, value in http.headers} if http is not None else {},
                    payload=payload,
                    date=record.rec_headers.get_header("WARC-Date"),
                    digests_pass=record.digest_checker.passed,
                )
            )
    return records


def sync(config: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("sync", "--config", str(config), timeout=60)


def test_a_sync_with_warc_keeps_every_response_in_one_warc_file(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, warc=True, source={"retries": 0, "backoff": 0})

    result = sync(config)

    assert result.returncode == 0, result.stdout + result.stderr
    files = list((tmp_path / "state" / "warc").iterdir())
    assert len(files) == 1
    assert files[0].name.startswith("panui-")
    assert files[0].name.endswith(".warc.gz")
    records = read_records(files[0])
    assert records[0].kind == "warcinfo"
    assert all(record.digests_pass is not False for record in records)
    responses = [record for record in records if record.kind == "response"]
    assert all(record.digests_pass for record in responses)
    requested = [site.base_url.rstrip("/") + request.path for request in site.requests]
    assert [record.uri for record in responses] == requested  # one record per response, in order
    by_uri = {record.uri: record for record in responses}
    for path in ["/robots.txt", "/", "/sitemap.xml", *ARTICLE_PATHS]:
        record = by_uri[site.base_url.rstrip("/") + path]
        route = site.route(path)
        assert route is not None
        assert record.status == 200, path
        assert record.payload == route.body, path
        assert record.headers["content-length"] == str(len(route.body))
        assert record.date is not None
    assert by_uri[site.base_url.rstrip("/") + "/"].headers["content-type"].startswith("text/html")
    redirect = by_uri[site.base_url.rstrip("/") + OLD_PATHWAY_PATH]
    assert redirect.status == 301
    assert redirect.headers["location"] == PATHWAY_PATH


def test_each_run_adds_its_own_warcinfo_and_records_304_answers(
    site: FixtureSite, tmp_path: Path, make_config: MakeConfig
) -> None:
    config = make_config(site, tmp_path, warc=True, source={"retries": 0, "backoff": 0})
    assert sync(config).returncode == 0
    site.clear_requests()

    result = sync(config)

    assert result.returncode == 0, result.stdout + result.stderr
    # One file per run (two runs started within the same second share a name and append to it).
    records = [record for path in sorted((tmp_path / "state" / "warc").iterdir()) for record in read_records(path)]
    assert [record.kind for record in records].count("warcinfo") == 2
    second_run = records[[index for index, record in enumerate(records) if record.kind == "warcinfo"][1] + 1 :]
    assert [record.uri for record in second_run] == [site.base_url.rstrip("/") + r.path for r in site.requests]
    assert any(record.status == 304 and record.payload == b"" for record in second_run)


def test_without_warc_no_warc_folder_is_made(site: FixtureSite, tmp_path: Path, make_config: MakeConfig) -> None:
    config = make_config(site, tmp_path, source={"retries": 0, "backoff": 0})

    result = sync(config)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "state").is_dir()
    assert not (tmp_path / "state" / "warc").exists()
