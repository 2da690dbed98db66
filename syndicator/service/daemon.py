"""The daemon: sync passes on a schedule and on every catalog save, until told to stop.

A thin :class:`Daemon` composes the parts, each in its own module:

- the lease (:mod:`~syndicator.service.lease`): one daemon per database, renewed on each
  heartbeat;
- the shop workers (:mod:`~syndicator.service.workers`): one thread per cooperative runs
  its passes one at a time; everything else only *asks* it for a pass, and asks made
  during a pass merge into one pass after it;
- the timers (:mod:`~syndicator.service.scheduler`): per channel, asks for its orders,
  reviews and read-back on their schedules; the heartbeat; the alerts tick;
- the catalog watcher (:mod:`~syndicator.service.watcher`): a save is checked, then a push
  is asked;
- the HTTP endpoint (:mod:`~syndicator.service.endpoint`), its metrics
  (:mod:`~syndicator.service.metrics`) and the alerts' webhook
  (:mod:`~syndicator.service.alerts`).

A store deleted or replaced under the running daemon (checked at each heartbeat, before
each pass and by ``/readyz``) stops it from passing: no pass starts any more, ``/readyz``
says why, and one alert goes to the log (ERROR) and to the webhook (the store that keeps
alerts is the one lost). ``/healthz`` stays up, so that a runtime does not restart it into
an empty store: an operator puts the store back, then restarts it (docs/deploy.md).

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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from syndicator.channels.interface import Connector
from syndicator.common.logs import FailureLog, get_logger
from syndicator.config import Config
from syndicator.errors import DaemonStartError, StoreError
from syndicator.plugins import RunningSandbox, StartHook, load_hook, load_sandbox
from syndicator.service.alerts import Notifier, check_backlog
from syndicator.service.endpoint import DaemonHttp, HealthState, serve
from syndicator.service.lease import DaemonLease
from syndicator.service.metrics import Metrics
from syndicator.service.scheduler import start_scheduler
from syndicator.service.watcher import CatalogWatcher, catalog_files
from syndicator.service.workers import PassCallback, PassRequest, ShopWorker, WorkerPool
from syndicator.store import Store
from syndicator.store.alerts import Alert
from syndicator.sync.reconcile import SyncReport

__all__ = ["Daemon", "DaemonStartError", "PassRequest", "running"]

log = get_logger("syndicator.daemon")


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
        self.sandbox: RunningSandbox | None = None  # in-process (the demo), when asked
        self.lease: DaemonLease | None = None
        self.pool: WorkerPool | None = None
        self.http: DaemonHttp | None = None
        self.metrics: Metrics | None = None
        self.notifier: Notifier | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._watcher: CatalogWatcher | None = None
        self._on_pass: list[PassCallback] = []
        self.store_lost: StoreError | None = None  # the store deleted or replaced under us

    # ------------------------------------------------------------------ what it holds
    @property
    def store(self) -> Store:
        assert self._store is not None, "the daemon has not started"
        return self._store

    @property
    def workers(self) -> dict[str, ShopWorker]:
        """Each cooperative's shop worker (none before :meth:`start`)."""
        return self.pool.workers if self.pool is not None else {}

    @property
    def connectors(self) -> dict[str, dict[tuple[str, str], Connector]]:
        """Each cooperative's open connectors, kept from pass to pass."""
        return self.pool.connectors if self.pool is not None else {}

    @property
    def last_pass(self) -> dict[str, tuple[datetime, SyncReport]]:
        """Each cooperative's last pass that ended: when, and its report."""
        return self.pool.last_pass if self.pool is not None else {}

    @property
    def passes(self) -> int:
        """Passes ended since the start."""
        return self.pool.passes if self.pool is not None else 0

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """Start everything and return (``run`` = start + wait + shut down). What was
        started is stopped again when a part cannot start (the error is raised)."""
        try:
            self._start()
        except BaseException:
            self.stopping.set()
            self._close_outside()
            raise

    def _start(self) -> None:
        if self.config.sandbox.enabled:
            options = self.config.sandbox
            starter: StartHook = load_hook(options.starter or load_sandbox(options.plugin).start)
            self.sandbox = starter(self.config)
            self.config = self.sandbox.config
            log.warning(
                "sandbox_marketplaces",
                url=self.sandbox.base_url,
                note="in-process sandbox: no real shop is touched",
            )
        if self._store is None:
            self._store = Store(self.config.database_url)
        self.lease = DaemonLease(self.store, self.holder, self.failures)
        self.lease.take(self.config.database_url)
        self.metrics = Metrics(self.store, self.config)
        self.pool = WorkerPool(
            self.config,
            self.store,
            self.stopping,
            self.failures,
            on_throttled=self.metrics.throttled,
            callbacks=self._on_pass,
        )
        self.on_pass(self._count_pass)
        self.http = serve(self.config.daemon.http, self.store, self.metrics, self.health_state)
        self.notifier = Notifier(self.config, self.store, failures=self.failures)
        self.pool.start(self.run_pass)
        self._scheduler = start_scheduler(
            self.config, self.ask, heartbeat=self._tick, alerts=self._alerts_tick
        )
        self._watcher = CatalogWatcher(self.config, self.ask, self.stopping).start()
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
        threads = self.pool.threads() if self.pool is not None else []
        if self._watcher is not None:
            threads.append(self._watcher.thread)
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        abandoned = [t.name for t in threads if t.is_alive()]
        if abandoned:
            # A pass inside a channel call: abandoned. Safe (each change is marked before
            # it is sent); the lease is left to expire, as after a crash.
            log.warning("passes_abandoned", threads=abandoned)
        else:
            if self.lease is not None:
                self.lease.give_back()
            if self.pool is not None:
                self.pool.close_connectors()
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
        """Ask ``cooperative``'s worker for a pass (nothing once stopping)."""
        if self.pool is not None:
            self.pool.ask(cooperative, request)

    def on_pass(self, callback: PassCallback) -> None:
        """Call ``callback(cooperative, request, report, seconds)`` after each pass."""
        self._on_pass.append(callback)

    def run_pass(self, cooperative: str, request: PassRequest) -> SyncReport | None:
        """One pass for ``cooperative`` as ``request`` asks; never raises (a failure is
        logged once, its recovery once). The workers run each pass through here."""
        assert self.pool is not None, "the daemon has not started"
        return self.pool.run_pass(cooperative, request)

    def _count_pass(
        self, cooperative: str, request: PassRequest, report: SyncReport, seconds: float
    ) -> None:
        assert self.metrics is not None
        self.metrics.channels_done(cooperative, request.kind, report.channels, seconds)

    # ------------------------------------------------------------------ timers' jobs
    def _tick(self) -> None:
        """The heartbeat: check the store is still there, renew the lease (stop if it was
        lost), and note we are alive."""
        assert self.lease is not None
        if self.check_store() is not None:
            self.heartbeat = time.monotonic()  # alive, passing no more: not a restart
            return
        held = self.lease.renew()
        if held is False:
            self.stop()
        elif held:
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

    # ------------------------------------------------------------------ catalogs
    def catalogs(self) -> dict[Path, str]:
        """Each catalog file (resolved) -> its cooperative."""
        return catalog_files(self.config)

    def catalog_saved(self, cooperative: str) -> None:
        """A save of the catalog: check it, log what is wrong (file and line), push."""
        assert self._watcher is not None, "the daemon has not started"
        self._watcher.catalog_saved(cooperative)

    # ------------------------------------------------------------------ the store
    def check_store(self) -> StoreError | None:
        """Why the store was lost (deleted or replaced under the daemon), or None. The first
        time: passes stop, and one alert goes to the log and the webhook."""
        if self.store_lost is not None or self._store is None:
            return self.store_lost
        lost = self._store.lost()
        if lost is None:
            return None
        self.store_lost = lost
        if self.pool is not None:
            self.pool.halt(str(lost))
        log.error("alert", kind="store", message=str(lost))
        if self.notifier is not None:
            alert = Alert(datetime.now(UTC), "*", None, "store", None, str(lost), None)
            with contextlib.suppress(Exception):  # its failure is logged once by the notifier
                self.notifier.send_now(alert)
        return lost

    # ------------------------------------------------------------------ health
    def health_state(self) -> HealthState:
        return HealthState(
            heartbeat=self.heartbeat,
            store_ready=self._store is not None,
            store_lost=None if self.store_lost is None else str(self.store_lost),
            first_pass_pending=self.pool.first_pass_pending() if self.pool is not None else (),
            stopping=self.stopping.is_set(),
        )


@contextlib.contextmanager
def running(config: Config, *, store: Store | None = None) -> Iterator[Daemon]:
    """A started daemon, shut down on leaving the block (tests, embedding)."""
    daemon = Daemon(config, store=store)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.shutdown()
