"""Per-chat settings: system prompt, sampling, answer and context length, reasoning controls.

Values equal to the app defaults are stored as “use the default”, so changing a default in
Settings still reaches every chat that was not tuned by hand.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.context import DROP_OLDEST, STOP
from desktop.store.records import ChatSettings

EFFORTS = ("low", "medium", "high")
POLICY_LABELS = {DROP_OLDEST: "Leave out the oldest messages", STOP: "Stop and tell me"}


def spin(
    minimum: float, maximum: float, step: float, decimals: int | None = None, suffix: str = ""
) -> QSpinBox | QDoubleSpinBox:
    box: QSpinBox | QDoubleSpinBox
    box = QSpinBox() if decimals is None else QDoubleSpinBox()
    if isinstance(box, QDoubleSpinBox):
        box.setDecimals(decimals or 0)
    box.setRange(minimum, maximum)  # type: ignore[arg-type]
    box.setSingleStep(step)  # type: ignore[arg-type]
    box.setSuffix(suffix)
    box.setKeyboardTracking(False)
    return box


class ChatSettingsPanel(QScrollArea):
    changed = Signal(object, str)  # ChatSettings (None = default), system prompt

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsPanel")
        self.setWidgetResizable(True)
        self.setMinimumWidth(260)
        self.setMaximumWidth(380)
        self.setAccessibleName("Chat settings")
        self.defaults = ChatSettings()
        self._loading = False
        page = QWidget(self)
        outer = QVBoxLayout(page)
        outer.setContentsMargins(14, 14, 14, 14)
        title = QLabel("Chat settings", page)
        title.setObjectName("sectionHeader")
        outer.addWidget(title)
        note = QLabel("Saved with this chat. Defaults for new chats are in Settings.", page)
        note.setObjectName("muted")
        note.setWordWrap(True)
        outer.addWidget(note)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.system_prompt = QPlainTextEdit(page)
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setPlaceholderText("How the model should behave in this chat")
        self.system_prompt.setFixedHeight(96)
        form.addRow("System prompt", self.system_prompt)
        self.temperature = spin(0.0, 2.0, 0.05, decimals=2)
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setToolTip(
            "Higher is more varied, lower is more focused; 0 always gives the same answer."
        )
        form.addRow("Temperature", self.temperature)
        self.top_p = spin(0.05, 1.0, 0.05, decimals=2)
        self.top_p.setAccessibleName("Top-p")
        self.top_p.setToolTip(
            "Only the likeliest words that together make up this share are considered."
        )
        form.addRow("Top-p", self.top_p)
        self.max_tokens = spin(16, 131072, 256, suffix=" tokens")
        self.max_tokens.setAccessibleName("Longest answer")
        form.addRow("Longest answer", self.max_tokens)
        self.context_length = spin(512, 1048576, 1024, suffix=" tokens")
        self.context_length.setAccessibleName("Context length")
        self.context_length.setToolTip(
            "How much of the conversation the model can keep in mind. More needs more memory."
        )
        form.addRow("Context length", self.context_length)
        self.policy = QComboBox(page)
        self.policy.setAccessibleName("When the chat no longer fits")
        for value, label in POLICY_LABELS.items():
            self.policy.addItem(label, value)
        form.addRow("When the chat no longer fits", self.policy)
        self.effort = QComboBox(page)
        self.effort.setAccessibleName("Reasoning effort")
        for value in EFFORTS:
            self.effort.addItem(value.capitalize(), value)
        self.effort_label = QLabel("Reasoning effort", page)
        form.addRow(self.effort_label, self.effort)
        self.thinking = QCheckBox("Think before answering", page)
        self.thinking.setAccessibleName("Thinking")
        form.addRow(self.thinking)
        outer.addLayout(form)
        reset = QPushButton("Use the defaults", page)
        reset.setAccessibleName("Reset this chat's settings to the defaults")
        reset.clicked.connect(self.reset)
        outer.addWidget(reset, 0, Qt.AlignmentFlag.AlignLeft)
        outer.addStretch(1)
        self.setWidget(page)

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(300)
        self._save_timer.timeout.connect(self._emit_changed)
        for box in (self.temperature, self.top_p, self.max_tokens, self.context_length):
            box.valueChanged.connect(self._edited)
        for combo in (self.policy, self.effort):
            combo.currentIndexChanged.connect(self._edited)
        self.thinking.toggled.connect(self._edited)
        self.system_prompt.textChanged.connect(self._edited)
        self.set_reasoning_style(None)

    def load(self, settings: ChatSettings, defaults: ChatSettings, system_prompt: str) -> None:
        """Show a chat's settings (gaps filled from the defaults) without saving anything."""
        self._save_timer.stop()
        self._loading = True
        self.defaults = defaults
        merged = settings.merged_over(defaults)
        if self.system_prompt.toPlainText() != system_prompt:
            self.system_prompt.setPlainText(system_prompt)
        self.temperature.setValue(merged.temperature or 0.0)
        self.top_p.setValue(merged.top_p or 1.0)
        self.max_tokens.setValue(merged.max_tokens or 2048)
        self.context_length.setValue(merged.context_length or 8192)
        self.policy.setCurrentIndex(max(0, self.policy.findData(merged.context_policy)))
        self.effort.setCurrentIndex(max(0, self.effort.findData(merged.reasoning_effort)))
        self.thinking.setChecked(merged.thinking is not False)
        self._loading = False

    def set_reasoning_style(self, style: str | None) -> None:
        """Offer reasoning effort for gpt-oss (harmony) and a thinking switch for <think> models."""
        for widget in (self.effort_label, self.effort):
            widget.setVisible(style == "harmony")
        self.thinking.setVisible(style == "think")

    def current(self) -> ChatSettings:
        """What the panel shows, with values equal to the defaults left as 'default'."""
        chosen = ChatSettings(
            temperature=round(self.temperature.value(), 2),
            top_p=round(self.top_p.value(), 2),
            max_tokens=self.max_tokens.value(),
            context_length=self.context_length.value(),
            reasoning_effort=self.effort.currentData(),
            thinking=self.thinking.isChecked(),
            context_policy=self.policy.currentData(),
        )
        for name in chosen.__dataclass_fields__:
            if getattr(chosen, name) == getattr(self.defaults, name):
                setattr(chosen, name, None)
        return chosen

    def reset(self) -> None:
        self.load(ChatSettings(), self.defaults, self.system_prompt.toPlainText())
        self._emit_changed()

    def flush(self) -> None:
        """Save now anything still waiting (before switching chats or sending)."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._emit_changed()

    def _edited(self, *_: object) -> None:
        if not self._loading:
            self._save_timer.start()

    def _emit_changed(self) -> None:
        self.changed.emit(self.current(), self.system_prompt.toPlainText())
