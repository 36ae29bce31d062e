"""Small pieces the Models page tabs share: fit badges, notices, download-button states."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QWidget

from desktop.library.hardware import Fit
from desktop.library.speed import Speed

# The only fixed colours on the page (the fit levels, and red for errors) read the same in
# light and dark mode: white text on a saturated pill, or a red edge around palette text.
FIT_COLOURS = {"runs_well": "#15803d", "tight": "#b45309", "too_large": "#b91c1c"}
UNKNOWN_FIT_COLOUR = "#6b7280"
SPEED_COLOURS = {"fast": "#15803d", "usable": "#1d4ed8", "slow": "#b45309"}

OFFLINE_NOTICE = (
    "Offline mode is on, so Openweight will not connect to the internet: searching and "
    "downloading are turned off. You can turn offline mode off in Settings."
)
OFFLINE_TOOLTIP = "Offline mode is on. Turn it off in Settings to download models."

# Colours come from the palette, so the page follows light and dark mode.
PAGE_STYLE = """
QFrame#modelCard, QFrame#downloadRow {
    border: 1px solid palette(mid); border-radius: 10px; background: palette(alternate-base);
}
QFrame#modelCard QLabel, QFrame#downloadRow QLabel { background: transparent; }
QLabel#cardTitle { font-weight: 700; }
QTabWidget::pane { border: none; border-top: 1px solid palette(mid); }
QTabBar::tab {
    background: transparent; color: palette(window-text); border: none;
    border-bottom: 2px solid transparent; padding: 6px 14px; margin-right: 4px;
}
QTabBar::tab:selected { border-bottom: 2px solid palette(highlight); font-weight: 600; }
QTabBar::tab:hover:!selected { border-bottom: 2px solid palette(mid); }
QTreeWidget, QTableWidget { border: 1px solid palette(mid); border-radius: 8px; }
QTableWidget::item, QTreeWidget#hubResults::item { padding: 4px 4px; }
QHeaderView::section {
    background: palette(alternate-base); color: palette(window-text); border: none;
    border-bottom: 1px solid palette(mid); padding: 5px 8px; font-weight: 600;
}
QLabel#errorText {
    border: 1px solid #b91c1c; border-left: 4px solid #b91c1c; border-radius: 6px;
    padding: 6px 8px;
}
QLabel#offlineNotice {
    border: 1px solid palette(mid); border-radius: 8px; padding: 8px 10px;
    background: palette(light);
}
"""


def context_text(tokens: int | None) -> str | None:
    """131072 → '128K context'."""
    if not tokens:
        return None
    if tokens >= 1024 and tokens % 1024 == 0:
        return f"{tokens // 1024}K context"
    return f"{tokens:,}-token context"


def fit_badge(fit: Fit | None, parent: QWidget | None = None) -> QLabel:
    """'Runs well' / 'Tight' / 'Too large' on a coloured pill, with the reason as its tooltip."""
    badge = QLabel(parent)
    set_fit(badge, fit)
    return badge


def set_fit(badge: QLabel, fit: Fit | None) -> None:
    text = fit.label if fit else "Size unknown"
    colour = FIT_COLOURS.get(fit.level, UNKNOWN_FIT_COLOUR) if fit else UNKNOWN_FIT_COLOUR
    _pill(badge, "fitBadge", text, colour)
    badge.setToolTip(fit.reason if fit else "The Hub did not say how large this file is.")
    badge.setAccessibleName(f"Fit for this computer: {text}")
    badge.setAccessibleDescription(badge.toolTip())


def speed_badge(speed: Speed | None, parent: QWidget | None = None) -> QLabel:
    """'Fast' / 'Usable' / 'Slow' next to the fit, with the estimated tokens/s as its tooltip;
    hidden when there is no estimate (an embedding model, or one too large to run)."""
    badge = QLabel(parent)
    set_speed(badge, speed)
    return badge


def set_speed(badge: QLabel, speed: Speed | None) -> None:
    badge.setVisible(speed is not None)
    if speed is None:
        return
    _pill(badge, "speedBadge", speed.label, SPEED_COLOURS[speed.level])
    badge.setToolTip(speed.reason)
    badge.setAccessibleName(f"Speed on this computer: {speed.label}")
    badge.setAccessibleDescription(speed.reason)


def _pill(badge: QLabel, name: str, text: str, colour: str) -> None:
    badge.setText(text)
    badge.setObjectName(name)
    badge.setStyleSheet(
        f"QLabel {{ background: {colour}; color: white; border-radius: 9px;"
        " padding: 2px 9px; font-weight: 600; }"
    )
    badge.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)


def muted_label(text: str, parent: QWidget | None = None, wrap: bool = True) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("muted")
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def offline_notice(parent: QWidget | None = None) -> QLabel:
    notice = QLabel(OFFLINE_NOTICE, parent)
    notice.setObjectName("offlineNotice")
    notice.setWordWrap(True)
    notice.setAccessibleName("Offline mode notice")
    notice.hide()
    return notice


def error_label(parent: QWidget | None = None) -> QLabel:
    """Inline, plain-words errors; the theme colours #errorText."""
    label = QLabel(parent)
    label.setObjectName("errorText")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName("Error")
    label.hide()
    return label


def show_error(label: QLabel, text: str | None) -> None:
    label.setText(text or "")
    label.setVisible(bool(text))


@dataclass(frozen=True)
class DownloadButtonState:
    text: str
    enabled: bool
    tooltip: str


def download_state(
    key: tuple[str, str],
    installed: set[tuple[str, str]],
    active: dict[tuple[str, str], str],
    offline: bool,
) -> DownloadButtonState:
    """What a Download button says for one file: installed, in the queue, or ready to fetch."""
    if key in installed:
        return DownloadButtonState("Installed", False, "This model is already on this computer.")
    if key in active:
        return DownloadButtonState(active[key], False, "See the Downloads tab for its progress.")
    if offline:
        return DownloadButtonState("Download", False, OFFLINE_TOOLTIP)
    return DownloadButtonState("Download", True, "Download this model to this computer.")


def apply_download_state(button: QPushButton, state: DownloadButtonState, what: str) -> None:
    button.setText(state.text)
    button.setEnabled(state.enabled)
    button.setToolTip(state.tooltip)
    button.setAccessibleName(f"{state.text} {what}")
