"""The line under the composer: model loading progress, speed, and the context meter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from desktop.engine.context import STOP
from desktop.ui.device_section import running_on
from desktop.ui.theme import Colors


@dataclass(frozen=True)
class ContextUse:
    """How full the model's context window is for the next message."""

    tokens: int
    n_ctx: int
    reserve: int  # kept free for the answer
    exact: bool  # counted by the model's tokenizer, not estimated
    policy: str
    dropped: int = 0  # messages left out of the last answer's prompt
    documents: int = 0  # of tokens, those the passages from documents took
    documents_room: int = 0  # what passages may take when the next message is sent

    @property
    def budget(self) -> int:
        return max(self.n_ctx - self.reserve, 1)

    @property
    def overflows(self) -> bool:
        return self.tokens > self.budget

    def describe(self) -> str:
        about = "" if self.exact else "about "
        text = f"{about}{self.tokens:,} of {self.n_ctx:,} tokens"
        if self.documents:
            text += f", {self.documents:,} from documents"
        elif self.documents_room:
            text += f" + up to {self.documents_room:,} from documents"
        return text

    def warning(self) -> str:
        if self.overflows and self.policy == STOP:
            return "This chat is full: start a new one or raise the context length"
        if self.overflows or self.dropped:
            return "Older messages no longer fit; the model will not see them"
        if self.tokens > self.budget * 0.85:
            return "Nearly full"
        return ""


def context_reserve(n_ctx: int, max_tokens: int | None) -> int:
    """Room kept for the answer, as the engine keeps it when it fits a chat."""
    return min(max_tokens or 1024, n_ctx // 2)


class StatusArea(QWidget):
    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusArea")
        self.colors = colors
        row = QHBoxLayout(self)
        row.setContentsMargins(28, 0, 28, 6)
        row.setSpacing(10)
        self.loading_label = QLabel(self)
        self.loading_bar = QProgressBar(self)
        self.loading_bar.setRange(0, 100)
        self.loading_bar.setFixedWidth(140)
        self.loading_bar.setTextVisible(False)
        self.loading_bar.setAccessibleName("Model loading progress")
        self.activity = QLabel(self)
        self.activity.setAccessibleName("Generation speed")
        row.addWidget(self.loading_label)
        row.addWidget(self.loading_bar)
        row.addWidget(self.activity)
        row.addStretch(1)
        self.device = QLabel(self)
        self.device.setAccessibleName("Device the model runs on")
        row.addWidget(self.device)
        self.warning = QLabel(self)
        self.warning.setAccessibleName("Context warning")
        self.meter_label = QLabel(self)
        self.meter_label.setAccessibleName("Context used")
        self.meter = QProgressBar(self)
        self.meter.setRange(0, 1000)
        self.meter.setFixedWidth(90)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Context window use")
        row.addWidget(self.warning)
        row.addWidget(self.meter_label)
        row.addWidget(self.meter)
        self.use: ContextUse | None = None
        self.show_device(None)
        self.show_loading(None)
        self.set_context(None)

    def set_colors(self, colors: Colors) -> None:
        self.colors = colors
        self.set_context(self.use)
        self.show_device(self.device_info)

    def show_loading(self, name: str | None, fraction: float | None = None) -> None:
        """name None hides the progress; fraction None shows a busy bar."""
        visible = name is not None
        self.loading_label.setVisible(visible)
        self.loading_bar.setVisible(visible)
        if not visible:
            return
        self.loading_label.setText(f"Loading {name}…")
        if fraction is None:
            self.loading_bar.setRange(0, 0)
        else:
            self.loading_bar.setRange(0, 100)
            self.loading_bar.setValue(int(fraction * 100))

    def show_device(self, info: dict[str, Any] | None) -> None:
        """Which device the loaded model runs on, and why not the GPU when it fell back."""
        self.device_info = info
        text, tooltip, warn = running_on(info)
        self.device.setText(text)
        self.device.setToolTip(tooltip)
        self.device.setAccessibleDescription(tooltip)
        self.device.setStyleSheet(f"color: {self.colors.warning};" if warn else "")
        self.device.setVisible(bool(text))

    def show_activity(self, text: str) -> None:
        self.activity.setText(text)

    def set_context(self, use: ContextUse | None) -> None:
        self.use = use
        visible = use is not None
        for widget in (self.meter_label, self.meter):
            widget.setVisible(visible)
        if use is None:
            self.warning.setText("")
            return
        self.meter_label.setText(use.describe())
        self.meter.setValue(int(min(use.tokens / max(use.n_ctx, 1), 1.0) * 1000))
        warning = use.warning()
        colour = self.colors.error_text if use.overflows else self.colors.warning
        self.warning.setText(warning)
        self.warning.setStyleSheet(f"color: {colour};")
        chunk = colour if warning else self.colors.accent
        self.meter.setStyleSheet(f"QProgressBar::chunk {{ background: {chunk}; }}")
        tip = (
            f"{use.tokens:,} tokens of the model's {use.n_ctx:,}-token context window; "
            f"{use.reserve:,} are kept free for the answer."
        )
        if use.documents:
            tip += f" Passages from documents took {use.documents:,} of them."
        elif use.documents_room:
            tip += (f" Passages from this chat's documents are added when you send: up to"
                    f" {use.documents_room:,} tokens, older messages making room if needed.")
        if not use.exact:
            tip += " Estimated until the model is loaded."
        self.meter_label.setToolTip(tip)
        self.meter.setToolTip(tip)
