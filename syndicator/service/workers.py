"""The daemon's shop workers: one thread per cooperative runs its passes, one at a time.

A catalog save, the daemon's start and each timer only *ask* a cooperative's worker for a
pass (a :class:`PassRequest`); asks that come while a pass runs merge into one pass after
it. So passes of one shop never overlap, and a burst of saves costs one or two passes, not
one each. Each cooperative's open connectors are kept from pass to pass (used by its worker
thread only): their HTTP clients and TLS contexts are made once.

:meth:`WorkerPool.run_pass` never raises: a failure (a bug, the store down, a channel
stopping a pass, an unreadable catalog) is logged once, and its recovery once. Running out
of file descriptors is one failure of this machine, logged once for every cooperative, not
one per pass. A pool that was halted (the store lost under it) runs no pass any more.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from syndicator.channels.interface import Connector
from syndicator.common.logs import FailureLog, bound, get_logger
from syndicator.config import Config
from syndicator.errors import StoreError, out_of_files
from syndicator.store import Store
from syndicator.sync.reconcile import SyncReport, sync_once

__all__ = ["Ask", "PassCallback", "PassRequest", "PassRunner", "ShopWorker", "WorkerPool"]

log = get_logger("syndicator.daemon")

KINDS = ("start", "push", "orders", "readback", "reviews")  # the first one asked names a pass


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

    def copy(self) -> PassRequest:
        """A request of its own (a worker merges later asks into the one it holds)."""
        return PassRequest(
            set(self.kinds),
            None if self.orders_from is None else set(self.orders_from),
            set(self.readback),
            set(self.reviews),
        )

    @property
    def kind(self) -> str:
        return next((k for k in KINDS if k in self.kinds), "push")

    @property
    def only(self) -> str | None:
        """The one channel to plan: a pass asked only for one channel's read-back or
        reviews plans that channel only; anything else plans every channel of the
        cooperative (None)."""
        if self.kinds <= {"readback", "reviews"}:
            channels = self.readback | self.reviews
            if len(channels) == 1:
                return next(iter(channels))
        return None


PassRunner = Callable[[str, PassRequest], object]  # (cooperative, request): one pass
Ask = Callable[[str, PassRequest], None]  # (cooperative, request): ask its worker for a pass
PassCallback = Callable[[str, PassRequest, SyncReport, float], None]


class ShopWorker:
    """Runs one cooperative's passes with ``run``, one at a time, coalescing the asks,
    until ``stopping`` is set."""

    def __init__(self, cooperative: str, run: PassRunner, stopping: threading.Event) -> None:
        self.cooperative = cooperative
        self.run = run
        self.stopping = stopping
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
        stopping = self.stopping
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
                self.run(self.cooperative, request)
            finally:
                self.busy = False


class WorkerPool:
    """Every cooperative's worker, its connectors and its last pass (see the module's doc).

    ``failures`` logs a failing pass once and its recovery once; ``on_throttled`` is told
    of each 429 (the metrics); each of ``callbacks`` is called after each pass (kept as
    given: a callback its owner adds later is called too)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        stopping: threading.Event,
        failures: FailureLog,
        *,
        on_throttled: Callable[[str, str], None] | None = None,
        callbacks: Sequence[PassCallback] = (),
    ) -> None:
        self.config = config
        self.store = store
        self.stopping = stopping
        self.failures = failures
        self.on_throttled = on_throttled
        self.workers: dict[str, ShopWorker] = {}
        self.connectors: dict[str, dict[tuple[str, str], Connector]] = {}
        self.last_pass: dict[str, tuple[datetime, SyncReport]] = {}
        self.passes = 0
        self.callbacks = callbacks
        self.halted: str | None = None  # why no pass runs any more (the store lost)

    def start(self, run: PassRunner | None = None) -> None:
        """A worker for each cooperative, each asked for its first pass: every channel's
        orders, then what is due. ``run`` runs each pass (default :meth:`run_pass`)."""
        for coop in self.config.cooperatives:
            self.connectors[coop.id] = {}
            worker = ShopWorker(coop.id, run or self.run_pass, self.stopping)
            self.workers[coop.id] = worker
            worker.thread.start()
            worker.ask(PassRequest(kinds={"start"}, orders_from=None))

    def ask(self, cooperative: str, request: PassRequest) -> None:
        """Ask ``cooperative``'s worker for a pass (nothing once stopping or halted)."""
        if not self.stopping.is_set() and self.halted is None:
            self.workers[cooperative].ask(request)

    def halt(self, why: str) -> None:
        """Run no pass from now on (one running ends as it can): ``why`` is logged once."""
        if self.halted is None:
            self.halted = why
            self.failures.failed("passes", f"passes stopped: {why}")

    def threads(self) -> list[threading.Thread]:
        return [w.thread for w in self.workers.values()]

    def first_pass_pending(self) -> tuple[str, ...]:
        """The channels (``cooperative/channel``) of started workers whose first pass has
        not ended yet."""
        return tuple(
            f"{c.id}/{ch.id}"
            for c in self.config.cooperatives
            if c.id in self.workers and c.id not in self.last_pass
            for ch in c.channels
            if ch.enabled
        )

    def close_connectors(self) -> None:
        for pool in self.connectors.values():
            for connector in pool.values():
                with contextlib.suppress(Exception):
                    connector.close()

    def run_pass(self, cooperative: str, request: PassRequest) -> SyncReport | None:
        """One pass for ``cooperative`` as ``request`` asks; never raises (a failure is
        logged once, its recovery once)."""
        key = (cooperative, "pass")
        started = time.monotonic()
        run_id = str(uuid.uuid4())
        if self.halted is None and (lost := self.store.lost()) is not None:
            self.halt(str(lost))  # the daemon's heartbeat raises the alert
        if self.halted is not None:
            return None
        with bound(cooperative=cooperative, run_id=run_id[:8]):
            try:
                report = sync_once(
                    self.config,
                    self.store,
                    cooperative=cooperative,
                    orders_from=request.orders_from,
                    readback=bool(request.readback),
                    reviews=bool(request.reviews),
                    channel=request.only,
                    run_id=run_id,
                    kind=request.kind,
                    should_stop=self.stopping.is_set,
                    on_throttled=self.on_throttled,
                    connectors=self.connectors[cooperative],
                )
            except Exception as exc:  # a bug or the store: log, keep the daemon running
                if _no_files(exc):  # one fault of this machine, logged once for all shops
                    self.failures.failed(NO_FILES, f"{type(exc).__name__}: {exc}")
                else:
                    self.failures.failed(key, f"{type(exc).__name__}: {exc}")
                return None
            self.failures.recovered(NO_FILES)
            seconds = time.monotonic() - started
            self.passes += 1
            self.last_pass[cooperative] = (datetime.now(UTC), report)
            _log_pass(request, report, seconds)
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
            for callback in self.callbacks:
                with contextlib.suppress(Exception):
                    callback(cooperative, request, report, seconds)
            return report


NO_FILES = "file descriptors"  # the FailureLog key of a machine out of them


def _no_files(exc: BaseException) -> bool:
    """The pass failed for lack of file descriptors (the store's or anything else's)."""
    return (isinstance(exc, StoreError) and exc.kind == "files") or out_of_files(exc)


def _log_pass(request: PassRequest, report: SyncReport, seconds: float) -> None:
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
