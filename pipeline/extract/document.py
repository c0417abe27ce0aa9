"""PDF documents (an amendment circular linked where articles live, a watched page served as PDF) ->
Article: their text, read by pypdf, one paragraph a line. Pure. The original bytes are kept by the store
as any raw page is, and published beside the article's archive page.

A PDF is told by its first bytes, or by its media type when those are not markup. One that cannot be
read (damaged, encrypted, or with no text layer: a scan) is a problem for that document alone."""

from __future__ import annotations

import io
import logging
from datetime import datetime, time
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from markupsafe import escape

from pipeline.bounds import date_problem, shorten
from pipeline.errors import ExtractError
from pipeline.extract.sanitise import clean_text
from pipeline.model import Article, Page, Source

MAX_PAGES = 1000  # pages read of one document: a bound on the time one file may cost
MAX_TEXT_CHARS = 2_000_000  # the text kept of one document (a PDF's streams are compressed: text can outgrow bytes)
PDF_HINT = "only this document is affected; open the original to read it"


def is_pdf(page: Page) -> bool:
    """A PDF by its first bytes (trusted over the header, which sites get wrong both ways), or by its
    media type when the body is not markup."""
    start = page.body[:1024].removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"%PDF-"):
        return True
    declared = page.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return declared == "application/pdf" and not start.startswith(b"<")


def paragraphs_html(lines: list[str]) -> str:
    """Text lines as paragraphs of escaped text: the body of a document or a watched page."""
    return "".join(f"<p>{escape(line)}</p>" for line in lines)


def extract_pdf(page: Page, source: Source, published: datetime | None = None) -> tuple[Article, list[str]]:
    """The document as an article, and notes on what was cut. Its title is the PDF's own (its metadata),
    else its first line; its date `published` when given (a watched page keeps the date it was first
    seen), else the document's creation date when that is a possible one, else the day it was fetched."""
    title, created, lines, notes = _read(page.body)
    if not lines:
        raise ExtractError("the PDF has no text layer (a scanned image?): nothing to publish", PDF_HINT)
    name = unquote(urlsplit(page.final_url).path.rstrip("/").rsplit("/", 1)[-1]) or page.final_url
    if published is None:
        if created is None or date_problem(created.date(), page.fetched_at) is not None:
            created = page.fetched_at
        zone = ZoneInfo(source.timezone)
        published = datetime.combine(created.astimezone(zone).date(), time(0, 0), tzinfo=zone)
    article = Article(
        url=page.final_url.split("#", 1)[0],
        title=clean_text(title) or shorten(lines[0], 200) or clean_text(name),
        published=published,
        news_type=None,
        topics=(),
        summary="",
        body_html=paragraphs_html(lines),
    )
    return article, notes


def _read(body: bytes) -> tuple[str, datetime | None, list[str], list[str]]:
    """(title, creation date, text lines, notes) of the PDF in `body`; ExtractError when it cannot be read."""
    from pypdf import PdfReader  # imported when a PDF is read, not by every run

    # pypdf quiets nothing: a damaged file logs a warning per object it repairs, for the operator's log.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted:
            raise ExtractError("the PDF is encrypted: its text cannot be read", PDF_HINT)
        metadata = reader.metadata
        title = str(metadata.title or "") if metadata is not None else ""
        created = _created(metadata)
        lines: list[str] = []
        notes: list[str] = []
        size = 0
        for index, pdf_page in enumerate(reader.pages):
            if index >= MAX_PAGES:
                notes.append(f"read the first {MAX_PAGES} pages of the document")
                break
            for line in (pdf_page.extract_text() or "").splitlines():
                text = clean_text(line)
                if text:
                    lines.append(text)
                    size += len(text)
            if size > MAX_TEXT_CHARS:
                notes.append(f"kept the text of the first {index + 1} pages ({MAX_TEXT_CHARS} characters)")
                break
    except ExtractError:
        raise
    except Exception as error:  # pypdf raises many kinds on a damaged file (its own, ValueError, KeyError...)
        raise ExtractError(f"the PDF cannot be read: {type(error).__name__}: {error}", PDF_HINT) from None
    return title, created, lines, notes


def _created(metadata: object) -> datetime | None:
    try:
        value = getattr(metadata, "creation_date", None)  # pypdf parses D:20260301120000+13'00'
    except Exception:  # a malformed date is no date, not a broken document
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo("UTC"))
