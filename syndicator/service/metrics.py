"""The daemon's Prometheus metrics (docs/metrics.md).

Two kinds, in one :class:`~prometheus_client.CollectorRegistry` per :class:`Metrics` (never
the library's global one, so that each daemon and each test has its own):

* what this process saw, counted as it happens: passes and their durations
  (:meth:`Metrics.pass_done`), 429s (:meth:`Metrics.throttled`);
* what the store holds, read at scrape time by :class:`StoreCollector`: operations by
  outcome (the journal), listings waiting and the oldest of them, open alerts, quota left
  in each bucket, orders and reviews stored, oversold SKUs. These are right after a restart
  and with several workers on one database, since the store is the only source.

Each scrape of the store is one read transaction of the aggregate queries of
:mod:`syndicator.store.metrics` and :mod:`syndicator.store.status` (no loop over the rows of
a big table), and writes nothing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection

from syndicator.common.logs import FailureLog, get_logger
from syndicator.config import Config
from syndicator.domain.quotas import QuotaRule
from syndicator.store import Store
from syndicator.store.alerts import open_alert_counts
from syndicator.store.metrics import (
    JournalKey,
    journal_counts,
    journal_settled_up_to,
    orders_by_status,
    oversold_skus,
    quota_buckets_of,
)
from syndicator.store.passes import RunLike, pass_outcome
from syndicator.store.status import ListingCounts, listing_counts, oldest_pending, pulled
from syndicator.sync.opener import channel_quota

__all__ = [
    "PASS_BUCKETS",
    "JournalTally",
    "Metrics",
    "QuotaSource",
    "StoreCollector",
    "quota_sources",
]

log = get_logger("syndicator.metrics")

CHANNEL = ("cooperative", "channel")
PASS = (*CHANNEL, "kind")  # the labels of the series of passes
SYNC_STATES = tuple(ListingCounts().to_json())  # in_sync, pending, failed, off_sale
# Seconds: a push of one edit takes about one, a first listing of a big catalog many minutes.
PASS_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class Metrics:
    """The daemon's metrics. With a ``store``, the store's numbers are read at each scrape;
    with the ``config`` too, every configured channel shows up (at 0) before its first pass,
    and the quota buckets of each channel are reported (the config says their rates)."""

    def __init__(
        self,
        store: Store | None = None,
        config: Config | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = CollectorRegistry()
        self._passes = Counter(
            "syndicator_passes",
            "Passes run by this process, by kind and how they ended.",
            [*PASS, "outcome"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "syndicator_pass_duration_seconds",
            "How long passes of this process took.",
            list(PASS),
            buckets=PASS_BUCKETS,
            registry=self.registry,
        )
        self._last = Gauge(
            "syndicator_pass_last_timestamp_seconds",
            "When this process last ended a pass of this kind with this outcome (Unix time).",
            [*PASS, "outcome"],
            registry=self.registry,
        )
        self._throttled = Counter(
            "syndicator_throttled",
            "429 answers (over the channel's quota) this process received.",
            list(CHANNEL),
            registry=self.registry,
        )
        self.clock = clock
        for coop, channel in _channels(config):
            self._throttled.labels(coop, channel)  # at 0: increase() sees the first 429
        self.collector: StoreCollector | None = None
        if store is not None:
            self.collector = StoreCollector(store, config, clock=clock)
            self.registry.register(self.collector)

    def pass_done(
        self, cooperative: str, channel: str, kind: str, outcome: str, seconds: float
    ) -> None:
        """A pass ended: ``kind`` push, orders, reviews, readback ...; ``outcome`` ok,
        failed, stopped ..."""
        self._passes.labels(cooperative, channel, kind, outcome).inc()
        self._duration.labels(cooperative, channel, kind).observe(seconds)
        self._last.labels(cooperative, channel, kind, outcome).set(self.clock())

    def channels_done(
        self, cooperative: str, kind: str, runs: Iterable[RunLike], seconds: float
    ) -> None:
        """A pass ended: each of its channels counted with its outcome, as the record of
        the pass says it (:func:`~syndicator.store.passes.pass_outcome`)."""
        for run in runs:
            outcome = pass_outcome(
                confirmed=sum(run.done.values()),
                refused=0,
                failed=sum(run.failed.values()),
                stopped=run.stopped is not None,
            )
            self.pass_done(cooperative, run.channel, kind, outcome, seconds)

    def throttled(self, cooperative: str, channel: str) -> None:
        """The channel answered 429 (pass it as ``on_throttled`` to
        :func:`~syndicator.sync.opener.open_connector`)."""
        self._throttled.labels(cooperative, channel).inc()


def _channels(config: Config | None) -> list[tuple[str, str]]:
    if config is None:
        return []
    return [(c.id, ch.id) for c in config.cooperatives for ch in c.channels if ch.enabled]


# --------------------------------------------------------------------------- the store
@dataclass(frozen=True, slots=True)
class QuotaSource:
    """The buckets one channel draws from: its quota account and each bucket's rule."""

    cooperative: str
    channel: str
    account: str
    rules: tuple[QuotaRule, ...]


