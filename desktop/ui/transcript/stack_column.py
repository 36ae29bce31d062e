"""A column that stacks widgets at the height each needs for the column's width.

Why not a QVBoxLayout: when one child grows, a box layout first squeezes every child into
the old height and only then hands out the new one. Each squeeze resizes every label, and a
rich-text label lays its text out again on each resize, so a long answer got slower to
stream the longer it grew. Here children are never squeezed: a child's height is asked for
once per width and kept until that child changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QSizePolicy, QWidget


class StackColumn(QWidget):
    def __init__(self, spacing: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spacing = spacing
        self.items: list[QWidget] = []
        self._heights: dict[int, tuple[int, int]] = {}  # id(widget) -> (width, height)
        self._total: tuple[int, int] | None = None  # (width, height)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    # -- children ------------------------------------------------------------------------

    def insert(self, index: int, widget: QWidget) -> None:
        widget.setParent(self)
        widget.installEventFilter(self)
        self.items.insert(index, widget)
        widget.show()
        self.child_changed(widget)

    def append(self, widget: QWidget) -> None:
        self.insert(len(self.items), widget)

    def remove(self, widget: QWidget) -> None:
        if widget in self.items:
            self.items.remove(widget)
            widget.removeEventFilter(self)
            self._heights.pop(id(widget), None)
            self._changed()

    def replace(self, old: QWidget, new: QWidget) -> None:
        index = self.items.index(old)
        self.remove(old)
        self.insert(index, new)

    def child_changed(self, widget: QWidget) -> None:
        """A child's content changed: ask its height again (only its own)."""
        self._heights.pop(id(widget), None)
        self._changed()

    # -- sizes ---------------------------------------------------------------------------

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        if self._total is not None and self._total[0] == width:
            return self._total[1]
        shown = [w for w in self.items if not w.isHidden()]
        total = sum(self._child_height(w, width) for w in shown)
        total += self.spacing * max(len(shown) - 1, 0)
        self._total = (width, total)
        return total

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.width() if self.width() > 0 else 400
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, 0)

    def _child_height(self, widget: QWidget, width: int) -> int:
        cached = self._heights.get(id(widget))
        if cached is not None and cached[0] == width:
            return cached[1]
        if widget.hasHeightForWidth():
            height = widget.heightForWidth(width)
        else:
            height = widget.sizeHint().height()
        height = max(min(height, widget.maximumHeight()), widget.minimumHeight(), 0)
        self._heights[id(widget)] = (width, height)
        return height

    # -- placing -------------------------------------------------------------------------

    def _changed(self) -> None:
        self._total = None
        self._place()
        self.updateGeometry()

    def _place(self) -> None:
        width = self.width()
        y = 0
        for widget in self.items:
            if widget.isHidden():
                continue
            height = self._child_height(widget, width)
            if widget.geometry().getRect() != (0, y, width, height):
                widget.setGeometry(0, y, width, height)
            y += height + self.spacing

    def resizeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.oldSize().width() != event.size().width():
            self._total = None
        self._place()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            # A child asked to be measured again and did not say which: ask all (cheap when
            # their widths did not change, as each keeps its own layout for its width).
            self._heights.clear()
            self._changed()
            return True
        return super().event(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self._changed()
        return False
