"""The daemon's timers (syndicator/service/scheduler.py): per channel, jobs that only ask for
passes on the channel's schedules; the heartbeat and the alerts tick."""

from __future__ import annotations

import threading
from datetime import timedelta

from syndicator.service.scheduler import ALERTS_EVERY, HEARTBEAT, start_scheduler
from syndicator.service.workers import PassRequest
from tests.planning.test_plan import World, world  # noqa: F401  (the fixture)


def test_each_channel_s_timers_ask_for_its_own_passes(world: World) -> None:  # noqa: F811
    asked: list[tuple[str, PassRequest]] = []
    alerted = threading.Event()
    scheduler = start_scheduler(
        world.config, lambda coop, request: asked.append((coop, request)),
        heartbeat=lambda: None, alerts=alerted.set,
    )  # fmt: skip
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        channels = ("amazon", "etsy", "anou")
        every = {"orders": 300, "reviews": 86400, "readback": 86400}  # the defaults
        assert set(jobs) == {"heartbeat", "alerts"} | {
            f"{kind}:atlas:{ch}" for kind in every for ch in channels
        }
        for kind, seconds in every.items():
            job = jobs[f"{kind}:atlas:etsy"]
            assert job.name == f"{kind} of atlas/etsy"
            assert job.trigger.interval == timedelta(seconds=seconds)
        assert jobs["heartbeat"].trigger.interval == timedelta(seconds=HEARTBEAT)
        assert jobs["alerts"].trigger.interval == timedelta(seconds=ALERTS_EVERY)
        assert alerted.wait(timeout=10)  # the alerts tick runs at once, then every 30 s

        orders = jobs["orders:atlas:etsy"]
        orders.func(*orders.args)
        orders.func(*orders.args)
        (coop, first), (_, second) = asked
        assert coop == "atlas" and first.kinds == {"orders"} and first.orders_from == {"etsy"}
        # Each run asks with a request of its own: a worker merges later asks into it.
        first.merge(PassRequest({"push"}, orders_from=None))
        assert second.orders_from == {"etsy"} and second.kinds == {"orders"}
        reviews = jobs["reviews:atlas:anou"]
        reviews.func(*reviews.args)
        assert asked[-1][1].reviews == {"anou"} and asked[-1][1].only == "anou"
    finally:
        scheduler.shutdown(wait=False)
