"""The journal: what was sent to each channel and what it answered, in its own words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from syndicator.store.schema import journal

__all__ = ["JournalEntry", "query_journal", "write_journal"]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    at: datetime
    run_id: str
    cooperative: str
    channel: str
    sku: str | None
    action: str
    attempt: int
    outcome: str  # ok, failed, skipped, drift, info
    message: str | None
    details: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "run_id": self.run_id,
            "cooperative": self.cooperative,
            "channel": self.channel,
            "sku": self.sku,
            "action": self.action,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "message": self.message,
            "details": self.details,
        }


def write_journal(conn: Connection, entries: Iterable[JournalEntry]) -> None:
    rows = [
        {
            "at": e.at,
            "run_id": e.run_id,
            "cooperative": e.cooperative,
            "channel": e.channel,
            "sku": e.sku,
            "action": e.action,
            "attempt": e.attempt,
            "outcome": e.outcome,
            "message": e.message,
            "details": e.details,
        }
        for e in entries
    ]
    if rows:
        conn.execute(journal.insert(), rows)


def query_journal(
    conn: Connection,
    *,
    cooperative: str | None = None,
    channel: str | None = None,
    sku: str | None = None,
    outcome: str | None = None,
    action: str | None = None,
    run_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[JournalEntry]:
    """The newest entries first, filtered."""
    c = journal.c
    query = select(
        c.at,
        c.run_id,
        c.cooperative,
        c.channel,
        c.sku,
        c.action,
        c.attempt,
        c.outcome,
        c.message,
        c.details,
    )
    for column, value in (
        (c.cooperative, cooperative),
        (c.channel, channel),
        (c.sku, sku),
        (c.outcome, outcome),
        (c.action, action),
        (c.run_id, run_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(c.at >= since)
    query = query.order_by(c.at.desc(), c.id.desc()).limit(limit)
    return [JournalEntry(**row._mapping) for row in conn.execute(query)]
