"""The Models page: curated catalog, Hub search, downloads and installed models."""

from desktop.ui.models.page import ModelsPage

__all__ = ["ModelsPage"]
