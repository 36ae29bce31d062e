"""The API key: made with `secrets`, shown once, kept only as a hash in the settings.

A hash is enough to check a key and useless to anyone who reads the database, so the key
itself never needs to be written down anywhere on this computer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from desktop.store.settings import Settings

KEY_HASH = "server.api_key_sha256"
KEY_PREFIX = "ow-"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def stored_hash(settings: Settings) -> str | None:
    value = settings.get(KEY_HASH)
    return str(value) if value else None


def set_key(settings: Settings, key: str | None) -> None:
    """Keep the hash of key (None forgets the key: loopback clients then need none)."""
    settings.set(KEY_HASH, hash_key(key) if key else None)


def key_matches(expected_hash: str, given: str) -> bool:
    return hmac.compare_digest(expected_hash, hash_key(given))


def is_loopback(host: str) -> bool:
    """True for addresses only this computer can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_key(settings: Settings, host: str, given: str | None,
                new: bool = False) -> tuple[str | None, str | None]:
    """The key hash to require (None: no key), and a key to show once (made just now).

    Bound to an address other computers can reach, a key is always required: one is made
    when none is set. On loopback a key is required only if one is set.
    """
    if given:
        set_key(settings, given)
        return hash_key(given), None
    current = stored_hash(settings)
    if new or (current is None and not is_loopback(host)):
        key = new_key()
        set_key(settings, key)
        return hash_key(key), key
    return current, None
