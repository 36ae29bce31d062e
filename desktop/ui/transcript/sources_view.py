"""The sources under an answer from documents: file, page, the passage with the question's
words marked; clicking one opens the file (at its page where the viewer understands that)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.ui.transcript.labels import TextLabel

FileOpener = Callable[[str, int | None], bool]


def open_in_viewer(path: str, page: int | None) -> bool:
    """The system's viewer for the file; PDF viewers that read '#page=N' jump to the page."""
    url = QUrl.fromLocalFile(path)
    if page and path.lower().endswith(".pdf"):
        url.setFragment(f"page={page}")
    return QDesktopServices.openUrl(url)


def where(source: dict[str, Any]) -> str:
    text = Path(str(source.get("path", ""))).name
    if source.get("page"):
        text += f", page {source['page']}"
    if source.get("heading"):
        text += f" · {source['heading']}"
    return text


def marked_html(snippet: str, highlights: list[list[int]] | list[tuple[int, int]]) -> str:
    """The snippet as HTML with the question's words in bold, escaped everywhere else."""
    out, at = [], 0
    for start, end in sorted((int(s), int(e)) for s, e in highlights):
        if start < at or end > len(snippet):
            continue
        out.append(html.escape(snippet[at:start]))
        out.append(f"<b>{html.escape(snippet[start:end])}</b>")
        at = end
    out.append(html.escape(snippet[at:]))
    return "".join(out)


class SourcesView(QWidget):
    """Hidden until an answer has sources; each is a link to its file."""

    opener: FileOpener = staticmethod(open_in_viewer)  # type: ignore[assignment]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sources: list[dict[str, Any]] = []
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 4, 0, 0)
        self.layout_.setSpacing(4)
        self.heading = QLabel("Sources", self)
        self.heading.setObjectName("muted")
        self.layout_.addWidget(self.heading)
        self.items: list[TextLabel] = []
        self.last_opened: tuple[str, int | None] | None = None
        self.hide()

    def set_sources(self, sources: list[dict[str, Any]]) -> None:
        if sources == self.sources:
            return
        self.sources = list(sources)
        for item in self.items:
            item.deleteLater()
        self.items = []
        for index, source in enumerate(self.sources):
            number = source.get("number", index + 1)
            label = TextLabel(parent=self)
            label.setOpenExternalLinks(False)
            label.setAccessibleName(f"Source {number}: {where(source)}")
            label.setToolTip(f"Open {source.get('path', '')}")
            label.setText(
                f'<a href="source:{index}">[{number}] {html.escape(where(source))}</a>'
                f"<br><span>{marked_html(str(source.get('snippet', '')), source.get('highlights', []))}</span>"
            )
            label.linkActivated.connect(self._activated)
            self.layout_.addWidget(label)
            self.items.append(label)
        self.heading.setText("Sources" if len(self.sources) != 1 else "Source")
        self.setVisible(bool(self.sources))

    def open_source(self, index: int) -> bool:
        source = self.sources[index]
        path, page = str(source.get("path", "")), source.get("page")
        self.last_opened = (path, page)
        return type(self).opener(path, page)

    def open_number(self, number: int) -> bool:
        """Open the source an answer cites as [number]."""
        for index, source in enumerate(self.sources):
            if source.get("number", index + 1) == number:
                return self.open_source(index)
        return False

    def _activated(self, link: str) -> None:
        if link.startswith("source:"):
            self.open_source(int(link.split(":", 1)[1]))
