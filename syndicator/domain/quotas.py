"""Quotas as marketplaces publish them: token buckets of a rate and a burst.

Amazon publishes one per operation and seller (``putListingsItem`` 5 a second, burst 10),
Etsy one per API key for all operations (10 a second and 10,000 a day). A connector declares
the buckets each operation draws from; the store keeps them (:mod:`syndicator.store.quota`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LONG_WINDOW", "QuotaRule"]

LONG_WINDOW = 3600.0  # seconds to fill a bucket from empty: past it, a daily-style limit


@dataclass(frozen=True, slots=True)
class QuotaRule:
    """One bucket an operation draws from: ``rate`` tokens a second, at most ``burst``."""

    bucket: str
    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"quota {self.bucket}: rate and burst must be positive")

    def refilled(self, tokens: float, since: float, now: float) -> float:
        """The level of a bucket that held ``tokens`` at ``since`` (Unix time), at ``now``:
        refilled at the rate, never above the burst."""
        return min(float(self.burst), tokens + max(0.0, now - since) * self.rate)
