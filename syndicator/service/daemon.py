"""The daemon: sync passes on a schedule and on every catalog save, until told to stop.

One process per database (a lease in the store refuses a second one). For each
cooperative:

- a **shop worker** thread runs the cooperative's passes one at a time. A catalog save (seen
  by the watcher), the start of the daemon and each timer only *ask* it for a pass; asks
  that come while a pass runs are coalesced into one pass after it. So passes of one shop
  never overlap, and a burst of saves costs one or two passes, not one each;
- timers (APScheduler 3, in-memory job store rebuilt from the config at each start, as its
  FAQ requires for one process) ask, per channel, for that channel's orders every
  ``schedule.orders``, its reviews every ``schedule.reviews`` and a read-back every
  ``schedule.readback``. A pass that pulled orders plans every channel of the cooperative,
  so a sale reaches the other shops in that same pass; a pass with nothing new to do costs
  next to nothing (syndicator/planning/quiet.py);
- the **watcher** (watchfiles) sees a save of the catalog, waits until the file has been
  quiet for ``daemon.debounce`` seconds, checks it (problems logged with file and line) and
  asks for a push pass.

SIGTERM or SIGINT: no new pass starts, a running pass stops between two batches (what it
sent is recorded; each change is marked before it is sent, so one cut short is sent again
by the next pass), and the daemon exits 0 within ``daemon.stop_timeout`` seconds; a pass
still inside a channel call then is abandoned, which is safe for the same reason.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import make_url

from syndicator.catalog import CatalogLimits, read_catalog
from syndicator.channels.interface import Connector
from syndicator.common.logs import FailureLog, bound, get_logger
from syndicator.common.problems import Severity, Unreadable
from syndicator.config import Config
from syndicator.errors import DaemonStartError, LeaseHeld
from syndicator.plugins import RunningSandbox, StartHook, load_hook, load_sandbox
from syndicator.service.alerts import Notifier, check_backlog
from syndicator.service.endpoint import DaemonHttp, HealthState
from syndicator.service.metrics import Metrics
from syndicator.store import Store
from syndicator.store.leases import acquire, release, renew
from syndicator.store.passes import pass_outcome
from syndicator.sync.reconcile import SyncReport, sync_once

__all__ = ["Daemon", "DaemonStartError", "PassRequest"]

log = get_logger("syndicator.daemon")

LEASE = "daemon"
LEASE_TTL = 30.0  # seconds; renewed every HEARTBEAT
HEARTBEAT = 5.0
ALERTS_EVERY = 30.0  # seconds between backlog checks and webhook sends


@dataclass(slots=True)
class PassRequest:
    """What the next pass of a cooperative must do: the union of every ask since the last."""

    kinds: set[str] = field(default_factory=set)
    orders_from: set[str] | None = field(default_factory=set)  # None: every channel
    readback: set[str] = field(default_factory=set)  # channels to read back
    reviews: set[str] = field(default_factory=set)  # channels whose reviews to pull

    def merge(self, other: PassRequest) -> None:
        self.kinds |= other.kinds
        if self.orders_from is None or other.orders_from is None:
            self.orders_from = None
        else:
            self.orders_from |= other.orders_from
        self.readback |= other.readback
        self.reviews |= other.reviews

    @property
    def kind(self) -> str:
        order = ("start", "push", "orders", "readback", "reviews")
        return next((k for k in order if k in self.kinds), "push")


class _ShopWorker:
    """Runs one cooperative's passes, one at a time, coalescing the asks."""

    def __init__(self, daemon: Daemon, cooperative: str) -> None:
        self.daemon = daemon
        self.cooperative = cooperative
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: PassRequest | None = None
        self.busy = False
        self.thread = threading.Thread(target=self._loop, name=f"shop-{cooperative}", daemon=True)

    def ask(self, request: PassRequest) -> None:
        with self._lock:
            if self._pending is None:
                self._pending = request
            else:
                self._pending.merge(request)
        self._wake.set()

    def _loop(self) -> None:
        stopping = self.daemon.stopping
        while not stopping.is_set():
            self._wake.wait(timeout=1.0)
            if stopping.is_set():
                break
            with self._lock:
                request, self._pending = self._pending, None
                self._wake.clear()
            if request is None:
                continue
            self.busy = True
            try:
                self.daemon.run_pass(self.cooperative, request)
            finally:
                self.busy = False


