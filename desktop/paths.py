"""Where Openweight keeps its data: platformdirs locations, or one folder given by the user."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Openweight"
HOME_ENV = "OPENWEIGHT_HOME"


@dataclass(frozen=True)
class DataPaths:
    """Every folder and file the app writes to, resolved once at start-up."""

    data_dir: Path
    models_dir: Path
    logs_dir: Path
    cache_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "openweight.sqlite3"

    @property
    def documents_database(self) -> Path:
        """The local-documents index, apart from the history (it can be rebuilt any time)."""
        return self.data_dir / "documents.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "openweight.log"

    def ensure(self) -> DataPaths:
        for folder in (self.data_dir, self.models_dir, self.logs_dir, self.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> DataPaths:
    """--data-dir wins, then OPENWEIGHT_HOME, then the platform's usual folders."""
    chosen = data_dir or os.environ.get(HOME_ENV)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return DataPaths(
            data_dir=root,
            models_dir=root / "models",
            logs_dir=root / "logs",
            cache_dir=root / "cache",
        )
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    data = Path(dirs.user_data_dir)
    return DataPaths(
        data_dir=data,
        models_dir=data / "models",
        logs_dir=Path(dirs.user_log_dir),
        cache_dir=Path(dirs.user_cache_dir),
    )


def third_party_notices() -> str:
    """The notices for the software bundled with Openweight (for the About box)."""
    from importlib import resources

    return (resources.files("desktop") / "resources" / "THIRD_PARTY_NOTICES.md").read_text("utf-8")
