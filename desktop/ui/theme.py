"""Light and dark colours, the application palette and style sheet, and the font size."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEME_KEY = "theme"  # "system", "light" or "dark"
FONT_SIZE_KEY = "font_size"
THEMES = ("system", "light", "dark")
DEFAULT_FONT_SIZE = 10


@dataclass(frozen=True)
class Colors:
    """Every colour the window draws with; widgets read them instead of hard-coding."""

    dark: bool
    window: str
    surface: str  # sidebar, top bar, composer background
    raised: str  # user bubbles, hover
    border: str
    text: str
    muted: str
    accent: str
    accent_text: str
    selection: str
    code_background: str
    code_header: str
    inline_code: str
    quote_bar: str
    error_background: str
    error_border: str
    error_text: str
    warning: str
    ok: str
    code_style: str  # the Pygments style used for code blocks


LIGHT = Colors(
    dark=False,
    window="#ffffff",
    surface="#f6f7f9",
    raised="#eef1f5",
    border="#dfe3e8",
    text="#1f2328",
    muted="#646d78",
    accent="#2563eb",
    accent_text="#ffffff",
    selection="#cfe0ff",
    code_background="#f6f8fa",
    code_header="#eaeef2",
    inline_code="#eef1f4",
    quote_bar="#c9d1d9",
    error_background="#fff1f0",
    error_border="#f3b4ae",
    error_text="#a4161a",
    warning="#b45309",
    ok="#15803d",
    code_style="default",
)

DARK = Colors(
    dark=True,
    window="#1d1f23",
    surface="#16181b",
    raised="#2a2d33",
    border="#30343a",
    text="#e6e8eb",
    muted="#9aa3ad",
    accent="#5b9cff",
    accent_text="#0b1220",
    selection="#264f78",
    code_background="#0d1117",
    code_header="#1f242b",
    inline_code="#2d3139",
    quote_bar="#4b535d",
    error_background="#3a1f21",
    error_border="#7f2f33",
    error_text="#ffb4ab",
    warning="#f0b429",
    ok="#4ade80",
    code_style="github-dark",
)


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


class ThemeManager(QObject):
    """Applies the chosen theme and font size to the whole app and tells widgets when it changes."""

    changed = Signal(object)  # Colors

    def __init__(
        self, app: QApplication, mode: str = "system", font_size: int | None = None
    ) -> None:
        super().__init__(app)
        self.app = app
        self.mode = mode if mode in THEMES else "system"
        self.font_size = int(font_size or app.font().pointSize() or DEFAULT_FONT_SIZE)
        self.colors = LIGHT
        app.setStyle("Fusion")  # the same look everywhere, and it honours our palette
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self.apply()

    def set_mode(self, mode: str) -> None:
        self.mode = mode if mode in THEMES else "system"
        self.apply()

    def set_font_size(self, size: int) -> None:
        self.font_size = max(7, min(int(size), 24))
        self.apply()

    def apply(self) -> None:
        dark = self.mode == "dark" or (self.mode == "system" and system_prefers_dark())
        self.colors = DARK if dark else LIGHT
        font = QFont(self.app.font())
        font.setPointSize(self.font_size)
        self.app.setFont(font)
        self.app.setPalette(build_palette(self.colors))
        self.app.setStyleSheet(style_sheet(self.colors, self.font_size))
        self.changed.emit(self.colors)

    def _system_scheme_changed(self, *_: object) -> None:
        if self.mode == "system":
            self.apply()


def build_palette(c: Colors) -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.window,
        QPalette.ColorRole.AlternateBase: c.surface,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.surface,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.ToolTipBase: c.raised,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.PlaceholderText: c.muted,
        QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: c.accent_text,
        QPalette.ColorRole.Link: c.accent,
        QPalette.ColorRole.Light: c.raised,
        QPalette.ColorRole.Midlight: c.border,
        QPalette.ColorRole.Mid: c.border,
        QPalette.ColorRole.Dark: c.border,
        QPalette.ColorRole.Shadow: c.border,
    }
    for role, value in roles.items():
        palette.setColor(role, QColor(value))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.muted))
    return palette


def style_sheet(c: Colors, font_size: int) -> str:
    """The app-wide look; object names pick out the parts of the window."""
    small = max(font_size - 1, 7)
    return f"""
    QMainWindow, QDialog {{ background: {c.window}; }}
    QToolTip {{ background: {c.raised}; color: {c.text}; border: 1px solid {c.border}; }}
    #sidebar {{ background: {c.surface}; border-right: 1px solid {c.border}; }}
    #sidebar QListWidget {{ background: transparent; border: none; outline: none; }}
    #sidebar QListWidget::item {{ padding: 6px 8px; border-radius: 6px; color: {c.text}; }}
    #sidebar QListWidget::item:hover {{ background: {c.raised}; }}
    #sidebar QListWidget::item:selected {{ background: {c.raised}; color: {c.text}; }}
    #topBar {{ background: {c.window}; border-bottom: 1px solid {c.border}; }}
    #statusArea {{ background: {c.window}; }}
    #statusArea QLabel {{ color: {c.muted}; font-size: {small}pt; }}
    QLineEdit, QPlainTextEdit, QTextEdit {{
        background: {c.window}; color: {c.text}; border: 1px solid {c.border};
        border-radius: 6px; padding: 4px 6px; selection-background-color: {c.selection};
        selection-color: {c.text};
    }}
    QLineEdit:focus, QPlainTextEdit:focus {{ border: 1px solid {c.accent}; }}
    QPushButton {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border};
        border-radius: 6px; padding: 5px 12px; }}
    QPushButton:hover {{ background: {c.raised}; }}
    QPushButton:disabled {{ color: {c.muted}; }}
    QPushButton#primaryButton {{ background: {c.accent}; color: {c.accent_text};
        border: 1px solid {c.accent}; font-weight: 600; }}
    QPushButton#primaryButton:disabled {{ background: {c.raised}; color: {c.muted};
        border: 1px solid {c.border}; }}
    QPushButton#stopButton {{ background: {c.text}; color: {c.window}; border: 1px solid {c.text};
        font-weight: 600; }}
    QToolButton {{ background: transparent; color: {c.muted}; border: none; border-radius: 5px;
        padding: 3px 6px; }}
    QToolButton:hover {{ background: {c.raised}; color: {c.text}; }}
    QToolButton:disabled {{ color: {c.border}; }}
    #composerFrame {{ background: {c.window}; border: 1px solid {c.border}; border-radius: 14px; }}
    #composerFrame QPlainTextEdit {{ border: none; background: transparent; padding: 2px; }}
    #transcript, #transcriptColumn {{ background: {c.window}; }}
    QScrollArea {{ border: none; }}
    #userBubble {{ background: {c.raised}; border-radius: 14px; }}
    #codeBlock {{ background: {c.code_background}; border: 1px solid {c.border}; border-radius: 8px; }}
    #codeHeader {{ background: {c.code_header}; border-top-left-radius: 8px;
        border-top-right-radius: 8px; }}
    #codeHeader QLabel {{ color: {c.muted}; font-size: {small}pt; }}
    #thinkingBody {{ color: {c.muted}; border-left: 2px solid {c.quote_bar}; padding-left: 10px; }}
    #errorBox {{ background: {c.error_background}; border: 1px solid {c.error_border};
        border-radius: 8px; }}
    #errorBox QLabel {{ color: {c.error_text}; }}
    #noticeBar {{ background: {c.raised}; border-radius: 8px; }}
    QToolButton#jumpButton {{ background: {c.window}; color: {c.text};
        border: 1px solid {c.border}; border-radius: 13px; padding: 4px 12px; }}
    QToolButton#jumpButton:hover {{ background: {c.raised}; }}
    #memoryMarker QLabel {{ color: {c.warning}; font-size: {small}pt; }}
    #memoryMarker QFrame {{ color: {c.warning}; }}
    QLabel#muted, QLabel#sectionHeader {{ color: {c.muted}; }}
    QLabel#sectionHeader {{ font-size: {small}pt; font-weight: 600; }}
    QLabel#pageTitle {{ font-size: {font_size + 9}pt; font-weight: 700; }}
    QProgressBar {{ border: 1px solid {c.border}; border-radius: 4px; background: {c.surface};
        text-align: center; color: {c.text}; max-height: 10px; }}
    QProgressBar::chunk {{ background: {c.accent}; border-radius: 3px; }}
    QSplitter::handle {{ background: {c.border}; }}
    QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
    QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; }}
    QScrollBar::handle {{ background: {c.border}; border-radius: 4px; min-height: 32px;
        min-width: 32px; margin: 2px; }}
    QScrollBar::handle:hover {{ background: {c.muted}; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none; }}
    QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
    QMenu {{ background: {c.window}; color: {c.text}; border: 1px solid {c.border}; }}
    QMenu::item:selected {{ background: {c.raised}; }}
    """
