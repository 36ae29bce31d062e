"""Small documents for the documents tests: PDFs with text on known pages, and bad files."""

from __future__ import annotations

import ctypes
import zipfile
from pathlib import Path


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A real PDF (written by PDFium) with one text line per page; '' makes a page with no
    text layer, like a scan."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument.new()
    font = raw.FPDFText_LoadStandardFont(pdf.raw, b"Helvetica")
    for text in pages:
        page = pdf.new_page(612, 792)
        if text:
            obj = raw.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", ctypes.c_float(12))
            data = (text + "\x00").encode("utf-16-le")
            buffer = (ctypes.c_ushort * (len(data) // 2)).from_buffer_copy(data)
            raw.FPDFText_SetText(obj, buffer)
            raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 50, 700)
            raw.FPDFPage_InsertObject(page.raw, obj)
            raw.FPDFPage_GenerateContent(page.raw)
        page.close()
    del font
    pdf.save(str(path))
    pdf.close()
    return path


def write_encrypted_pdf(path: Path) -> Path:
    """A PDF whose standard security handler wants a password the test does not know."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <" + b"6F" * 32 + b"> /U <" + b"55" * 32
        + b"> >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<0123456789ABCDEF0123456789ABCDEF>"
            b" <0123456789ABCDEF0123456789ABCDEF>] >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path, paragraphs: list[tuple[str, str]]) -> Path:
    """A minimal .docx: (style, text) paragraphs, style '' or 'Heading1'..."""
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(
        "<w:p>" + (f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else "")
        + f"<w:r><w:t>{text}</w:t></w:r></w:p>" for style, text in paragraphs)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml",
                    f'<?xml version="1.0"?><w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>')
    return path


def write_odt(path: Path, items: list[tuple[int, str]]) -> Path:
    """A minimal .odt: (heading level or 0 for a paragraph, text)."""
    ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    body = "".join(f'<text:h text:outline-level="{lvl}">{t}</text:h>' if lvl else f"<text:p>{t}</text:p>"
                   for lvl, t in items)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", f'<?xml version="1.0"?><office:document-content xmlns:office="{office}"'
                    f' xmlns:text="{ns}"><office:body><office:text>{body}</office:text></office:body>'
                    "</office:document-content>")
    return path
