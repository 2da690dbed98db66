"""A bench-only connector: it records every change a pass asks of a channel and confirms it
at once. Used by ``bench_sync.py`` (through ``sync_worker.py``) in place of the marketplaces.

Why: the sync benchmark measures the pass's *own* work, "all but the channel calls" (issue
5). A real connector, even against the local sandbox, spends its time in HTTP, JSON and the
sandbox's own handling, which would dominate the numbers and is measured elsewhere (the
sandbox and crash tests). This one answers in microseconds, counts what it was asked, and
times itself, so that the pass's overhead is its wall time less the time spent in here.

It is not a marketplace: no quota rules, no orders (one empty page per pull), no read-back,
no reviews. The channels keep their real types, settings and credentials; only
``ChannelType.connector`` is pointed here (see ``sync_worker.recording_types``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from syndicator.channels.interface import Connector, ItemOutcome, ListingChange, OrderPage
from syndicator.domain.quotas import QuotaRule
from syndicator.plugins import Capability

__all__ = ["CALLS", "PUSHED", "SECONDS", "RecordingConnector", "reset"]

TARGET = "recording_connector:RecordingConnector"  # what ChannelType.connector is set to

# What every RecordingConnector of this process was asked, by channel id.
PUSHED: dict[str, list[ListingChange]] = {}
# Calls made to the connectors (the "channel calls"), by method, and the time spent in them.
CALLS: dict[str, int] = {}
SECONDS: dict[str, float] = {}


def reset() -> None:
    """Forget everything recorded so far (between passes in one process)."""
    PUSHED.clear()
    CALLS.clear()
    SECONDS.clear()


def _count(method: str, start: float) -> None:
    CALLS[method] = CALLS.get(method, 0) + 1
    SECONDS[method] = SECONDS.get(method, 0.0) + time.perf_counter() - start


class RecordingConnector(Connector):
    """Records each :class:`ListingChange` and answers it with an ok :class:`ItemOutcome`."""

    capabilities = frozenset(
        {Capability.LISTINGS, Capability.PRICE_STOCK, Capability.ORDERS, Capability.DELIST}
    )

    @classmethod
    def quota_account(cls, settings: Any, credentials: Mapping[str, str]) -> str:
        return "bench:recorder"

    @classmethod
    def quota_rules(cls, settings: Any) -> Mapping[str, Sequence[QuotaRule]]:
        return {}

    def check(self) -> str:
        start = time.perf_counter()
        try:
            return f"bench recorder for {self.context.channel.id}"
        finally:
            _count("check", start)

    def push(self, changes: Sequence[ListingChange]) -> list[ItemOutcome]:
        """A write call: every change recorded, every one confirmed."""
        start = time.perf_counter()
        try:
            PUSHED.setdefault(self.context.channel.id, []).extend(changes)
            return [
                ItemOutcome(c.sku, True, remote_id=c.remote_id or f"R-{c.sku}") for c in changes
            ]
        finally:
            _count("push", start)

    def pull_orders(self, since: datetime | None) -> Iterator[OrderPage]:
        """No orders: one empty page, its watermark where the pull started."""
        start = time.perf_counter()
        try:
            return iter([OrderPage((), since)])
        finally:
            _count("pull_orders", start)
