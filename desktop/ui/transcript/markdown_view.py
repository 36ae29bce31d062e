"""A message's Markdown shown as a column of block widgets, updated in place while it streams."""

from __future__ import annotations

import re

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from desktop.ui.markdown_blocks import Block, BlockRenderer, MarkdownDocument
from desktop.ui.transcript.code_block import CodeBlock
from desktop.ui.transcript.labels import TextLabel
from desktop.ui.transcript.stack_column import StackColumn

BLOCK_SPACING = 10
_CITATION = re.compile(r"\[(\d{1,3})\]")
_TAG = re.compile(r"(<[^>]*>)")


def link_citations(html: str, count: int) -> str:
    """html with each [n] (1 <= n <= count) outside code made a link to source n."""
    if not count:
        return html
    parts, in_code = [], 0
    for part in _TAG.split(html):
        if part.startswith("<"):
            name = part[1:].split(None, 1)[0].lower() if len(part) > 2 else ""
            if name in ("code", "pre"):
                in_code += 1
            elif name in ("/code", "/pre"):
                in_code = max(0, in_code - 1)
        elif not in_code:
            part = _CITATION.sub(lambda m: f'<a href="cite:{m[1]}">[{m[1]}]</a>'
                                 if 1 <= int(m[1]) <= count else m[0], part)
        parts.append(part)
    return "".join(parts)


class MarkdownView(StackColumn):
    """Only blocks whose content changed are touched: a streaming answer updates its last one."""

    cited = Signal(int)  # a citation [n] in the text was clicked

    def __init__(self, renderer: BlockRenderer, parent: QWidget | None = None) -> None:
        super().__init__(BLOCK_SPACING, parent)
        self.renderer = renderer
        self.document = MarkdownDocument(renderer)
        self.shown: list[Block] = []
        self.citations = 0  # numbered sources the text may cite as [1], [2]…

    def set_citations(self, count: int) -> None:
        """Make [1]…[count] in the text links to the answer's sources."""
        if count != self.citations:
            self.citations = count
            self.rerender(self.renderer)

    @property
    def widgets(self) -> list[QWidget]:
        return self.items

    @property
    def text(self) -> str:
        return self.document.text

    def set_markdown(self, text: str) -> None:
        if text == self.document.text and self.items:
            return
        blocks = self.document.set_text(text)
        for index, block in enumerate(blocks):
            if index < len(self.shown) and self.shown[index] == block:
                continue
            if index < len(self.items) and self._update_widget(self.items[index], block):
                self.shown[index] = block
                continue
            widget = self._make_widget(block)
            if index < len(self.items):
                old = self.items[index]
                self.replace(old, widget)
                old.deleteLater()
                self.shown[index] = block
            else:
                self.append(widget)
                self.shown.append(block)
        for widget in self.items[len(blocks) :]:
            self.remove(widget)
            widget.deleteLater()
        del self.shown[len(blocks) :]

    def rerender(self, renderer: BlockRenderer) -> None:
        """Draw again with new colours (the theme changed)."""
        text = self.document.text
        self.renderer = renderer
        self.document = MarkdownDocument(renderer)
        for widget in list(self.items):
            self.remove(widget)
            widget.deleteLater()
        self.shown = []
        self.set_markdown(text)

    def _make_widget(self, block: Block) -> QWidget:
        if block.kind == "code":
            return CodeBlock(block.code, block.language, self.renderer.colors.code_style, self)
        label = TextLabel(link_citations(block.html, self.citations), parent=self)
        label.setAccessibleName("Message text")
        # Citation links are handled here; other links open in the browser as before.
        label.setOpenExternalLinks(False)
        label.linkActivated.connect(self._link_activated)
        return label

    def _link_activated(self, link: str) -> None:
        if link.startswith("cite:"):
            self.cited.emit(int(link[5:]))
        else:
            QDesktopServices.openUrl(QUrl(link))

    def _update_widget(self, widget: QWidget, block: Block) -> bool:
        """Change a block widget in place; False when it must be replaced instead."""
        if (
            isinstance(widget, CodeBlock)
            and block.kind == "code"
            and widget.language == block.language
        ):
            widget.set_code(block.code)
        elif isinstance(widget, TextLabel) and block.kind == "prose":
            widget.setText(link_citations(block.html, self.citations))
        else:
            return False
        self.child_changed(widget)
        return True
