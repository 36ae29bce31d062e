"""Reading files into text sections (page, heading path), or a reason a person understands.

Every reader returns plain text made of sections; a section never spans two pages, so each
passage cut from it knows its page. Problems raise SkipFile with the words the user sees.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

MB = 1024 * 1024
TEXT_LIMIT = 32 * MB  # a text file this large is a log or a dump, not a document to ask about
BINARY_LIMIT = 256 * MB  # PDFs and office files carry images; their text is far smaller

MARKDOWN = {".md", ".markdown"}
RST = {".rst"}
HTML = {".html", ".htm", ".xhtml"}
PLAIN = {".txt", ".text", ".log", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".toml",
         ".ini", ".cfg", ".conf", ".xml", ".tex", ".org", ".adoc"}
CODE = {".py", ".pyi", ".c", ".h", ".cc", ".cpp", ".hpp", ".cxx", ".java", ".kt", ".js", ".mjs",
        ".ts", ".tsx", ".jsx", ".go", ".rs", ".rb", ".php", ".cs", ".swift", ".m", ".scala", ".sh",
        ".bash", ".zsh", ".ps1", ".sql", ".r", ".lua", ".pl", ".hs", ".css", ".scss", ".vue",
        ".dart", ".el", ".clj", ".ex", ".exs", ".erl", ".jl", ".zig", ".nim", ".mk", ".cmake"}
OFFICE = {".docx", ".odt"}
PDF = {".pdf"}
SUPPORTED = MARKDOWN | RST | HTML | PLAIN | CODE | OFFICE | PDF
# Text files known by name alone, common in project folders and /usr/share/doc.
TEXT_NAMES = {"readme", "license", "licence", "copying", "notice", "authors", "changelog",
              "changes", "news", "install", "todo", "contributing", "thanks", "copyright",
              "makefile", "dockerfile"}


class SkipFile(Exception):
    """A file that cannot be indexed; str() is the reason shown to the user."""


@dataclass
class Section:
    text: str
    page: int | None = None  # 1-based, for paged formats
    heading: str = ""  # the heading path, "Chapter > Section"


@dataclass
class Document:
    sections: list[Section] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sections)


def is_supported(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in SUPPORTED or (not suffix and path.name.lower() in TEXT_NAMES)


def read_document(path: Path, size: int | None = None) -> Document:
    """The text of path in sections; raises SkipFile (with the reason) or OSError."""
    suffix = path.suffix.lower()
    problem = size_problem(path, path.stat().st_size if size is None else size)
    if problem:
        raise SkipFile(problem)
    reader = _READERS.get(suffix, _read_plain)
    document = reader(path)
    document.sections = [s for s in document.sections if s.text.strip()]
    if not document.sections:
        if suffix in PDF:
            raise SkipFile("no text found (scanned?); a PDF made of page images has no text "
                           "to search")
        raise SkipFile("no text in this file")
    return document


def size_problem(path: Path, size: int) -> str | None:
    """Why a file of this size is not read at all, or None."""
    if size == 0:
        return "empty file"
    limit = BINARY_LIMIT if path.suffix.lower() in PDF | OFFICE else TEXT_LIMIT
    if size > limit:
        return (f"too large to index ({_size(size)}; the limit for this kind of file is "
                f"{_size(limit)})")
    return None


# -- text files ----------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    """Text of a file: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252."""
    if b"\x00" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SkipFile("looks like a binary file, not text (its name says text)")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Most non-UTF-8 text on desktops is Windows-1252 / Latin-1; cp1252 leaves 5 bytes
        # undefined, which latin-1 then maps, so nothing is lost.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _read_text(path: Path) -> str:
    text = decode_text(path.read_bytes())
    control = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\t\n\r\f")
    if control > 40:
        raise SkipFile("looks like a binary file, not text (its name says text)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_plain(path: Path) -> Document:
    return Document([Section(_read_text(path))])


_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _read_markdown(path: Path) -> Document:
    return Document(split_headings(_read_text(path).split("\n"), _markdown_heading))


def _markdown_heading(lines: list[str], i: int, in_fence: list[bool]) -> tuple[int, str] | None:
    if _FENCE.match(lines[i]):
        in_fence[0] = not in_fence[0]
    if in_fence[0]:
        return None
    m = _ATX.match(lines[i])
    return (len(m.group(1)), m.group(2)) if m else None


_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")


def _read_rst(path: Path) -> Document:
    lines = _read_text(path).split("\n")
    levels: list[str] = []

    def heading(lines: list[str], i: int, state: list[bool]) -> tuple[int, str] | None:
        if i + 1 >= len(lines) or not lines[i].strip():
            return None
        m = _RST_UNDERLINE.match(lines[i + 1])
        if not m or len(lines[i + 1].rstrip()) < len(lines[i].rstrip()):
            return None
        char = m.group(1)
        if char not in levels:
            levels.append(char)
        return levels.index(char) + 1, lines[i].strip()

    return Document(split_headings(lines, heading))


HeadingFinder = Callable[[list[str], int, list[bool]], "tuple[int, str] | None"]


def split_headings(lines: list[str], find: HeadingFinder) -> list[Section]:
    """Cut lines into sections at headings, each knowing its heading path."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    current: list[str] = []
    state = [False]

    def close() -> None:
        if current:
            sections.append(Section("\n".join(current), heading=" > ".join(t for _, t in path)))
            current.clear()

    for i in range(len(lines)):
        found = find(lines, i, state)
        if found is not None:
            close()
            level, title = found
            path[:] = [p for p in path if p[0] < level] + [(level, title)]
        current.append(lines[i])
    close()
    return sections


