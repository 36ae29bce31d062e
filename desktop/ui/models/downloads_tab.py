"""The downloads list: progress, speed and time left for each, with pause, resume and cancel."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.library.downloads import DownloadManager
from desktop.library.errors import LibraryError
from desktop.library.jobs import DownloadProgress, DownloadState
from desktop.library.units import format_bytes, format_duration, format_rate
from desktop.ui.models.widgets import (
    OFFLINE_TOOLTIP,
    error_label,
    muted_label,
    offline_notice,
    show_error,
)

_STATE_WORDS = {
    DownloadState.QUEUED: "Waiting",
    DownloadState.STARTING: "Starting",
    DownloadState.DOWNLOADING: "Downloading",
    DownloadState.VERIFYING: "Checking",
    DownloadState.PAUSED: "Paused",
    DownloadState.COMPLETED: "Ready",
    DownloadState.FAILED: "Failed",
    DownloadState.CANCELLED: "Cancelled",
}


class DownloadEvents(QObject):
    """The manager calls listeners on its worker thread; this turns each call into a queued
    signal, so rows are only ever touched on the GUI thread."""

    changed = Signal(object)  # DownloadProgress

    def __init__(self, manager: DownloadManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._attached = True
        manager.add_listener(self._heard)

    def _heard(self, progress: DownloadProgress) -> None:
        if self._attached:
            self.changed.emit(progress)

    def detach(self) -> None:
        if self._attached:
            self._attached = False
            self.manager.remove_listener(self._heard)


def progress_text(p: DownloadProgress) -> str:
    """'45.2 MB of 98.0 MB · 12.3 MB/s · 0:05 left', or the manager's own words."""
    if p.state in (DownloadState.FAILED, DownloadState.COMPLETED, DownloadState.CANCELLED):
        return p.message
    if not p.downloaded_bytes and p.state != DownloadState.DOWNLOADING:
        return p.message  # "Waiting to start": no byte count worth showing yet
    amount = format_bytes(p.downloaded_bytes)
    if p.total_bytes:
        amount += f" of {format_bytes(p.total_bytes)}"
    parts = [amount]
    if p.state == DownloadState.DOWNLOADING and p.speed_bps > 0:
        parts.append(format_rate(p.speed_bps))
        if p.eta_seconds is not None:
            parts.append(f"{format_duration(p.eta_seconds)} left")
    elif p.state != DownloadState.DOWNLOADING:
        parts.append(p.message)
    return " · ".join(parts)


