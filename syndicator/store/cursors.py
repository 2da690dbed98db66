"""Cursors: where each (cooperative, channel) stream goes on from (orders, reviews, marks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from syndicator.store.schema import cursors
from syndicator.store.sql import upsert

__all__ = ["read_cursor", "write_cursor"]


def read_cursor(conn: Connection, cooperative: str, channel: str, stream: str) -> str | None:
    c = cursors.c
    return conn.execute(
        select(c.value).where(
            c.cooperative == cooperative, c.channel == channel, c.stream == stream
        )
    ).scalar_one_or_none()


def write_cursor(
    conn: Connection, cooperative: str, channel: str, stream: str, value: str, now: datetime
) -> None:
    row = {
        "cooperative": cooperative,
        "channel": channel,
        "stream": stream,
        "value": value,
        "updated_at": now,
    }
    upsert(conn, cursors, [row], ("cooperative", "channel", "stream"))
