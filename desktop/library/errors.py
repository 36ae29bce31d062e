"""Errors from the model library, each worded for the person using the app."""

from __future__ import annotations


class LibraryError(Exception):
    """Something in the model library failed; str(error) says what happened and what to do."""


class OfflineError(LibraryError):
    """Offline mode is on, so no connection was attempted."""


class NetworkError(LibraryError):
    """The Hub could not be reached, or the connection kept failing."""


class HubNotFoundError(LibraryError):
    """A repository, revision or file does not exist on the Hub (or is private)."""


class GatedModelError(LibraryError):
    """The repository needs the user to accept its terms on the Hub first."""


class CatalogError(LibraryError):
    """The catalog is missing, damaged, or has no such entry."""


class NotEnoughSpaceError(LibraryError):
    """The models folder does not have room for the download."""


class DiskFullError(LibraryError):
    """The disk filled up while writing."""


class VerificationError(LibraryError):
    """Downloaded bytes do not match the expected SHA-256 or size."""


class NotAModelError(LibraryError):
    """A downloaded file is not a GGUF model the app can read."""


class DownloadInterrupted(LibraryError):
    """A download was paused or cancelled on request (not a failure)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The download was {reason}.")
        self.reason = reason