# -- HTML ----------------------------------------------------------------------------------

class _HtmlText(HTMLParser):
    BLOCK = {"p", "div", "br", "li", "tr", "table", "section", "article", "pre", "blockquote",
             "dd", "dt", "ul", "ol", "header", "footer", "hr"}
    SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.path: list[tuple[int, str]] = []
        self.parts: list[str] = []
        self.heading: list[str] | None = None
        self.level = 0
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self._close()
            self.heading, self.level = [], int(tag[1])
        elif tag in self.BLOCK:
            self.parts.append("\n\n" if tag in ("p", "div", "section", "article") else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif self.heading is not None and len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            title = " ".join("".join(self.heading).split())
            self.heading = None
            if title:
                self.path = [p for p in self.path if p[0] < self.level] + [(self.level, title)]
                self.parts.append(title + "\n\n")
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        (self.heading if self.heading is not None else self.parts).append(data)

    def _close(self) -> None:
        text = re.sub(r"\n\s*\n\s*", "\n\n", re.sub(r"[ \t\f\v]+", " ", "".join(self.parts)))
        if text.strip():
            self.sections.append(Section(text.strip(), heading=" > ".join(t for _, t in self.path)))
        self.parts = []

    def result(self) -> list[Section]:
        self._close()
        return self.sections


def _read_html(path: Path) -> Document:
    parser = _HtmlText()
    parser.feed(_read_text(path))
    parser.close()
    return Document(parser.result())


# -- PDF -----------------------------------------------------------------------------------

# PDFium marks a word hyphenated at the end of a line with U+FFFE (or U+0002) in place of the
# hyphen and line break: "manip\ufffeulation". Joined again, the word can be found.
_LINE_END_HYPHEN = re.compile("[\ufffe\x02]\n?")
# Tables of contents' dot leaders (". . . . . 20"): noise to search and to the reader.
_DOT_LEADER = re.compile(r"(?:[ \t]?\.){5,}[ \t]?")


def clean_pdf_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _DOT_LEADER.sub(" … ", _LINE_END_HYPHEN.sub("", text))


def _read_pdf(path: Path) -> Document:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise SkipFile("the PDF is protected by a password") from None
        raise SkipFile(f"the PDF cannot be read; it may be damaged ({exc})") from None
    try:
        sections = []
        for number in range(len(pdf)):
            page = pdf[number]
            try:
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                textpage.close()
            finally:
                page.close()
            sections.append(Section(clean_pdf_text(text), page=number + 1))
        return Document(sections)
    except pdfium.PdfiumError as exc:
        raise SkipFile(f"the PDF cannot be read; it may be damaged ({exc})") from None
    finally:
        pdf.close()


# -- office files --------------------------------------------------------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def _zip_xml(path: Path, member: str) -> ElementTree.Element:
    try:
        with zipfile.ZipFile(path) as zf:
            data = zf.read(member)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise SkipFile(f"the file is damaged or not really a {path.suffix} document ({exc})") from None
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise SkipFile(f"the file is damaged ({exc})") from None


def _read_docx(path: Path) -> Document:
    root = _zip_xml(path, "word/document.xml")
    lines: list[str] = []
    levels: dict[int, int] = {}
    for para in root.iter(f"{W}p"):
        style = para.find(f"{W}pPr/{W}pStyle")
        name = (style.get(f"{W}val") or "") if style is not None else ""
        text = "".join(
            node.text or "" if node.tag == f"{W}t" else ("\t" if node.tag == f"{W}tab" else "\n")
            for node in para.iter() if node.tag in (f"{W}t", f"{W}tab", f"{W}br")
        )
        m = re.match(r"(?i)heading\s*(\d)|title", name)
        if m and text.strip():
            level = int(m.group(1)) if m.group(1) else 1
            levels[len(lines)] = level
        lines.append(text)
    return Document(split_headings(lines, lambda ls, i, s: (levels[i], ls[i].strip())
                                   if i in levels else None))


def _read_odt(path: Path) -> Document:
    root = _zip_xml(path, "content.xml")
    lines: list[str] = []
    levels: dict[int, int] = {}
    for node in root.iter():
        if node.tag in (f"{ODF_TEXT}h", f"{ODF_TEXT}p"):
            text = "".join(node.itertext())
            if node.tag == f"{ODF_TEXT}h":
                levels[len(lines)] = int(node.get(f"{ODF_TEXT}outline-level") or 1)
            lines.append(text)
    return Document(split_headings(lines, lambda ls, i, s: (levels[i], ls[i].strip())
                                   if i in levels else None))


_READERS: dict[str, Callable[[Path], Document]] = {
    **{s: _read_markdown for s in MARKDOWN},
    **{s: _read_rst for s in RST},
    **{s: _read_html for s in HTML},
    ".pdf": _read_pdf,
    ".docx": _read_docx,
    ".odt": _read_odt,
}


def _size(n: int) -> str:
    if n >= 1024 * MB:
        return f"{n / (1024 * MB):.1f} GB"
    if n >= MB:
        return f"{n / MB:.0f} MB"
    return f"{n / 1024:.0f} KB"
