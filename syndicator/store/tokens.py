"""Credentials a channel rotates, kept in the store (Etsy's refresh token works once).

The config names where an operator's credential lives (an env variable, a file); the store
keeps what the channel rotated it into, tagged with a hash of the configured value it
descends from. So a rotated token outlives a restart, and an operator who puts a new token
in the config (after re-authorising the app) wins over the chain of the old one.

Kept encrypted (Fernet: AES-128-CBC and HMAC-SHA256) when the config gives ``store.key``
(:class:`TokenCipher`); without one, in plain text, with a warning: the store file is then
as secret as the tokens (docs/security.md). Every value loaded or saved is handed to the
store's and the log's redactors, so no message ever shows it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.engine import Connection

from syndicator.common.logs import add_secrets, get_logger
from syndicator.errors import SetupError
from syndicator.store.db import Store
from syndicator.store.schema import channel_tokens
from syndicator.store.sql import upsert

__all__ = ["KEY_MIN_LENGTH", "StoreTokens", "TokenCipher", "is_secret_name", "stored_secrets"]

log = get_logger("syndicator.store")

SECRET_WORDS = ("token", "secret", "key", "password")
SEALED = "fernet:"  # a stored value that starts so is encrypted
KEY_MIN_LENGTH = 16


def is_secret_name(name: str) -> bool:
    """Whether a stored value of this name is a credential (to mask in logs), not an expiry
    time or a cursor a connector keeps here."""
    return not name.startswith("cursor_") and any(w in name for w in SECRET_WORDS)


class TokenCipher:
    """Encrypts stored credentials with the operator's key (``store.key``, any string of
    at least :data:`KEY_MIN_LENGTH` characters: the Fernet key is its SHA-256)."""

    def __init__(self, key: str) -> None:
        if len(key) < KEY_MIN_LENGTH:
            raise ValueError(
                f"store.key is shorter than {KEY_MIN_LENGTH} characters; use a random one, "
                "such as the output of: openssl rand -base64 32"
            )
        digest = hashlib.sha256(b"syndicator store.key\0" + key.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    @classmethod
    def of(cls, key: str | None) -> TokenCipher | None:
        return None if key is None else cls(key)

    def seal(self, value: str) -> str:
        return SEALED + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, value: str) -> str:
        """The plain value of a sealed one (InvalidToken: another key sealed it)."""
        return self._fernet.decrypt(value.removeprefix(SEALED).encode("ascii")).decode("utf-8")


def stored_secrets(store: Store, cipher: TokenCipher | None = None) -> list[str]:
    """The rotated values in the store that are credentials (not expiry times nor cursors),
    for the log's redactor; an encrypted one only when ``cipher`` opens it; nothing when
    the store cannot be read."""
    try:
        with store.read() as conn:
            rows = conn.execute(select(channel_tokens.c.name, channel_tokens.c.value)).all()
    except Exception:
        return []
    found: list[str] = []
    for name, value in rows:
        if not value or not is_secret_name(str(name)):
            continue
        if not str(value).startswith(SEALED):
            found.append(str(value))
        elif cipher is not None:
            try:
                found.append(cipher.open(str(value)))
            except (InvalidToken, ValueError):
                continue
    return found


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class StoreTokens:
    """The rotated credentials of one (cooperative, channel).

    ``configured``: the credential values from the config. ``load`` gives the newest value
    of a name; ``save`` stores new values together. :meth:`exclusive` holds the store's
    write lock for a refresh, so two workers never spend the same refresh token.
    ``cipher``: encrypts what is saved and opens what is loaded (None: plain text, with
    one warning the first time a credential is saved).
    """

    def __init__(
        self,
        store: Store,
        cooperative: str,
        channel: str,
        configured: Mapping[str, str],
        _conn: Connection | None = None,
        *,
        cipher: TokenCipher | None = None,
        _warned: list[bool] | None = None,
    ) -> None:
        self.store = store
        self.cooperative = cooperative
        self.channel = channel
        self.configured = configured
        self.cipher = cipher
        self._conn = _conn
        self._warned = _warned if _warned is not None else [False]
        self._hide(*configured.values())

    def _hide(self, *values: str) -> None:
        """Mask these values in the store's messages and in the log from now on."""
        self.store.redactor.add(*values)
        add_secrets(*values)

    def _open(self, name: str, value: str) -> str:
        if not value.startswith(SEALED):
            return value
        where = f"{self.cooperative}/{self.channel}"
        if self.cipher is None:
            raise SetupError(
                f"{where}: the stored {name} is encrypted, and the config gives no store.key; "
                "give the key it was encrypted with"
            )
        try:
            return self.cipher.open(value)
        except (InvalidToken, ValueError):
            raise SetupError(
                f"{where}: the stored {name} cannot be decrypted with store.key (was the key "
                "changed?); give the key it was encrypted with, or re-authorise the app and "
                "put the new refresh token in the config"
            ) from None

    def _load(self, conn: Connection, name: str) -> str | None:
        row = conn.execute(
            select(channel_tokens.c.value, channel_tokens.c.source_digest).where(
                channel_tokens.c.cooperative == self.cooperative,
                channel_tokens.c.channel == self.channel,
                channel_tokens.c.name == name,
            )
        ).first()
        configured = self.configured.get(name)
        if row is not None and (configured is None or row.source_digest == _digest(configured)):
            value = self._open(name, str(row.value))
            if is_secret_name(name):
                self._hide(value)
            return value
        return configured

    def _save(self, conn: Connection, values: Mapping[str, str]) -> None:
        now = datetime.now(UTC)
        secret = {n for n, v in values.items() if v and is_secret_name(n)}
        # A token just rotated is masked in every message and log line from now on.
        self._hide(*(values[n] for n in secret))
        if secret and self.cipher is None and not self._warned[0]:
            self._warned[0] = True
            log.warning(
                "tokens_not_encrypted",
                cooperative=self.cooperative,
                channel=self.channel,
                hint="the store keeps this channel's tokens in plain text: give store.key "
                "(docs/security.md), and keep the store file readable by this user only",
            )
        upsert(
            conn,
            channel_tokens,
            [
                {
                    "cooperative": self.cooperative,
                    "channel": self.channel,
                    "name": name,
                    "value": self.cipher.seal(value)
                    if self.cipher is not None and name in secret
                    else value,
                    "source_digest": _digest(self.configured[name])
                    if name in self.configured
                    else None,
                    "updated_at": now,
                }
                for name, value in values.items()
            ],
            ("cooperative", "channel", "name"),
        )

    def load(self, name: str) -> str | None:
        if self._conn is not None:
            return self._load(self._conn, name)
        with self.store.read() as conn:
            return self._load(conn, name)

    def save(self, values: Mapping[str, str]) -> None:
        if self._conn is not None:
            self._save(self._conn, values)
            return
        with self.store.write() as conn:
            self._save(conn, values)

    @contextmanager
    def exclusive(self) -> Iterator[StoreTokens]:
        """The same tokens inside one write transaction: load, refresh at the channel, save,
        and no other worker refreshes in between. Keep it short (one HTTP call)."""
        if self._conn is not None:
            yield self
            return
        with self.store.write() as conn:
            yield StoreTokens(
                self.store,
                self.cooperative,
                self.channel,
                self.configured,
                conn,
                cipher=self.cipher,
                _warned=self._warned,
            )
