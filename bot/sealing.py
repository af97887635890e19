"""Secrets kept in the database (installed workspaces' bot tokens) are sealed with BOT_ENCRYPTION_KEY: Fernet
(AES-128-CBC with an HMAC-SHA256), several keys through MultiFernet, so that the key can be rotated: the first
key seals, every key opens."""

from __future__ import annotations

import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import StorageError

MAKE_A_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def _fernets(keys: str) -> list[Fernet]:
    parts = [part.strip() for part in keys.split(",") if part.strip()]
    if not parts:
        raise ValueError(f"names no key; make one with {MAKE_A_KEY}")
    try:
        return [Fernet(part) for part in parts]
    except (ValueError, binascii.Error) as exc:
        # Fernet's own message is safe (it never echoes the key), but says nothing of how to make one.
        raise ValueError(f"each key must be 32 url-safe base64-encoded bytes; make one with {MAKE_A_KEY}") from exc


def check_keys(keys: str) -> None:
    """Raise a ValueError, never naming a key, unless `keys` is a comma-separated list of Fernet keys."""
    _fernets(keys)


class Sealer:
    """Seals and opens secrets with BOT_ENCRYPTION_KEY's keys."""

    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet(_fernets(keys))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret; StorageError if no key opens it (the key that sealed it was removed, or it was changed)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise StorageError("A secret in the database cannot be read with BOT_ENCRYPTION_KEY.") from exc
