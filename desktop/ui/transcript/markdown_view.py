"""A message's Markdown shown as a column of block widgets, updated in place while it streams."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop.ui.markdown_blocks import Block, BlockRenderer, MarkdownDocument
from desktop.ui.transcript.code_block import CodeBlock
from desktop.ui.transcript.labels import TextLabel
from desktop.ui.transcript.stack_column import StackColumn

BLOCK_SPACING = 10


class MarkdownView(StackColumn):
    """Only blocks whose content changed are touched: a streaming answer updates its last one."""

    def __init__(self, renderer: BlockRenderer, parent: QWidget | None = None) -> None:
        super().__init__(BLOCK_SPACING, parent)
        self.renderer = renderer
        self.document = MarkdownDocument(renderer)
        self.shown: list[Block] = []

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
        label = TextLabel(block.html, parent=self)
        label.setAccessibleName("Message text")
        return label

    def _update_widget(self, widget: QWidget, block: Block) -> bool:
        """Change a block widget in place; False when it must be replaced instead."""
        if (
            isinstance(widget, CodeBlock)
            and block.kind == "code"
            and widget.language == block.language
        ):
            widget.set_code(block.code)
        elif isinstance(widget, TextLabel) and block.kind == "prose":
            widget.setText(block.html)
        else:
            return False
        self.child_changed(widget)
        return True
