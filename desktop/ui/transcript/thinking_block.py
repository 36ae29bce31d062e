"""The model's reasoning, apart from its answer: open while it thinks, folded once it answers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget

from desktop.ui.transcript.labels import TextLabel


def thought_for(seconds: float | None) -> str:
    if seconds is None:
        return "Thoughts"
    if seconds < 1:
        return "Thought for a moment"
    if seconds < 90:
        return f"Thought for {round(seconds)} s"
    return f"Thought for {round(seconds / 60)} min"


class ThinkingBlock(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thinking = False
        self.user_toggled = False  # once the reader opens or closes it, we leave it alone
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.toggle = QToolButton(self)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setCheckable(True)
        self.toggle.setAccessibleName("Show or hide the model's thinking")
        self.toggle.clicked.connect(self._clicked)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self.body = TextLabel(rich=False, parent=self)
        self.body.setObjectName("thinkingBody")
        self.body.setAccessibleName("The model's thinking")
        layout.addWidget(self.body)
        self.setVisible(False)

    def set_reasoning(self, text: str, *, thinking: bool, seconds: float | None) -> None:
        """thinking: the model is still reasoning (no answer text yet)."""
        self.setVisible(bool(text.strip()))
        if self.body.text() != text:
            self.body.setText(text.strip())
        was_thinking, self.thinking = self.thinking, thinking
        self.toggle.setText("Thinking…" if thinking else thought_for(seconds))
        if not self.user_toggled:
            if thinking:
                self._set_open(True)
            elif was_thinking or not self.toggle.isChecked():
                self._set_open(False)

    @property
    def is_open(self) -> bool:
        return self.body.isVisibleTo(self)

    def _clicked(self) -> None:
        self.user_toggled = True
        self._set_open(self.toggle.isChecked())

    def _set_open(self, opened: bool) -> None:
        self.toggle.setChecked(opened)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)
        self.body.setVisible(opened)
