"""Credentials a channel rotates, kept in the store (Etsy's refresh token works once).

The config names where an operator's credential lives (an env variable, a file); the store
keeps what the channel rotated it into, tagged with a hash of the configured value it
descends from. So a rotated token outlives a restart, and an operator who puts a new token
in the config (after re-authorising the app) wins over the chain of the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from syndicator.common.logs import add_secrets
from syndicator.store.db import Store
from syndicator.store.schema import channel_tokens
from syndicator.store.sql import upsert

__all__ = ["StoreTokens", "is_secret_name", "stored_secrets"]


SECRET_WORDS = ("token", "secret", "key", "password")


def is_secret_name(name: str) -> bool:
    """Whether a stored value of this name is a credential (to mask in logs), not an expiry
    time or a cursor a connector keeps here."""
    return not name.startswith("cursor_") and any(w in name for w in SECRET_WORDS)


def stored_secrets(store: Store) -> list[str]:
    """The rotated values in the store that are credentials (not expiry times nor cursors),
    for the log's redactor; nothing when the store cannot be read."""
    try:
        with store.read() as conn:
            rows = conn.execute(select(channel_tokens.c.name, channel_tokens.c.value)).all()
    except Exception:
        return []
    return [str(value) for name, value in rows if value and is_secret_name(str(name))]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class StoreTokens:
    """The rotated credentials of one (cooperative, channel).

    ``configured``: the credential values from the config. ``load`` gives the newest value
    of a name; ``save`` stores new values together. :meth:`exclusive` holds the store's
    write lock for a refresh, so two workers never spend the same refresh token.
    """

    def __init__(
        self,
        store: Store,
        cooperative: str,
        channel: str,
        configured: Mapping[str, str],
        _conn: Connection | None = None,
    ) -> None:
        self.store = store
        self.cooperative = cooperative
        self.channel = channel
        self.configured = configured
        self._conn = _conn

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
            return str(row.value)
        return configured

    def _save(self, conn: Connection, values: Mapping[str, str]) -> None:
        now = datetime.now(UTC)
        upsert(
            conn,
            channel_tokens,
            [
                {
                    "cooperative": self.cooperative,
                    "channel": self.channel,
                    "name": name,
                    "value": value,
                    "source_digest": _digest(self.configured[name])
                    if name in self.configured
                    else None,
                    "updated_at": now,
                }
                for name, value in values.items()
            ],
            ("cooperative", "channel", "name"),
        )
        # A token just rotated is masked in every log line from now on.
        add_secrets(*(v for n, v in values.items() if v and is_secret_name(n)))

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
            yield StoreTokens(self.store, self.cooperative, self.channel, self.configured, conn)