def quota_sources(config: Config, store: Store) -> list[QuotaSource]:
    """Each configured channel's quota account and buckets (a channel whose credentials
    cannot be read is left out: its passes say why)."""
    out = []
    for coop, channel in _channels(config):
        try:
            quota = channel_quota(config, store, coop, channel)
        except Exception as exc:  # a plugin's setup error: no quota metrics, not no metrics
            log.warning("metrics_quota_unknown", cooperative=coop, channel=channel, error=str(exc))
            continue
        rules = {r.bucket: r for rs in quota.rules.values() for r in rs}
        out.append(QuotaSource(coop, channel, quota.account, tuple(rules.values())))
    return out


class JournalTally:
    """Journal rows by (cooperative, channel, action, outcome), each row read once.

    The rows up to a settled id are counted once and kept; the rows after it are counted at
    each scrape. A row settles when it is ``grace`` seconds old: by then every transaction
    that took a lower id has committed (PostgreSQL hands ids out before the commit; SQLite
    in order). So a scrape reads the recent rows only, through the primary key, whatever the
    journal's size; the first scrape after a start reads it all once.
    """

    def __init__(self, grace: float = 120.0) -> None:
        self.grace = timedelta(seconds=grace)
        self.settled = 0  # the journal id up to which ``counts`` holds every row
        self.counts: Tally[JournalKey] = Tally()
        self._lock = threading.Lock()  # two scrapes at once settle once

    def read(self, conn: Connection, now: datetime) -> Tally[JournalKey]:
        """(cooperative, channel, action, outcome) -> rows, as of this transaction."""
        out: Tally[JournalKey] = Tally()
        with self._lock:
            top = journal_settled_up_to(conn, self.settled, now - self.grace)
            if top is not None:
                for key, n in journal_counts(conn, self.settled, top):  # all read, then kept
                    self.counts[key] += n
                self.settled = top
            out.update(self.counts)
            settled = self.settled
        for key, n in journal_counts(conn, settled):
            out[key] += n
        return out


