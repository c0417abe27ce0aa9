"""Optional WARC capture: with `warc: true`, every response a run fetches is also written to a WARC
file in state_dir/warc/, so the evidence can be replayed by standard web-archive tools (warcio)."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from pipeline import __version__
from pipeline.model import Page

# requests hands Pānui the decoded body, so the stored record describes that body, not the transfer.
TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class WarcRecorder:
    def __init__(self, folder: Path, started_at: datetime) -> None:
        from warcio.warcwriter import WARCWriter  # only a run with `warc: true` loads warcio

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"panui-{started_at:%Y%m%dT%H%M%SZ}.warc.gz"
        self._stream: BinaryIO = self.path.open("ab")
        self._writer = WARCWriter(self._stream, gzip=True)
        info = {"software": f"Pānui {__version__}", "format": "WARC File Format 1.1"}
        self._writer.write_record(self._writer.create_warcinfo_record(self.path.name, info))

    def record(self, page: Page) -> None:
        from http.client import responses  # (`status` opens the store, and needs no HTTP)

        from warcio.statusandheaders import StatusAndHeaders

        headers = [(name, value) for name, value in page.headers.items() if name.lower() not in TRANSFER_HEADERS]
        headers.append(("Content-Length", str(len(page.body))))
        record = self._writer.create_warc_record(
            page.final_url,
            "response",
            payload=BytesIO(page.body),
            http_headers=StatusAndHeaders(
                f"{page.status} {responses.get(page.status, 'Unknown')}", headers, protocol="HTTP/1.1"
            ),
            warc_headers_dict={"WARC-Date": page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        self._writer.write_record(record)

    def close(self) -> None:
        self._stream.close()
