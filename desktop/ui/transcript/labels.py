"""Selectable, word-wrapping labels: the text of every message is shown with these."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

SELECTABLE = (
    Qt.TextInteractionFlag.TextSelectableByMouse
    | Qt.TextInteractionFlag.TextSelectableByKeyboard
    | Qt.TextInteractionFlag.LinksAccessibleByMouse
)


class TextLabel(QLabel):
    """A label whose text wraps to the width it is given and can be selected and copied."""

    def __init__(
        self,
        text: str = "",
        rich: bool = True,
        fill_width: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(SELECTABLE)
        self.setOpenExternalLinks(True)
        self.setCursor(Qt.CursorShape.IBeamCursor)
        if fill_width:
            # Ignored width: a long unbroken word is clipped instead of widening the chat.
            policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            policy.setHeightForWidth(True)
            self.setSizePolicy(policy)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._heights: dict[int, int] = {}
        if text:
            self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._heights.clear()
        super().setText(text)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        self._heights.clear()  # a new font or style changes every height
        super().changeEvent(event)

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        # Layouts ask often, and a rich-text label would lay its text out again each time.
        if width not in self._heights:
            if len(self._heights) > 8:
                self._heights.clear()
            self._heights[width] = super().heightForWidth(width)
        return self._heights[width]