class StoreCollector:
    """Reads the store at each scrape (see the module's doc). ``config`` (optional) names
    the channels to show at 0 and the quota buckets to report."""

    def __init__(
        self, store: Store, config: Config | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self._quotas: list[QuotaSource] | None = None
        self.journal = JournalTally()
        self.failures = FailureLog(log)  # a store down: logged once, not at every scrape

    def quotas(self) -> list[QuotaSource]:
        if self._quotas is None:
            self._quotas = [] if self.config is None else quota_sources(self.config, self.store)
        return self._quotas

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        try:
            with self.store.read() as conn:
                families = list(self._read(conn))
            up = 1.0
            self.failures.recovered("metrics_store")
        except Exception as exc:  # a scrape reports a broken store, it does not fail
            self.failures.failed("metrics_store", f"{type(exc).__name__}: {exc}")
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily(
            "syndicator_store_up", "1 when the last scrape could read the store, else 0.", up
        )
        yield GaugeMetricFamily(
            "syndicator_store_scrape_duration_seconds",
            "How long reading the store for this scrape took.",
            time.perf_counter() - started,
        )

    def _read(self, conn: Connection) -> Iterator[Metric]:
        now = self.clock()
        yield self._operations(conn, now)
        yield from self._listings(conn, now)
        yield from self._alerts(conn)
        yield from self._quota(conn, now)
        yield from self._stored(conn)
        yield self._oversold(conn)

    def _operations(self, conn: Connection, now: float) -> Metric:
        family = CounterMetricFamily(
            "syndicator_operations",
            "Operations tried on a channel, by action and outcome (the journal).",
            labels=[*CHANNEL, "action", "outcome"],
        )
        for key, n in sorted(self.journal.read(conn, datetime.fromtimestamp(now, UTC)).items()):
            family.add_metric(list(key), n)
        return family

    def _listings(self, conn: Connection, now: float) -> Iterator[Metric]:
        """By the rule of ``syndicator status`` (:mod:`syndicator.store.status`): the same
        states, the same oldest change as its backlog alert."""
        states: dict[tuple[str, str, str], int] = {}
        depth: dict[tuple[str, str], int] = {}
        oldest: dict[tuple[str, str], float] = {}
        for coop, channel in _channels(self.config):
            states.update({(coop, channel, state): 0 for state in SYNC_STATES})
            depth[coop, channel] = 0
            oldest[coop, channel] = 0.0
        for (coop, channel), counts in listing_counts(conn).items():
            for state, n in counts.to_json().items():
                states[coop, channel, state] = n
            depth[coop, channel] = counts.pending + counts.failed
        moment = datetime.fromtimestamp(now, UTC)
        for key, change in oldest_pending(conn).items():
            oldest[key] = max(0.0, change.age(moment).total_seconds())
        yield _gauge(
            "syndicator_listings",
            "Listings by state: in_sync, pending (on its way, or unsure), failed (since the "
            "last success), off_sale.",
            [*CHANNEL, "state"],
            states.items(),
        )
        yield _gauge(
            "syndicator_queue_depth",
            "Listings waiting for the channel: pending creates, unsure changes, failing ones.",
            list(CHANNEL),
            depth.items(),
        )
        yield _gauge(
            "syndicator_oldest_pending_age_seconds",
            "How long the oldest waiting change has waited (0: none waits); the backlog "
            "alert's measure.",
            list(CHANNEL),
            oldest.items(),
        )

    def _alerts(self, conn: Connection) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "syndicator_alerts_open",
            "Open alerts by kind (oversell, mass_delist, auth, backlog); channel '' when an "
            "alert concerns the whole cooperative.",
            labels=[*CHANNEL, "kind"],
        )
        for coop, channel, kind, n in open_alert_counts(conn):
            family.add_metric([coop, channel or "", kind], n)
        yield family

    def _quota(self, conn: Connection, now: float) -> Iterator[Metric]:
        sources = self.quotas()
        labels = [*CHANNEL, "account", "bucket"]
        tokens = GaugeMetricFamily(
            "syndicator_quota_tokens",
            "Calls the bucket allows now (refilled at its rate since the last call; 0 while "
            "a 429 blocks it).",
            labels=labels,
        )
        burst = GaugeMetricFamily("syndicator_quota_burst", "The bucket's size.", labels=labels)
        blocked = GaugeMetricFamily(
            "syndicator_quota_blocked_seconds",
            "Seconds until the bucket lets a call go again after a 429 (0: not blocked).",
            labels=labels,
        )
        calls = GaugeMetricFamily(
            "syndicator_quota_calls_today", "Calls made today (UTC).", labels=labels
        )
        throttled = GaugeMetricFamily(
            "syndicator_quota_throttled_today",
            "429s received today (UTC), by every process on the store.",
            labels=labels,
        )
        if sources:
            rows = quota_buckets_of(conn, (s.account for s in sources))
            today = datetime.fromtimestamp(now, UTC).date().isoformat()
            for source in sources:
                for rule in source.rules:
                    values = [source.cooperative, source.channel, source.account, rule.bucket]
                    row = rows.get((source.account, rule.bucket))
                    level, wait, made, refused = float(rule.burst), 0.0, 0, 0
                    if row is not None:
                        level, wait = row.level(rule, now)
                        if row.day == today:
                            made, refused = row.calls_today, row.throttled_today
                    tokens.add_metric(values, level)
                    burst.add_metric(values, rule.burst)
                    blocked.add_metric(values, wait)
                    calls.add_metric(values, made)
                    throttled.add_metric(values, refused)
        yield from (tokens, burst, blocked, calls, throttled)

    def _stored(self, conn: Connection) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "syndicator_orders_stored",
            "Orders pulled from the channel, by their last status.",
            labels=[*CHANNEL, "status"],
        )
        for coop, channel, status, n in orders_by_status(conn):
            family.add_metric([coop, channel, status], n)
        yield family
        family = GaugeMetricFamily(
            "syndicator_reviews_stored", "Reviews pulled from the channel.", labels=list(CHANNEL)
        )
        for (coop, channel), stored in pulled(conn, "reviews").items():
            family.add_metric([coop, channel], stored.count)
        yield family

    def _oversold(self, conn: Connection) -> Metric:
        """SKUs sold past their last stock count, per cooperative (0 for each configured
        one that has none)."""
        counts: dict[str, int] = dict.fromkeys((coop for coop, _ in _channels(self.config)), 0)
        counts.update(oversold_skus(conn))
        return _gauge(
            "syndicator_oversold_skus",
            "SKUs sold more times than there were pieces since their last count.",
            ["cooperative"],
            (((coop,), n) for coop, n in counts.items()),
        )


def _gauge(
    name: str,
    doc: str,
    labels: Sequence[str],
    values: Iterable[tuple[tuple[str, ...], float]],
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values):
        family.add_metric(list(key), value)
    return family
