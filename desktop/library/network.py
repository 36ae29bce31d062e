"""The only doorway to the network: offline mode, the Hub endpoint, lazy client imports.

Nothing here connects at import time; huggingface_hub and the HTTP client are imported
inside functions so that app start-up stays fast and an offline app never loads them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from desktop.library.errors import (
    GatedModelError,
    HubNotFoundError,
    LibraryError,
    NetworkError,
    OfflineError,
)

log = logging.getLogger("openweight.library")

OFFLINE_SETTING = "offline_mode"
DEFAULT_ENDPOINT = "https://huggingface.co"
USER_AGENT = "Openweight"

OfflineCheck = Callable[[], bool]

# Said in `openweight info` and the About box; keep it true (tests/e2e/test_privacy.py checks).
NETWORK_USE = (
    "Openweight uses the network only to search for models and download them (from the "
    "Hugging Face Hub) and to talk to model servers you add yourself. Your chats, documents "
    "and settings never leave this computer, and there is no telemetry. Offline mode "
    "(in Settings) turns even model search and downloads off."
)


def never_offline() -> bool:
    return False


def offline_check_for(database: Path | str) -> OfflineCheck:
    """Read the offline_mode setting afresh on every call, from any thread."""

    def check() -> bool:
        from desktop.store import Store

        store = Store(database)
        try:
            return bool(store.settings.get(OFFLINE_SETTING, False))
        finally:
            store.close()

    return check


def ensure_online(is_offline: OfflineCheck, action: str) -> None:
    """Raise OfflineError before any connection is made when offline mode is on."""
    if is_offline():
        raise OfflineError(
            f"Offline mode is on, so Openweight did not {action}. "
            "Turn it off in Settings to search or download models."
        )
    # Our own transfers bypass huggingface_hub, so honour its offline switch here too.
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise OfflineError(
            f"Openweight did not {action}: the HF_HUB_OFFLINE environment variable forbids "
            "network access. Unset it to search or download models."
        )


def hub_endpoint() -> str:
    """HF_ENDPOINT is read on every call (not once at import), so it can point at a mirror."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def import_hub() -> ModuleType:
    """huggingface_hub, with its telemetry switched off before first use."""
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    import huggingface_hub
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True
    # Its retry notices ("Retrying in 8s") would spill onto the terminal; ours say it better.
    from huggingface_hub.utils import logging as hub_logging

    hub_logging.set_verbosity_error()
    return huggingface_hub


def ensure_reachable(what: str, timeout: float = 4.0) -> None:
    """Fail in seconds, not after the Hub client's half-minute of retries, when there is no
    way to the Hub at all (no network, DNS down, a mirror that is off)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(hub_endpoint())
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise NetworkError(
            f"Could not {what}: the Hub at {host} could not be reached ({reason}). "
            "Check your internet connection and try again."
        ) from None


def http_module() -> Any:
    """The httpx-compatible module that huggingface_hub ships with (httpx2 since 2.0, httpx before)."""
    try:
        import httpx2

        return httpx2
    except ImportError:
        import httpx

        return httpx


def _named(exc: BaseException, *names: str) -> bool:
    return any(cls.__name__ in names for cls in type(exc).__mro__)


def describe_failure(exc: BaseException, what: str) -> LibraryError:
    """Turn a client-library exception into a LibraryError that says what to do."""
    if isinstance(exc, LibraryError):
        return exc
    if _named(exc, "OfflineModeIsEnabled"):
        return OfflineError(
            f"Could not {what}: the HF_HUB_OFFLINE environment variable forbids network access. "
            "Unset it to search or download models."
        )
    if _named(exc, "GatedRepoError"):
        return GatedModelError(
            f"Could not {what}: this model is gated, so its owners must approve you first. "
            "Accept its terms on the Hugging Face website, or pick another copy of the model."
        )
    if _named(exc, "RevisionNotFoundError"):
        return HubNotFoundError(f"Could not {what}: that version of the repository does not exist.")
    if _named(exc, "EntryNotFoundError", "RemoteEntryNotFoundError"):
        return HubNotFoundError(
            f"Could not {what}: the repository has no such file. List its files to see what it has."
        )
    if _named(exc, "RepositoryNotFoundError"):
        return HubNotFoundError(
            f"Could not {what}: no such repository on the Hub (check the spelling; "
            "private repositories are not supported)."
        )
    if _named(exc, "HfHubHTTPError", "HTTPStatusError"):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 429:
            return NetworkError(
                f"Could not {what}: the Hub is rate-limiting requests. Wait a minute and try again."
            )
        return NetworkError(
            f"Could not {what}: the Hub answered with an error ({status}). Try again later."
        )
    if _named(exc, "TimeoutException"):
        return NetworkError(
            f"Could not {what}: the Hub did not answer in time. Check your connection and try again."
        )
    if _named(exc, "TransportError", "ConnectionError"):
        return NetworkError(
            f"Could not {what}: the Hub could not be reached ({exc}). Check your internet connection and try again."
        )
    log.exception("unexpected failure while trying to %s", what, exc_info=exc)
    return LibraryError(f"Could not {what}: {exc}")
