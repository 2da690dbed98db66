"""The daemon's timers: jobs that only *ask* for passes, and its heartbeat and alerts tick.

APScheduler 3's BackgroundScheduler with its in-memory job store, rebuilt from the config at
each start (as its FAQ requires for one process). Per enabled channel, a job asks for that
channel's orders every ``schedule.orders``, its reviews every ``schedule.reviews`` and a
read-back every ``schedule.readback``. A pass that pulled orders plans every channel of the
cooperative, so a sale reaches the other shops in that same pass; a pass with nothing new
to do costs next to nothing (docs/design.md). Nothing is lost over a restart: orders come
from each channel's cursor in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from syndicator.config import Config
from syndicator.service.workers import Ask, PassRequest

__all__ = ["ALERTS_EVERY", "HEARTBEAT", "start_scheduler"]

HEARTBEAT = 5.0  # seconds between two renewals of the lease (LEASE_TTL is 30)
ALERTS_EVERY = 30.0  # seconds between backlog checks and webhook sends


def start_scheduler(
    config: Config,
    ask: Ask,
    *,
    heartbeat: Callable[[], None],
    alerts: Callable[[], None],
) -> BackgroundScheduler:
    """Start the timers: the pass asks of each enabled channel, ``heartbeat`` every
    :data:`HEARTBEAT` seconds and ``alerts`` every :data:`ALERTS_EVERY`, from now."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    for coop in config.cooperatives:
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
                    _ask_copy,
                    "interval",
                    seconds=every,
                    args=(ask, coop.id, request),
                    id=f"{kind}:{coop.id}:{ch.id}",
                    name=f"{kind} of {coop.id}/{ch.id}",
                )
    scheduler.add_job(heartbeat, "interval", seconds=HEARTBEAT, id="heartbeat")
    scheduler.add_job(
        alerts,
        "interval",
        seconds=ALERTS_EVERY,
        id="alerts",
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler


def _ask_copy(ask: Ask, cooperative: str, request: PassRequest) -> None:
    """Each run asks with a request of its own: the worker merges into what it holds."""
    ask(cooperative, request.copy())
