"""What each marketplace lets one seller or API key call: one table, read by the
connectors (to stay inside it) and by the sandbox (to enforce it).

Each operation has the rate and burst its marketplace publishes (requests per second, and
the bucket size). Etsy counts all calls of an API key together, per second and per day, so
its operations share one bucket (``*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from syndicator.connector import QuotaRule

__all__ = ["QUOTAS", "Limit", "PublishedLimits", "quota_rules"]


@dataclass(frozen=True, slots=True)
class Limit:
    rate: float  # tokens per second
    burst: int  # bucket size
    per_day: int | None = None  # a second, daily bucket (Etsy)


# (marketplace, operation) -> quota; "*" is the shared bucket of a marketplace.
# Amazon: the usage plans in the SP-API models (rate / burst per selling partner).
# Etsy: per API key, 10 per second and 10,000 per day (the historic defaults).
# ANOU-style: our own published limits, see docs/anou-api.md.
QUOTAS: dict[tuple[str, str], Limit] = {
    ("amazon", "lwaToken"): Limit(10, 100),
    ("amazon", "putListingsItem"): Limit(5, 10),
    ("amazon", "patchListingsItem"): Limit(5, 10),
    ("amazon", "getListingsItem"): Limit(5, 10),
    ("amazon", "deleteListingsItem"): Limit(5, 10),
    ("amazon", "searchListingsItems"): Limit(5, 5),
    ("amazon", "createFeedDocument"): Limit(0.5, 15),
    ("amazon", "createFeed"): Limit(0.0083, 15),
    ("amazon", "getFeed"): Limit(2, 15),
    ("amazon", "getFeedDocument"): Limit(0.0222, 10),
    ("amazon", "searchOrders"): Limit(0.0056, 20),
    ("amazon", "getOrder"): Limit(0.5, 30),
    ("amazon", "getOrders"): Limit(0.0167, 20),
    ("amazon", "getOrderItems"): Limit(0.5, 30),
    ("amazon", "createReport"): Limit(0.0167, 15),
    ("amazon", "getReport"): Limit(2, 15),
    ("amazon", "getReportDocument"): Limit(0.0167, 15),
    ("etsy", "*"): Limit(10, 10, per_day=10_000),
    ("anou", "*"): Limit(20, 40, per_day=100_000),
}


def quota_rules(marketplace: str) -> dict[str, list[QuotaRule]]:
    """The table's rows for ``marketplace`` as the buckets a connector draws from: one per
    operation, and for a daily limit a second bucket that refills over a day."""
    out: dict[str, list[QuotaRule]] = {}
    for (market, operation), q in QUOTAS.items():
        if market != marketplace:
            continue
        rules = [QuotaRule(operation, q.rate, q.burst)]
        if q.per_day:
            rules.append(QuotaRule(f"{operation}/day", q.per_day / 86_400, q.per_day))
        out[operation] = rules
    return out


class PublishedLimits:
    """A connector's ``quota_rules``: its marketplace's rows of the table (a mixin put
    before :class:`~syndicator.connector.Connector`; ``limits`` names the marketplace)."""

    limits: ClassVar[str]

    @classmethod
    def quota_rules(cls, settings: Any) -> dict[str, list[QuotaRule]]:
        return quota_rules(cls.limits)