class Daemon:
    """``syndicator run``: see the module's doc. ``run()`` blocks until :meth:`stop`."""

    def __init__(self, config: Config, *, store: Store | None = None) -> None:
        self.config = config
        self._store = store
        self.stopping = threading.Event()
        self.stopped = threading.Event()
        self.holder = uuid.uuid4().hex
        self.started_at = datetime.now(UTC)
        self.heartbeat = time.monotonic()
        self.failures = FailureLog(get_logger("syndicator.daemon"))
        self.workers: dict[str, _ShopWorker] = {}
        # Each cooperative's open connectors, kept from pass to pass (used by its worker
        # thread only): their HTTP clients and TLS contexts are made once.
        self.connectors: dict[str, dict[tuple[str, str], Connector]] = {}
        self.last_pass: dict[str, tuple[datetime, SyncReport]] = {}
        self.passes = 0
        self.sandbox: RunningSandbox | None = None  # in-process (the demo), when asked
        self.http: DaemonHttp | None = None
        self.metrics: Metrics | None = None
        self.notifier: Notifier | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._watcher: threading.Thread | None = None
        self._on_pass: list[Callable[[str, PassRequest, SyncReport, float], None]] = []

    # ------------------------------------------------------------------ life
    @property
    def store(self) -> Store:
        assert self._store is not None, "the daemon has not started"
        return self._store

    def start(self) -> None:
        """Start everything and return (``run`` = start + wait + shut down)."""
        if self.config.sandbox.enabled:
            options = self.config.sandbox
            starter: StartHook = load_hook(options.starter or load_sandbox(options.plugin).start)
            self.sandbox = starter(self.config)
            self.config = self.sandbox.config
            log.warning(
                "sandbox_marketplaces",
                url=getattr(self.sandbox, "base_url", None),
                note="in-process sandbox: no real shop is touched",
            )
        if self._store is None:
            self._store = Store(self.config.database_url)
        try:
            with self.store.write() as conn:
                acquire(conn, LEASE, self.holder, datetime.now(UTC), LEASE_TTL)
        except LeaseHeld as exc:
            self._close_outside()
            raise DaemonStartError(
                f"another Syndicator daemon already runs on this database "
                f"({_display(self.config.database_url)}): {exc.holder.describe()}. Stop it "
                "first; two daemons on one database would send the same changes twice."
            ) from None
        self._start_http()
        self.notifier = Notifier(self.config, self.store, failures=self.failures)
        for coop in self.config.cooperatives:
            self.connectors[coop.id] = {}
            worker = _ShopWorker(self, coop.id)
            self.workers[coop.id] = worker
            worker.thread.start()
            # The first pass pulls every channel's orders and sends what is due.
            worker.ask(PassRequest(kinds={"start"}, orders_from=None))
        self._start_scheduler()
        self._start_watcher()
        log.info("daemon_started", cooperatives=len(self.workers), holder=self.holder[:8])

    def run(self) -> int:
        """Start, wait for :meth:`stop`, shut down; the exit code (0: a clean stop)."""
        self.start()
        try:
            while not self.stopping.wait(timeout=0.5):
                pass
        finally:
            self.shutdown()
        return 0

    def stop(self) -> None:
        """Ask the daemon to stop (safe from a signal handler)."""
        self.stopping.set()

    def shutdown(self) -> None:
        """Stop taking work, let running passes end (up to ``daemon.stop_timeout``), give
        the lease back and close."""
        self.stopping.set()
        log.info("daemon_stopping")
        deadline = time.monotonic() + self.config.daemon.stop_timeout
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        if self.sandbox is not None:
            self.sandbox.stop_traffic()
        threads = [w.thread for w in self.workers.values()]
        if self._watcher is not None:
            threads.append(self._watcher)
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        abandoned = [t.name for t in threads if t.is_alive()]
        if abandoned:
            # A pass inside a channel call: abandoned. Safe (each change is marked before
            # it is sent); the lease is left to expire, as after a crash.
            log.warning("passes_abandoned", threads=abandoned)
        else:
            with contextlib.suppress(Exception), self.store.write() as conn:
                release(conn, LEASE, self.holder)
        if not abandoned:
            for pool in self.connectors.values():
                for connector in pool.values():
                    with contextlib.suppress(Exception):
                        connector.close()
        self._close_outside()
        if self.notifier is not None:
            self.notifier.close()
        if not abandoned:
            self.store.close()
        log.info("daemon_stopped", abandoned=len(abandoned))
        self.stopped.set()

    def _close_outside(self) -> None:
        if self.http is not None:
            with contextlib.suppress(Exception):
                self.http.stop()
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                self.sandbox.stop()

    # ------------------------------------------------------------------ passes
    def ask(self, cooperative: str, request: PassRequest) -> None:
        if not self.stopping.is_set():
            self.workers[cooperative].ask(request)

    def on_pass(self, callback: Callable[[str, PassRequest, SyncReport, float], None]) -> None:
        """Call ``callback(cooperative, request, report, seconds)`` after each pass."""
        self._on_pass.append(callback)

    def run_pass(self, cooperative: str, request: PassRequest) -> SyncReport | None:
        """One pass for ``cooperative`` as ``request`` asks; never raises (a failure is
        logged once, its recovery once)."""
        key = (cooperative, "pass")
        started = time.monotonic()
        run_id = str(uuid.uuid4())
        with bound(cooperative=cooperative, run_id=run_id[:8]):
            try:
                report = sync_once(
                    self.config,
                    self.store,
                    cooperative=cooperative,
                    orders_from=request.orders_from,
                    readback=bool(request.readback),
                    reviews=bool(request.reviews),
                    channel=_only(request),
                    run_id=run_id,
                    kind=request.kind,
                    should_stop=self.stopping.is_set,
                    on_throttled=self.metrics.throttled if self.metrics else None,
                    connectors=self.connectors[cooperative],
                )
            except Exception as exc:  # a bug or the store: log, keep the daemon running
                self.failures.failed(key, f"{type(exc).__name__}: {exc}")
                return None
            seconds = time.monotonic() - started
            self.passes += 1
            self.last_pass[cooperative] = (datetime.now(UTC), report)
            self._log_pass(cooperative, request, report, seconds)
            if report.unreadable:
                self.failures.failed((cooperative, "catalog"), "; ".join(report.unreadable))
            else:
                self.failures.recovered((cooperative, "catalog"))
            for run in report.channels:
                ckey = (cooperative, run.channel)
                if run.stopped and not self.stopping.is_set():
                    self.failures.failed(ckey, run.stopped, channel=run.channel)
                elif not run.failed:
                    self.failures.recovered(ckey, channel=run.channel)
            self.failures.recovered(key)
            for callback in self._on_pass:
                with contextlib.suppress(Exception):
                    callback(cooperative, request, report, seconds)
            return report

    def _log_pass(
        self, cooperative: str, request: PassRequest, report: SyncReport, seconds: float
    ) -> None:
        sent = sum(sum(c.done.values()) for c in report.channels)
        failed = sum(sum(c.failed.values()) for c in report.channels)
        orders = sum(c.order_lines for c in report.channels)
        reviews = sum(c.reviews for c in report.channels)
        quiet = all(c.quiet for c in report.channels) and bool(report.channels)
        # A timer's pass that found nothing to do is routine: DEBUG. Anything else (a save,
        # a sale, a change sent) is what an operator watches for: INFO.
        routine = quiet and not (orders or reviews) and request.kind not in ("start", "push")
        event = log.debug if routine else log.info
        event(
            "pass_done",
            kind=request.kind,
            seconds=round(seconds, 3),
            sent=sent,
            failed=failed,
            order_lines=orders,
            reviews=reviews,
            quiet=quiet,
        )
        for alert in report.alerts:
            log.error("alert", message=alert)

    # ------------------------------------------------------------------ schedule
    def _start_scheduler(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        for coop in self.config.cooperatives:
            for ch in coop.channels:
                if not ch.enabled:
                    continue
                s = ch.schedule
                for kind, every, request in (
                    ("orders", s.orders, PassRequest({"orders"}, orders_from={ch.id})),
                    ("reviews", s.reviews, PassRequest({"reviews"}, reviews={ch.id})),
                    ("readback", s.readback, PassRequest({"readback"}, readback={ch.id})),
                ):
                    scheduler.add_job(
                        self._ask_copy,
                        "interval",
                        seconds=every,
                        args=(coop.id, request),
                        id=f"{kind}:{coop.id}:{ch.id}",
                        name=f"{kind} of {coop.id}/{ch.id}",
                    )
        scheduler.add_job(self._tick, "interval", seconds=HEARTBEAT, id="heartbeat")
        scheduler.add_job(
            self._alerts_tick,
            "interval",
            seconds=ALERTS_EVERY,
            id="alerts",
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler

    def _ask_copy(self, cooperative: str, request: PassRequest) -> None:
        self.ask(
            cooperative,
            PassRequest(
                set(request.kinds),
                None if request.orders_from is None else set(request.orders_from),
                set(request.readback),
                set(request.reviews),
            ),
        )

    def _tick(self) -> None:
        """The heartbeat: renew the lease (stop if it was lost), and note we are alive."""
        try:
            with self.store.write() as conn:
                held = renew(conn, LEASE, self.holder, datetime.now(UTC), LEASE_TTL)
        except Exception as exc:
            self.failures.failed("lease", f"{type(exc).__name__}: {exc}")
            return
        self.failures.recovered("lease")
        if not held:
            log.error("lease_lost", note="another daemon took the database; stopping")
            self.stop()
            return
        self.heartbeat = time.monotonic()

    def _alerts_tick(self) -> None:
        """Backlog alerts raised or closed, then every new alert sent to the webhook."""
        try:
            for message in check_backlog(self.config, self.store, datetime.now(UTC)):
                log.error("alert", kind="backlog", message=message)
            if self.notifier is not None:
                self.notifier.send_new()
        except Exception as exc:
            self.failures.failed("alerts", f"{type(exc).__name__}: {exc}")
        else:
            self.failures.recovered("alerts")

    # ------------------------------------------------------------------ catalog watcher
    def catalogs(self) -> dict[Path, str]:
        """Each catalog file (resolved) -> its cooperative."""
        return {self.config.catalog_path(c).resolve(): c.id for c in self.config.cooperatives}

    def _start_watcher(self) -> None:
        self._watcher = threading.Thread(target=self._watch, name="catalog-watcher", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        import watchfiles

        catalogs = self.catalogs()
        folders = sorted({str(p.parent) for p in catalogs})

        def interesting(_: watchfiles.Change, path: str) -> bool:
            return Path(path).resolve() in catalogs

        # watchfiles yields once nothing changed for ``step`` ms (at most ``debounce`` ms
        # after the first change): the file must have been quiet for daemon.debounce, so
        # that a file written in several steps is never read half-written.
        quiet_ms = int(self.config.daemon.debounce * 1000)
        try:
            for changes in watchfiles.watch(
                *folders,
                watch_filter=interesting,
                debounce=max(10 * quiet_ms, 5000),
                step=quiet_ms,
                stop_event=self.stopping,
                yield_on_timeout=False,
                rust_timeout=1000,
            ):
                for coop in sorted({catalogs[Path(p).resolve()] for _, p in changes}):
                    self.catalog_saved(coop)
        except Exception as exc:  # pragma: no cover - the OS refused to watch
            log.error("watcher_failed", error=str(exc))

    def catalog_saved(self, cooperative: str) -> None:
        """A save of the catalog: check it, log what is wrong (file and line), push."""
        coop = self.config.cooperative(cooperative)
        with bound(cooperative=cooperative):
            try:
                catalog = read_catalog(
                    self.config.catalog_path(coop),
                    channels=[c.id for c in coop.channels],
                    display=self.config.catalog_display(coop),
                    cooperative=coop.id,
                    limits=CatalogLimits(max_bytes=self.config.max_catalog_bytes),
                ).build()
            except Unreadable as exc:
                log.error("catalog_unreadable", problem=str(exc.problem),
                          note="nothing is sent; the shops keep their last good state")  # fmt: skip
                return
            errors = [p for p in catalog.problems if p.severity is Severity.ERROR]
            for problem in errors[:20]:
                log.warning("catalog_problem", problem=str(problem))
            log.info("catalog_saved", products=len(catalog.products), problems=len(errors),
                     held=len(catalog.held))  # fmt: skip
        self.ask(cooperative, PassRequest({"push"}))

    # ------------------------------------------------------------------ health
    def health_state(self) -> HealthState:
        pending = tuple(
            f"{c.id}/{ch.id}"
            for c in self.config.cooperatives
            if c.id in self.workers and c.id not in self.last_pass
            for ch in c.channels
            if ch.enabled
        )
        return HealthState(
            heartbeat=self.heartbeat,
            store_ready=self._store is not None,
            first_pass_pending=pending,
            stopping=self.stopping.is_set(),
        )

    def _start_http(self) -> None:
        self.metrics = Metrics(self.store, self.config)
        self.on_pass(self._count_pass)
        if not self.config.daemon.http.enabled:
            return
        self.http = DaemonHttp(
            self.config.daemon.http, self.store, self.metrics, self.health_state
        ).start()
        log.info("http_listening", url=self.http.url)

    def _count_pass(
        self, cooperative: str, request: PassRequest, report: SyncReport, seconds: float
    ) -> None:
        for run in report.channels:
            # As the record of the pass says (syndicator/store/passes.py).
            outcome = pass_outcome(
                confirmed=sum(run.done.values()),
                refused=0,
                failed=sum(run.failed.values()),
                stopped=run.stopped is not None,
            )
            assert self.metrics is not None
            self.metrics.pass_done(cooperative, run.channel, request.kind, outcome, seconds)


def _display(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _only(request: PassRequest) -> str | None:
    """A pass asked only for one channel's read-back or reviews plans that channel only;
    anything else plans every channel of the cooperative."""
    if request.kinds <= {"readback", "reviews"}:
        channels = request.readback | request.reviews
        if len(channels) == 1:
            return next(iter(channels))
    return None


@contextlib.contextmanager
def running(config: Config, *, store: Store | None = None) -> Iterator[Daemon]:
    """A started daemon, shut down on leaving the block (tests, embedding)."""
    daemon = Daemon(config, store=store)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.shutdown()
