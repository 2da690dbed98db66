"""Fault injection for the emulators: shares of each failure, reproducible from a seed.

For each call, one draw from a seeded random generator decides whether it fails and how:
throttled (429 with Retry-After), server error (500), unavailable (503), dropped connection,
slow answer, or, for writes only, accepted but not applied. The same seed and the same
sequence of calls give the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Fault", "FaultPlan", "Faults"]


class Fault(StrEnum):
    THROTTLE = "throttle"
    ERROR_500 = "error_500"
    ERROR_503 = "error_503"
    DROP = "drop"
    SLOW = "slow"
    LOST_WRITE = "lost_write"


@dataclass(slots=True)
class FaultPlan:
    """Shares (0 to 1) of calls that fail each way, and for which operations."""

    throttle: float = 0.0
    error_500: float = 0.0
    error_503: float = 0.0
    drop: float = 0.0
    slow: float = 0.0
    lost_write: float = 0.0
    slow_seconds: float = 2.0
    retry_after: float = 1.0
    seed: int = 0
    operations: list[str] = field(default_factory=list)  # empty: every operation
    spare: list[str] = field(default_factory=list)  # operations never faulted (a token's)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultPlan:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        plan = cls(**data)
        shares = [plan.throttle, plan.error_500, plan.error_503, plan.drop, plan.slow,
                  plan.lost_write]  # fmt: skip
        if any(not 0 <= s <= 1 for s in shares) or sum(shares) > 1:
            raise ValueError("each share is between 0 and 1, and together at most 1")
        if plan.slow_seconds < 0 or plan.retry_after < 0:
            raise ValueError("slow_seconds and retry_after cannot be negative")
        return plan

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """Draws a fault (or none) for each call, following the current plan."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self.set(plan or FaultPlan())

    def set(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed)
            self.injected: dict[str, int] = {}

    def draw(self, operation: str, *, write: bool) -> Fault | None:
        with self._lock:
            plan = self.plan
            if plan.operations and operation not in plan.operations:
                return None
            if operation in plan.spare:
                return None
            u = self._rng.random()
            edge = 0.0
            for fault, share in (
                (Fault.THROTTLE, plan.throttle),
                (Fault.ERROR_500, plan.error_500),
                (Fault.ERROR_503, plan.error_503),
                (Fault.DROP, plan.drop),
                (Fault.SLOW, plan.slow),
                (Fault.LOST_WRITE, plan.lost_write if write else 0.0),
            ):
                edge += share
                if u < edge:
                    self.injected[fault] = self.injected.get(fault, 0) + 1
                    return fault
            return None
