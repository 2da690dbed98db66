"""The reconcile pass: orders in, stock out, for every channel of a cooperative.

One pass over a cooperative (``syndicator sync --once``):

1. **Orders**, from every channel that has them, since each channel's cursor (the connector
   starts a little earlier: pages overlap on purpose). Each page's order lines go into the
   stock ledger with the cursor that follows them, in one transaction; a line already there
   is not counted again. All channels are pulled *before* anything is planned, so a sale on
   one channel reaches every other channel in this same pass.
2. **Read-back** (``readback=True``): what each channel shows now, against what it last
   confirmed; drift is journalled, and with ``sync.drift: correct`` sent back to the
   catalog's version in step 4.
3. **Plan** (:func:`syndicator.planning.plan.make_plan`), then record the stock counts the catalog
   changed and raise an alert for every SKU sold more than there was (an oversell: two
   channels sold the last piece before either knew).
4. **Execute** each channel's operations through its connector, in batches. A create is
   marked ``pending`` before it is sent (the connector looks the SKU up before creating
   again, so a pass killed in between creates nothing twice); each outcome is saved with
   the listing state it confirms (:func:`syndicator.planning.operations.confirmed_state`) and
   journalled with the channel's own words. A channel that refuses its credentials stops
   and raises an alert; the others go on. A pass that would delist more than
   ``sync.max_delist_share`` of a channel's listings sends nothing to that channel until
   run with ``confirm_delist``.
5. **Reviews**, when asked (``reviews=True``), into the review store.

A pass is a unit of work on one cooperative: it keeps nothing between runs but what is in
the store, so it can run in any process.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from syndicator.channels.interface import Connector, ItemOutcome, ListingChange, RemoteListing
from syndicator.common.bulk import paused_gc
from syndicator.common.logs import get_logger
from syndicator.config import ChannelConfig, Config, CooperativeConfig
from syndicator.domain.listings import ListingState
from syndicator.errors import ChannelError, QuotaWait, StoreError
from syndicator.planning.availability import new_counts
from syndicator.planning.marks import Sent, keep_marks
from syndicator.planning.model import ChannelPlan, CooperativePlan
from syndicator.planning.operations import (
    REMOVED,
    WRITE_ACTIONS,
    Action,
    PlannedOp,
    confirmed_state,
)
from syndicator.planning.plan import make_plan
from syndicator.plugins import Capability
from syndicator.reviews.records import record_reviews
from syndicator.store import Store
from syndicator.store.alerts import raise_alert, resolve_alerts
from syndicator.store.cursors import read_cursor, write_cursor
from syndicator.store.journal import JournalEntry, write_journal
from syndicator.store.ledger import load_stock_counts, record_orders, sales_since, save_stock_counts
from syndicator.store.listings import (
    listed_count,
    listing_attempts,
    load_listings,
    mark_drift,
    mark_gone,
    mark_pending,
    mark_unsure,
    mark_verified,
    record_failure,
    rekey_listings,
    reset_attempts,
    save_listings,
    unverified,
)
from syndicator.store.passes import record_run
from syndicator.sync.opener import open_connector

__all__ = ["ChannelRun", "Drift", "SyncReport", "drift_of", "record_plan", "sync_once"]

log = get_logger("syndicator.sync")


@dataclass(slots=True)
class ChannelRun:
    """What one pass did on one channel."""

    cooperative: str
    channel: str
    orders: int = 0  # orders seen
    order_lines: int = 0  # ledger lines new to the store
    reviews: int = 0
    done: Counter[str] = field(default_factory=Counter)  # action -> confirmed
    failed: Counter[str] = field(default_factory=Counter)  # action -> failed
    drift: int = 0
    stopped: str | None = None  # why nothing (more) was sent to this channel
    quiet: bool = False  # nothing changed since the last pass that had nothing to do
    confirmed: set[str] = field(default_factory=set)  # SKUs whose change the channel confirmed

    def to_json(self) -> dict[str, object]:
        return {
            "cooperative": self.cooperative,
            "channel": self.channel,
            "orders": self.orders,
            "order_lines": self.order_lines,
            "reviews": self.reviews,
            "done": dict(self.done),
            "failed": dict(self.failed),
            "drift": self.drift,
            "stopped": self.stopped,
            "quiet": self.quiet,
        }


@dataclass(slots=True)
class SyncReport:
    run_id: str
    channels: list[ChannelRun] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unreadable and all(
            not c.failed and c.stopped is None for c in self.channels
        )


Progress = Callable[[str, int, int], None]  # (what, done, total)


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class _Pass:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        confirm_delist: bool,
        readback: bool,
        reviews: bool,
        timeout: float,
        progress: Progress | None,
        run_id: str,
        kind: str = "sync",
        orders_from: Collection[str] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_throttled: Callable[[str, str], None] | None = None,
        keep: dict[tuple[str, str], Connector] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.confirm_delist = confirm_delist
        self.readback = readback
        self.reviews = reviews
        self.timeout = timeout
        self.progress = progress
        self.run_id = run_id
        self.kind = kind
        self.orders_from = orders_from
        self.should_stop = should_stop or (lambda: False)
        self.on_throttled = on_throttled
        self.keep = keep
        self.report = SyncReport(run_id)
        self._connectors: dict[tuple[str, str], Connector | None] = {}

    # ------------------------------------------------------------------ helpers
    def connector(self, coop: str, ch: ChannelConfig, run: ChannelRun) -> Connector | None:
        key = (coop, ch.id)
        if key not in self._connectors and self.keep is not None and key in self.keep:
            self._connectors[key] = self.keep.pop(key)
        if key not in self._connectors:
            try:
                self._connectors[key] = open_connector(
                    self.config,
                    self.store,
                    coop,
                    ch.id,
                    timeout=self.timeout,
                    on_throttled=self.on_throttled,
                )
            except ChannelError as exc:
                self._stop(run, exc)
                self._connectors[key] = None
        return self._connectors[key]

    def close(self) -> None:
        """Close the connectors opened for this pass; with a ``keep`` pool (the daemon's),
        hand the good ones to it instead, so that the next pass reuses their HTTP clients
        (opening TLS contexts at every pass costs CPU and, kept by the allocator, memory).
        One whose channel stopped (wrong credentials ...) is closed: the next pass opens it
        afresh, with whatever the operator fixed."""
        stopped = {(r.cooperative, r.channel) for r in self.report.channels if r.stopped}
        for key, connector in self._connectors.items():
            if connector is None:
                continue
            if self.keep is not None and key not in stopped:
                self.keep[key] = connector
            else:
                connector.close()

    def journal(self, *entries: JournalEntry) -> None:
        with self.store.write() as conn:
            write_journal(conn, entries)

    def entry(
        self,
        run: ChannelRun,
        sku: str | None,
        action: str,
        outcome: str,
        message: str | None,
        attempt: int = 1,
        details: dict[str, object] | None = None,
    ) -> JournalEntry:
        return JournalEntry(
            _now(),
            self.run_id,
            run.cooperative,
            run.channel,
            sku,
            action,
            attempt,
            outcome,
            message,
            details,
        )

    def _stop(self, run: ChannelRun, exc: BaseException) -> None:
        """Nothing more goes to this channel in this pass; alert when it needs a person.
        What the channel or its library said may quote a credential: the report a caller
        prints or logs gets it masked, as the store keeps it."""
        said = self.store.redactor.redact(str(exc))
        run.stopped = said
        # DEBUG: the daemon logs a channel's failure once and its recovery once (FailureLog).
        log.debug("%s/%s stopped: %s", run.cooperative, run.channel, said)
        now = _now()
        with self.store.write() as conn:
            if isinstance(exc, ChannelError) and exc.stops_channel:
                kind = "auth"
                if raise_alert(
                    conn,
                    cooperative=run.cooperative,
                    channel=run.channel,
                    kind=kind,
                    key=run.channel,
                    message=said,
                    now=now,
                ):
                    self.report.alerts.append(f"{run.cooperative}/{run.channel}: {said}")
            write_journal(conn, [self.entry(run, None, "pass", "stopped", said)])

    # ------------------------------------------------------------------ 1. orders
    def pull_orders(self, coop: CooperativeConfig, ch: ChannelConfig, run: ChannelRun) -> None:
        connector = self.connector(coop.id, ch, run)
        if connector is None or Capability.ORDERS not in connector.capabilities:
            return
        with self.store.read() as conn:
            since = _parse_time(read_cursor(conn, coop.id, ch.id, "orders"))
        try:
            for page in connector.pull_orders(since):
                now = _now()
                with self.store.write() as conn:
                    result = record_orders(conn, coop.id, ch.id, page.orders, now)
                    # The channel moved its own listed stock for these: work them out again.
                    mark_unsure(conn, coop.id, ch.id, sorted(result.skus), now)
                    if page.watermark is not None:
                        write_cursor(
                            conn, coop.id, ch.id, "orders", page.watermark.isoformat(), now
                        )
                    if result.unknown:
                        lines = ", ".join(result.unknown)
                        why = f"order lines without a SKU of ours: {lines}"
                        write_journal(conn, [self.entry(run, None, "orders", "skipped", why)])
                run.orders += result.orders
                run.order_lines += result.lines
        except (ChannelError, QuotaWait) as exc:
            self._stop(run, exc)

    # ------------------------------------------------------------------ 2. read-back
    def read_back(self, coop: CooperativeConfig, ch: ChannelConfig, run: ChannelRun) -> None:
        """Every listing the channel should show, read back before planning (the daemon's
        ``schedule.readback``, ``sync --readback``)."""
        with self.store.read() as conn:
            states = {s.sku: s for s in load_listings(conn, coop.id, ch.id).values() if s.listed}
        self._check(coop, ch, run, states)

    def verify(self, coop: CooperativeConfig, ch: ChannelConfig, run: ChannelRun) -> None:
        """At the end of a pass: the listings answered but not read back since (this pass's
        writes, and those an earlier pass could not check), up to ``sync.verify_writes``."""
        most = self.config.sync.verify_writes
        if most <= 0 or self.should_stop():
            return
        with self.store.read() as conn:
            states = unverified(conn, coop.id, ch.id, most)
        self._check(coop, ch, run, states)

    def _check(
        self,
        coop: CooperativeConfig,
        ch: ChannelConfig,
        run: ChannelRun,
        states: Mapping[str, ListingState],
    ) -> None:
        """What the channel shows of ``states``, against what it confirmed: the read-back is
        the truth. Equal: in sync. Gone: made again. More stock than confirmed, or a draft:
        corrected whatever ``sync.drift`` says. Another price or less stock: corrected, or
        with ``sync.drift: report`` left as the shop shows it and reported."""
        if not states:
            return
        connector = self.connector(coop.id, ch, run)
        if connector is None:
            return
        if Capability.READ_BACK not in connector.capabilities:
            return
        try:
            shown = {r.sku: r for r in connector.read_back(sorted(states))}
        except (ChannelError, QuotaWait) as exc:  # not read: they stay unchecked
            log.debug("%s/%s read-back failed: %s", coop.id, ch.id, exc)
            # Not a refusal: nothing was asked of the shop; the next pass reads them again.
            details: dict[str, object] = {"retryable": True, "skus": len(states)}
            self.journal(self.entry(run, None, "readback", "failed", str(exc), details=details))
            return
        same: list[str] = []
        gone: list[str] = []
        fix: list[str] = []
        kept: dict[str, str] = {}
        entries = []
        for sku, state in states.items():
            found = drift_of(state, shown.get(sku))
            if found is None:
                same.append(sku)
                continue
            run.drift += 1
            run.confirmed.discard(sku)  # not in step after all: no quiet mark on it
            if found.gone:
                gone.append(sku)
            elif found.urgent or self.config.sync.drift == "correct":
                fix.append(sku)
            else:
                kept[sku] = found.why
            what = "left as the shop shows it" if sku in kept else "the catalog's sent again"
            entries.append(self.entry(run, sku, "readback", "drift", f"{found.why}; {what}"))
            log.warning(
                "listing_drift", cooperative=coop.id, channel=ch.id, sku=sku, drift=found.why,
                then=what, run_id=self.run_id,
            )  # fmt: skip
        now = _now()
        with self.store.write() as conn:
            write_journal(conn, entries)
            mark_verified(conn, coop.id, ch.id, same, now)
            mark_gone(conn, coop.id, ch.id, gone, now)
            mark_unsure(conn, coop.id, ch.id, fix, now)
            mark_drift(conn, coop.id, ch.id, kept, now)

    # ------------------------------------------------------------------ 3. after planning
    def after_plan(self, cplan: CooperativePlan) -> None:
        for message in record_plan(self.store, cplan, _now()):
            self.report.alerts.append(f"{cplan.cooperative.id}: {message}")
            log.error("oversell: %s", message)

    def mark(self, cplan: CooperativePlan, runs: Mapping[str, ChannelRun], whole: bool) -> None:
        """What the next pass starts from, in one transaction once this one has sent all it
        could: quiet marks, and with ``whole`` (every channel of the cooperative planned)
        the basis (syndicator/planning/marks.py)."""
        if all(c.quiet for c in cplan.channels):
            return  # every channel quiet: their marks and the basis hold as they are
            # (a drift the end of the pass found changed the channel's listings in the
            # store, and with them its mark: the next pass plans it)
        faults = {c.channel.id for c in cplan.channels if c.faults}  # tried again next pass
        sent = {
            channel: Sent(
                frozenset(run.confirmed),
                run.stopped is None and not run.failed and not run.drift and channel not in faults,
            )
            for channel, run in runs.items()
        }
        with self.store.write() as conn:
            keep_marks(conn, cplan, _now(), sent, whole=whole)

    # ------------------------------------------------------------------ 4. execute
    def execute(self, coop: CooperativeConfig, chplan: ChannelPlan, run: ChannelRun) -> None:
        ops = [op for op in chplan.ops if op.action in WRITE_ACTIONS]
        if self.config.sync.removed == "delete":
            ops = [
                replace(op, action=Action.DELETE)
                if op.action is Action.DELIST and op.reason == REMOVED
                else op
                for op in ops
            ]
        if not ops:
            return
        ch = chplan.channel
        connector = self.connector(coop.id, ch, run)
        if connector is None:
            return
        with self.store.read() as conn:
            states = load_listings(conn, coop.id, ch.id, [op.sku for op in ops])
            attempts = listing_attempts(conn, coop.id, ch.id, [op.sku for op in ops])
            # What goes off sale: listings the channel shows (a create in flight taken back
            # is not one of them, see plan_channel).
            delists = sum(
                1
                for op in ops
                if op.action in (Action.DELIST, Action.DELETE)
                and op.sku in states
                and states[op.sku].listed
            )
            listed = listed_count(conn, coop.id, ch.id) if delists else 0  # counting costs
        share = self.config.sync.max_delist_share
        if delists and listed and delists / listed > share and not self.confirm_delist:
            message = (
                f"this pass would take {delists} of the {listed} listings on {ch.id} off sale "
                f"(more than {share:.0%}); nothing was sent to {ch.id}. If the catalog is "
                "right, run again with --confirm-delist"
            )
            run.stopped = message
            with self.store.write() as conn:
                if raise_alert(
                    conn,
                    cooperative=coop.id,
                    channel=ch.id,
                    kind="mass_delist",
                    key=f"{ch.id}:{delists}/{listed}",
                    message=message,
                    now=_now(),
                ):
                    self.report.alerts.append(f"{coop.id}/{ch.id}: {message}")
                write_journal(conn, [self.entry(run, None, "delist", "refused", message)])
            return
        size = self.config.sync.batch_size
        for start in range(0, len(ops), size):
            batch = ops[start : start + size]
            if self.should_stop():
                run.stopped = "the daemon is stopping; the rest goes in the next pass"
                return
            if not self._send(coop, ch, run, connector, batch, states, attempts):
                return
            if self.progress:
                self.progress(f"{coop.id}/{ch.id}", min(start + size, len(ops)), len(ops))

    def _send(
        self,
        coop: CooperativeConfig,
        ch: ChannelConfig,
        run: ChannelRun,
        connector: Connector,
        batch: list[PlannedOp],
        states: dict[str, ListingState],
        attempts: dict[str, int],
    ) -> bool:
        changes = [
            ListingChange.from_op(
                op,
                states[op.sku].remote_id if op.sku in states else None,
                attempts.get(op.sku, 0) + 1,
            )
            for op in batch
        ]
        creates = [(op.sku, op.parent_sku) for op in batch if op.action is Action.CREATE]
        others = [op.sku for op in batch if op.action is not Action.CREATE]
        with self.store.write() as conn:  # in flight: see mark_pending and mark_unsure
            mark_pending(conn, coop.id, ch.id, creates, _now())
            mark_unsure(conn, coop.id, ch.id, others, _now())
        for change in changes:
            log.debug(
                "listing_sent", cooperative=coop.id, channel=ch.id, sku=change.sku,
                action=str(change.action), attempt=change.attempt, run_id=self.run_id,
            )  # fmt: skip
        try:
            outcomes = self._push(coop, ch, connector, changes)
        except (ChannelError, QuotaWait) as exc:
            retryable = not (isinstance(exc, ChannelError) and exc.stops_channel)
            outcomes = [
                ItemOutcome(c.sku, False, message=str(exc), retryable=retryable) for c in changes
            ]
            self._save(coop, ch, run, connector, batch, changes, outcomes)
            self._stop(run, exc)
            return False
        self._save(coop, ch, run, connector, batch, changes, outcomes)
        return True

    def _push(
        self,
        coop: CooperativeConfig,
        ch: ChannelConfig,
        connector: Connector,
        changes: list[ListingChange],
    ) -> list[ItemOutcome]:
        """The connector's outcomes for ``changes``. A failure of Syndicator's own (a bug a
        product brought out, not the channel's answer) fails only the products it concerns:
        the batch is sent again one by one, and each that fails so is recorded with the
        error, logged with its traceback, and tried again next pass."""
        try:
            return connector.push(changes)
        except (ChannelError, QuotaWait):
            raise
        except Exception as exc:
            if len(changes) > 1:
                return [o for c in changes for o in self._push(coop, ch, connector, [c])]
            (change,) = changes
            log.exception(
                "push_failed", cooperative=coop.id, channel=ch.id, sku=change.sku,
                run_id=self.run_id,
            )  # fmt: skip
            message = (
                f"Syndicator could not send it ({type(exc).__name__}: {exc}); this is a bug, "
                "please report it with the log line push_failed"
            )
            return [ItemOutcome(change.sku, False, message=message, retryable=True)]

    def _save(
        self,
        coop: CooperativeConfig,
        ch: ChannelConfig,
        run: ChannelRun,
        connector: Connector,
        batch: list[PlannedOp],
        changes: list[ListingChange],
        outcomes: list[ItemOutcome],
    ) -> None:
        by_sku = {o.sku: o for o in outcomes}
        now = _now()
        confirmed: list[ListingState] = []
        entries: list[JournalEntry] = []
        with self.store.write() as conn:
            for op, change in zip(batch, changes, strict=True):
                outcome = by_sku.get(op.sku) or ItemOutcome(
                    op.sku, False, message="the connector gave no outcome", retryable=True
                )
                details: dict[str, object] = {"remote_id": outcome.remote_id}
                if outcome.code:
                    details["code"] = outcome.code
                if outcome.warnings:
                    details["warnings"] = list(outcome.warnings)
                where = {
                    "cooperative": coop.id, "channel": ch.id, "sku": op.sku,
                    "action": str(op.action), "attempt": change.attempt, "run_id": self.run_id,
                }  # fmt: skip
                if outcome.ok:
                    state = confirmed_state(op, outcome.remote_id or change.remote_id)
                    if state is not None:
                        confirmed.append(state)
                    run.done[str(op.action)] += 1
                    run.confirmed.add(op.sku)
                    entries.append(
                        self.entry(run, op.sku, str(op.action), "ok", None, change.attempt, details)
                    )
                    log.info("listing_confirmed", **where, remote_id=outcome.remote_id)
                else:
                    message = outcome.message or "refused, without a message"
                    record_failure(
                        conn, coop.id, ch.id, op.sku, op.parent_sku, message, outcome.remote_id, now
                    )
                    run.failed[str(op.action)] += 1
                    details["retryable"] = outcome.retryable
                    entries.append(
                        self.entry(
                            run, op.sku, str(op.action), "failed", message, change.attempt, details
                        )
                    )
                    event = "listing_retried" if outcome.retryable else "listing_refused"
                    log.warning(event, **where, error=message, code=outcome.code)
            if confirmed:
                # A channel that cannot be read back: its answer is all there is to go by.
                seen = None if Capability.READ_BACK in connector.capabilities else now
                save_listings(
                    conn, coop.id, ch.id, [_confirmed_now(s, now, seen) for s in confirmed], now
                )
                reset_attempts(conn, coop.id, ch.id, [s.sku for s in confirmed])
            write_journal(conn, entries)

    # ------------------------------------------------------------------ 5. reviews
    def pull_reviews(self, coop: CooperativeConfig, ch: ChannelConfig, run: ChannelRun) -> None:
        connector = self.connector(coop.id, ch, run)
        if connector is None or Capability.REVIEWS not in connector.capabilities:
            return
        with self.store.read() as conn:
            since = _parse_time(read_cursor(conn, coop.id, ch.id, "reviews"))
            sku_of = {
                s.remote_id: s.sku
                for s in load_listings(conn, coop.id, ch.id).values()
                if s.remote_id
            }
        try:
            for page in connector.pull_reviews(since):
                now = _now()
                with self.store.write() as conn:
                    recorded = record_reviews(conn, coop.id, ch.id, page.reviews, sku_of, now)
                    run.reviews += recorded.stored
                    if page.watermark is not None:
                        write_cursor(
                            conn, coop.id, ch.id, "reviews", page.watermark.isoformat(), now
                        )
        except (ChannelError, QuotaWait) as exc:
            self._stop(run, exc)

    # ------------------------------------------------------------------ the pass
    def run(
        self, cooperative: str | None, channel: str | None, today_fn: Callable[[], datetime]
    ) -> SyncReport:
        for coop in self.config.cooperatives:
            if cooperative is not None and coop.id != cooperative:
                continue
            if self.should_stop():
                break
            started = _now()
            try:
                self._cooperative(coop, channel, today_fn, started)
            except StoreError:
                raise  # the store in trouble concerns every cooperative: the caller says so
            except Exception as exc:  # a bug: this cooperative stops, the others go on
                log.exception("pass_failed", cooperative=coop.id, run_id=self.run_id)
                said = self.store.redactor.redact(str(exc))
                why = (
                    f"the pass failed ({type(exc).__name__}: {said}); this is a bug, please "
                    "report it with the log line pass_failed"
                )
                runs = [
                    ChannelRun(coop.id, ch.id, stopped=why)
                    for ch in coop.channels
                    if ch.enabled and (channel is None or ch.id == channel)
                ]
                self.report.channels += runs
                self.record(runs, started, why)
        return self.report

    def _cooperative(
        self,
        coop: CooperativeConfig,
        channel: str | None,
        today_fn: Callable[[], datetime],
        started: datetime,
    ) -> None:
        """One cooperative's pass: orders, read-back, plan, sends, read-back of the sent,
        marks, reviews, and its record."""
        runs = {ch.id: ChannelRun(coop.id, ch.id) for ch in coop.channels if ch.enabled}
        for ch in coop.channels:  # every channel's orders: a sale reaches all of them
            if ch.id in runs and (self.orders_from is None or ch.id in self.orders_from):
                self.pull_orders(coop, ch, runs[ch.id])
        selected = [
            ch for ch in coop.channels if ch.id in runs and (channel is None or ch.id == channel)
        ]
        if self.readback:
            for ch in selected:
                if runs[ch.id].stopped is None:
                    self.read_back(coop, ch, runs[ch.id])
        report = make_plan(
            self.config,
            self.store,
            today=today_fn().date(),
            cooperative=coop.id,
            channel=channel,
            quiet=True,
        )
        (cplan,) = report.cooperatives
        if cplan.unreadable is not None:
            self.report.unreadable.append(str(cplan.unreadable))
        else:
            with paused_gc():  # the plan of a large catalog is alive till the end
                self.after_plan(cplan)
                for chplan in cplan.channels:
                    run = runs.get(chplan.channel.id)
                    if run is not None:
                        run.quiet = chplan.quiet
                    if run is not None and run.stopped is None:
                        self.execute(coop, chplan, run)
                        if run.stopped is None and not run.failed:
                            with self.store.write() as conn:
                                resolve_alerts(conn, coop.id, "auth", run.channel, _now())
                        if run.stopped is None:
                            self.verify(coop, chplan.channel, run)
                self.mark(cplan, runs, whole=channel is None)
        if self.reviews:
            for ch in selected:
                if runs[ch.id].stopped is None:
                    self.pull_reviews(coop, ch, runs[ch.id])
        self.report.channels += [runs[ch.id] for ch in selected]
        problem = cplan.unreadable
        why = None if problem is None else f"catalog cannot be read: {problem}"
        self.record([runs[ch.id] for ch in selected], started, why)

    def record(self, runs: list[ChannelRun], started: datetime, problem: str | None) -> None:
        """One row per channel in ``passes``, in one transaction (``syndicator status``)."""
        now = _now()
        with self.store.write() as conn:
            for run in runs:
                connector = self._connectors.get((run.cooperative, run.channel))
                quota = connector.context.quota if connector is not None else None
                record_run(
                    conn,
                    run,
                    run_id=self.run_id,
                    kind=self.kind,
                    started_at=started,
                    finished_at=now,
                    problem=problem,
                    quota_account=getattr(quota, "account", None),
                )


def record_plan(store: Store, cplan: CooperativePlan, now: datetime) -> list[str]:
    """What a pass records right after planning, before sending anything: the counts that
    changed in the catalog (dated at its save time, docs/stock.md), and an oversell alert per
    SKU sold below zero, naming its orders. Returns the messages of alerts raised anew."""
    coop = cplan.cooperative
    catalog = cplan.catalog
    if catalog is None:
        return []
    units = list(catalog.units())
    raised: list[str] = []
    with store.write() as conn:
        stored = load_stock_counts(conn, coop.id, [u.sku for u in units])
        save_stock_counts(conn, coop.id, new_counts(units, stored, catalog.modified_at))
        for chplan in cplan.channels:
            rekey_listings(conn, coop.id, chplan.channel.id, _new_keys(chplan), now)
        for sku, view in cplan.stock.items():
            if view.count + view.changes >= 0:
                continue
            sales = sales_since(conn, coop.id, sku, view.counted_at)
            named = ", ".join(f"{s.channel} order {s.order_id}" for s in sales)
            message = (
                f"{sku} was sold {-view.changes} time(s) with {view.count} in stock: "
                f"oversold by {-(view.count + view.changes)} ({named}); it stays at 0 "
                "everywhere, and one order needs cancelling or a piece found"
            )
            key = f"{sku}:" + ",".join(sorted(f"{s.channel}/{s.order_id}" for s in sales))
            if raise_alert(
                conn,
                cooperative=coop.id,
                kind="oversell",
                key=key,
                sku=sku,
                message=message,
                now=now,
                details={"orders": [[s.channel, s.order_id] for s in sales]},
            ):
                raised.append(message)
    return raised


def _new_keys(chplan: ChannelPlan) -> dict[str, tuple[str, str]]:
    """SKU -> (input key, fingerprint) of each listing worked out anew that came out as the
    channel shows it: the key it is confirmed with changes, nothing is sent."""
    return {
        op.sku: (p.input_key, p.fingerprint)
        for op in chplan.ops
        if op.action is Action.UNCHANGED and (p := op.projection) is not None and p.input_key
    }


@dataclass(frozen=True, slots=True)
class Drift:
    """What a read-back found different from what the channel confirmed."""

    why: str  # in words, for the journal and the plan
    gone: bool = False  # the channel does not show the listing (on sale) at all
    urgent: bool = False  # corrected whatever sync.drift says (stock that does not exist)


def drift_of(state: ListingState, shown: RemoteListing | None) -> Drift | None:
    """What differs between what the channel shows and what it last confirmed (None: they
    agree). Only what Syndicator sets is compared: being there and on sale, price, quantity.

    A listing confirmed at quantity 0 that the channel does not show agrees: nothing is for
    sale either way. One confirmed on sale that the channel shows off sale (a draft left by
    an interrupted create, a listing deactivated on the shop) is as good as gone: it is
    sent again as a create (the connector adopts what it finds). More units than confirmed
    is urgent: a buyer could order what is not there."""
    if shown is None or shown.status == "delisted":
        if state.quantity == 0:
            return None
        return Drift("the channel no longer shows this listing", gone=True)
    if state.status == "active" and shown.status != "active":
        return Drift(f"the channel shows this listing {shown.status}, not on sale", gone=True)
    diffs = []
    urgent = False
    if state.price is not None and shown.price is not None and shown.price.amount != state.price:
        diffs.append(f"price {shown.price.amount} (confirmed {state.price})")
    if (
        state.quantity is not None
        and shown.quantity is not None
        and shown.quantity != state.quantity
    ):
        diffs.append(f"quantity {shown.quantity} (confirmed {state.quantity})")
        urgent = shown.quantity > state.quantity
    if not diffs:
        return None
    return Drift("the channel shows " + ", ".join(diffs), urgent=urgent)


def _confirmed_now(state: ListingState, now: datetime, seen: datetime | None) -> ListingState:
    return replace(state, confirmed_at=now, last_error=None, verified_at=seen, drift=None)


def sync_once(
    config: Config,
    store: Store,
    *,
    cooperative: str | None = None,
    channel: str | None = None,
    confirm_delist: bool = False,
    readback: bool = False,
    reviews: bool = False,
    timeout: float = 30.0,
    progress: Progress | None = None,
    run_id: str | None = None,
    clock: Callable[[], datetime] = _now,
    kind: str = "sync",
    orders_from: Collection[str] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_throttled: Callable[[str, str], None] | None = None,
    connectors: dict[tuple[str, str], Connector] | None = None,
) -> SyncReport:
    """One reconcile pass over the selected cooperatives (see the module's doc). ``kind``:
    what triggered it, as the record of the pass says (syndicator/store/passes.py).

    ``orders_from``: the channels whose orders are pulled first (None: every channel of
    the cooperative; the daemon pulls each channel's orders on that channel's schedule).
    ``should_stop``: asked between steps and batches; when it turns true the pass sends
    nothing more and returns (what was sent is recorded; the rest waits for the next
    pass), so that a daemon stops within seconds. ``on_throttled(cooperative, channel)``
    is told of each 429 a channel answers (the daemon's metrics). ``connectors``: a pool
    the caller keeps from pass to pass, (cooperative, channel) -> connector: taken from
    and given back to (the daemon's; see ``_Pass.close``)."""
    p = _Pass(
        config,
        store,
        confirm_delist=confirm_delist,
        readback=readback,
        reviews=reviews,
        timeout=timeout,
        progress=progress,
        run_id=run_id or str(uuid.uuid4()),
        kind=kind,
        orders_from=orders_from,
        should_stop=should_stop,
        on_throttled=on_throttled,
        keep=connectors,
    )
    try:
        return p.run(cooperative, channel, clock)
    finally:
        p.close()
