"""A tiny PDF writer for the tests: a real text PDF (one page per list of lines, Helvetica, a correct
cross-reference table, an optional /Title), so that no binary file need be committed. pypdf reads it as
it reads any PDF."""

from __future__ import annotations


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(
    pages: list[list[str]], *, title: str | None = None, created: str | None = None, encrypted: bool = False
) -> bytes:
    """A PDF of `pages` (each a list of lines). `created`: a PDF date ("D:20260301120000+13'00'").
    `encrypted`: the trailer names a (standard, RC4) encryption dictionary, as a protected PDF's does."""
    page_ids = [4 + 2 * index for index in range(len(pages))]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] /Count {len(pages)} >>".encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    for page_id, lines in zip(page_ids, pages, strict=True):
        shown = "".join(f"({_escaped(line)}) Tj T* " for line in lines)
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown}ET".encode("cp1252")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_id + 1} 0 R >>"
        ).encode()
        objects[page_id + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    info_id = max(objects) + 1
    info = []
    if title is not None:
        info.append(f"/Title ({_escaped(title)})")
    if created is not None:
        info.append(f"/CreationDate ({created})")
    objects[info_id] = f"<< {' '.join(info)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (info_id + 1)
    for number in range(1, info_id + 1):
        out += b"%010d 00000 n \n" % offsets[number]
    encryption = b" /Encrypt << /Filter /Standard /V 1 /R 2 /O (x) /U (x) /P -4 >> /ID [(a) (a)]" if encrypted else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        info_id + 1,
        info_id,
        encryption,
        xref,
    )
    return bytes(out)