class DownloadRow(QFrame):
    pause_clicked = Signal(int)
    resume_clicked = Signal(int)
    cancel_clicked = Signal(int)
    remove_clicked = Signal(int)

    def __init__(self, progress: DownloadProgress, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = progress.job_id
        self.setObjectName("downloadRow")
        self.setAccessibleName(f"Download of {progress.name}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        top = QHBoxLayout()
        self.title = QLabel(progress.name, self)
        self.title.setObjectName("cardTitle")
        top.addWidget(self.title)
        self.source = muted_label(f"{progress.repo_id} · {progress.filename}", self, wrap=False)
        top.addWidget(self.source, 1)
        self.state = QLabel(self)
        self.state.setAccessibleName("State")
        top.addWidget(self.state)
        layout.addLayout(top)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(f"Progress of {progress.name}")
        layout.addWidget(self.bar)
        bottom = QHBoxLayout()
        self.detail = muted_label("", self)
        self.detail.setAccessibleName("Details")
        bottom.addWidget(self.detail, 1)
        # Its own label, styled as an error from the start: a label restyled in place kept
        # its old margins, and the error box's border covered the first letter.
        self.error = error_label(self)
        bottom.addWidget(self.error, 1)
        self.pause_button = self._button("Pause", self.pause_clicked, bottom)
        self.resume_button = self._button("Resume", self.resume_clicked, bottom)
        self.cancel_button = self._button("Cancel", self.cancel_clicked, bottom)
        self.remove_button = self._button("Remove from list", self.remove_clicked, bottom)
        layout.addLayout(bottom)
        self.progress = progress
        self.show_progress(progress, offline=False)

    def _button(self, text: str, signal: SignalInstance, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(f"{text} {self.title.text()}")
        button.clicked.connect(lambda: signal.emit(self.job_id))
        row.addWidget(button)
        return button

    def show_progress(self, p: DownloadProgress, offline: bool) -> None:
        self.progress = p
        self.state.setText(_STATE_WORDS.get(p.state, str(p.state)))
        fraction = p.fraction
        if fraction is None and p.state in (DownloadState.STARTING, DownloadState.VERIFYING):
            self.bar.setRange(0, 0)  # busy: no byte count to show yet (or hashing)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int((fraction or 0) * 1000))
        self.bar.setVisible(p.state not in (DownloadState.CANCELLED, DownloadState.FAILED))
        failed = p.state == DownloadState.FAILED
        self.detail.setText(progress_text(p))
        self.detail.setVisible(not failed)
        show_error(self.error, p.message if failed else None)
        running = p.state in (
            DownloadState.QUEUED,
            DownloadState.STARTING,
            DownloadState.DOWNLOADING,
            DownloadState.VERIFYING,
        )
        resumable = p.state in (DownloadState.PAUSED, DownloadState.FAILED)
        self.pause_button.setVisible(running)
        self.resume_button.setVisible(resumable)
        self.resume_button.setText("Try again" if p.state == DownloadState.FAILED else "Resume")
        self.resume_button.setEnabled(not offline)
        self.resume_button.setToolTip(OFFLINE_TOOLTIP if offline else "")
        self.cancel_button.setVisible(running or p.state == DownloadState.PAUSED)
        self.remove_button.setVisible(p.finished)


class DownloadsTab(QWidget):
    def __init__(self, manager: DownloadManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.offline = False
        self.rows: dict[int, DownloadRow] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        self.offline_notice = offline_notice(self)
        outer.addWidget(self.offline_notice)
        self.empty = muted_label(
            "No downloads. Pick a model in the Catalog or search the Hub; downloads that were "
            "stopped (even by a crash or a restart) show here and carry on where they left off.",
            self,
        )
        outer.addWidget(self.empty)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setAccessibleName("Downloads")
        column = QWidget(scroll)
        self.column = QVBoxLayout(column)
        self.column.setContentsMargins(0, 0, 8, 0)
        self.column.setSpacing(10)
        self.column.addStretch(1)
        scroll.setWidget(column)
        outer.addWidget(scroll, 1)
        self._column_widget = column

    def show_progress(self, progress: DownloadProgress) -> None:
        row = self.rows.get(progress.job_id)
        if row is None:
            row = DownloadRow(progress, self._column_widget)
            row.pause_clicked.connect(self.manager.pause)
            row.resume_clicked.connect(self._resume)
            row.cancel_clicked.connect(self.manager.cancel)
            row.remove_clicked.connect(self._remove)
            self.column.insertWidget(self.column.count() - 1, row)
            self.rows[progress.job_id] = row
        row.show_progress(progress, self.offline)
        self.empty.setVisible(not self.rows)

    def _resume(self, job_id: int) -> None:
        try:
            self.manager.resume(job_id)
        except LibraryError as exc:  # offline mode was switched on meanwhile
            show_error(self.rows[job_id].error, str(exc))

    def _remove(self, job_id: int) -> None:
        self.manager.forget(job_id)
        row = self.rows.pop(job_id, None)
        if row is not None:
            row.deleteLater()
        self.empty.setVisible(not self.rows)

    def set_offline(self, offline: bool) -> None:
        self.offline = offline
        self.offline_notice.setVisible(offline)
        for row in self.rows.values():
            row.show_progress(row.progress, offline)

    def active(self) -> list[DownloadProgress]:
        return [row.progress for row in self.rows.values() if not row.progress.finished]
