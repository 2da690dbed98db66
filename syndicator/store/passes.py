"""The record of every pass: one row per (run id, cooperative, channel), for ``syndicator
status``, the daemon's alerts and its metrics.

A pass ends in one of four outcomes (:func:`pass_outcome`, the one place for the rule):

- ``ok``: everything sent was confirmed (or nothing needed sending);
- ``partial``: some changes were refused or failed; the channel itself works (it confirmed
  others, or only said no to items: a catalog or config matter, not the channel's);
- ``failed``: nothing went through, and not only because the channel said no to items: it
  could not take them (timeouts, 5xx, no quota left);
- ``stopped``: nothing (more) went to the channel: it refused its credentials, did not
  answer, the pass would have taken too many listings off sale, or the catalog could not
  be read.

Its counts are kept as JSON, so that a new kind of pass can count new things; the ones a
sync pass writes are listed in :func:`run_counts`. Portable SQL only (SQLite, PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, select

from syndicator.store.schema import journal, passes
from syndicator.store.sql import upsert

__all__ = [
    "ERROR_OUTCOMES",
    "OUTCOMES",
    "PassRecord",
    "RunLike",
    "last_passes",
    "pass_outcome",
    "quota_accounts",
    "recent_passes",
    "record_pass",
    "record_run",
    "run_counts",
]

OUTCOMES = ("ok", "partial", "failed", "stopped")

# Journal outcomes that say something went wrong, in the channel's words.
ERROR_OUTCOMES = ("failed", "stopped", "refused")


@dataclass(frozen=True, slots=True)
class PassRecord:
    """One pass on one channel, as recorded."""

    run_id: str
    cooperative: str
    channel: str
    kind: str  # what triggered it: sync, push, orders, reviews, readback
    started_at: datetime
    finished_at: datetime
    outcome: str  # ok, partial, failed, stopped
    counts: dict[str, Any]
    last_error: str | None = None  # in the channel's own words
    quota_account: str | None = None

    @property
    def seconds(self) -> float:
        """How long the pass took."""
        return (self.finished_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "cooperative": self.cooperative,
            "channel": self.channel,
            "kind": self.kind,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "outcome": self.outcome,
            "counts": self.counts,
            "last_error": self.last_error,
        }


def pass_outcome(*, confirmed: int, refused: int, failed: int, stopped: bool) -> str:
    """How a pass ended, from what it counted (see the module's doc)."""
    if stopped:
        return "stopped"
    if failed and not confirmed:
        return "failed"
    return "partial" if refused or failed else "ok"


def record_pass(conn: Connection, record: PassRecord) -> None:
    """Write ``record``; recording the same (run id, cooperative, channel) again replaces it."""
    if record.outcome not in OUTCOMES:
        raise ValueError(f"pass outcome {record.outcome!r} is not one of {OUTCOMES}")
    row = {
        "run_id": record.run_id,
        "cooperative": record.cooperative,
        "channel": record.channel,
        "kind": record.kind,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "outcome": record.outcome,
        "counts": record.counts,
        "last_error": record.last_error,
        "quota_account": record.quota_account,
    }
    upsert(conn, passes, [row], ("run_id", "cooperative", "channel"))


class RunLike(Protocol):
    """What a pass knows about one channel (:class:`syndicator.sync.reconcile.ChannelRun`)."""

    @property
    def cooperative(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def orders(self) -> int: ...
    @property
    def order_lines(self) -> int: ...
    @property
    def reviews(self) -> int: ...
    @property
    def done(self) -> Mapping[str, int]: ...
    @property
    def failed(self) -> Mapping[str, int]: ...
    @property
    def drift(self) -> int: ...
    @property
    def stopped(self) -> str | None: ...


def run_counts(run: RunLike, refused: int) -> dict[str, Any]:
    """The counts of a sync pass on one channel.

    ``sent``: changes sent; ``confirmed``: the channel confirmed them; ``refused``: the
    channel said no (the catalog or the config needs fixing); ``failed``: could not be done
    this time (a timeout, a 5xx, no quota left: tried again in a later pass); ``orders``:
    orders seen, ``order_lines``: stock movements new to the ledger; ``reviews``: reviews
    pulled; ``drift``: listings found changed on the channel; ``actions``: confirmed and not
    per action (create, update, reprice, restock, delist, delete)."""
    confirmed = sum(run.done.values())
    not_done = sum(run.failed.values())
    refused = min(refused, not_done)
    actions = {
        action: {"confirmed": run.done.get(action, 0), "not_done": run.failed.get(action, 0)}
        for action in sorted(set(run.done) | set(run.failed))
    }
    return {
        "sent": confirmed + not_done,
        "confirmed": confirmed,
        "refused": refused,
        "failed": not_done - refused,
        "orders": run.orders,
        "order_lines": run.order_lines,
        "reviews": run.reviews,
        "drift": run.drift,
        "actions": actions,
    }


def record_run(
    conn: Connection,
    run: RunLike,
    *,
    run_id: str,
    kind: str,
    started_at: datetime,
    finished_at: datetime,
    problem: str | None = None,
    quota_account: str | None = None,
) -> PassRecord:
    """Record what a sync pass did on one channel. The journal of the run tells refused
    from failed items and gives the last error in the channel's words; ``problem`` (a
    catalog that could not be read) stops the pass on every channel of the cooperative."""
    j = journal.c
    errors = conn.execute(
        select(j.outcome, j.message, j.details)
        .where(
            j.cooperative == run.cooperative,
            j.channel == run.channel,
            j.at >= started_at,
            j.run_id == run_id,
            j.outcome.in_(ERROR_OUTCOMES),
        )
        .order_by(j.at, j.id)
    ).all()
    refused = sum(
        1
        for outcome, _, details in errors
        if outcome == "failed" and not (details or {}).get("retryable", False)
    )
    counts = run_counts(run, refused)
    stopped = run.stopped or problem
    last_error = errors[-1].message if errors else None
    record = PassRecord(
        run_id=run_id,
        cooperative=run.cooperative,
        channel=run.channel,
        kind=kind,
        started_at=started_at,
        finished_at=finished_at,
        outcome=pass_outcome(
            confirmed=counts["confirmed"],
            refused=counts["refused"],
            failed=counts["failed"],
            stopped=stopped is not None,
        ),
        counts=counts,
        last_error=last_error or stopped,
        quota_account=quota_account,
    )
    record_pass(conn, record)
    return record


_COLUMNS = (
    passes.c.run_id,
    passes.c.cooperative,
    passes.c.channel,
    passes.c.kind,
    passes.c.started_at,
    passes.c.finished_at,
    passes.c.outcome,
    passes.c.counts,
    passes.c.last_error,
    passes.c.quota_account,
)


def last_passes(
    conn: Connection, cooperative: str | None = None, kind: str | None = None
) -> dict[tuple[str, str], PassRecord]:
    """The newest pass (of ``kind``, when given) on each (cooperative, channel)."""
    p = passes.c
    newest = select(p.cooperative, p.channel, func.max(p.id).label("id")).group_by(
        p.cooperative, p.channel
    )
    if cooperative is not None:
        newest = newest.where(p.cooperative == cooperative)
    if kind is not None:
        newest = newest.where(p.kind == kind)
    latest = newest.subquery()
    query = select(*_COLUMNS).join(latest, latest.c.id == p.id)
    return {(r.cooperative, r.channel): PassRecord(**r._mapping) for r in conn.execute(query)}


def recent_passes(
    conn: Connection,
    *,
    cooperative: str | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[PassRecord]:
    """The newest passes first, filtered."""
    p = passes.c
    query = select(*_COLUMNS)
    if cooperative is not None:
        query = query.where(p.cooperative == cooperative)
    if channel is not None:
        query = query.where(p.channel == channel)
    if since is not None:
        query = query.where(p.finished_at >= since)
    query = query.order_by(p.finished_at.desc(), p.id.desc()).limit(limit)
    return [PassRecord(**r._mapping) for r in conn.execute(query)]


def quota_accounts(conn: Connection, cooperative: str | None = None) -> dict[tuple[str, str], str]:
    """The quota account each (cooperative, channel) last drew from, as its passes say."""
    p = passes.c
    newest = (
        select(p.cooperative, p.channel, func.max(p.id).label("id"))
        .where(p.quota_account.is_not(None))
        .group_by(p.cooperative, p.channel)
    )
    if cooperative is not None:
        newest = newest.where(p.cooperative == cooperative)
    latest = newest.subquery()
    query = select(p.cooperative, p.channel, p.quota_account).join(latest, latest.c.id == p.id)
    return {(r.cooperative, r.channel): r.quota_account for r in conn.execute(query)}
