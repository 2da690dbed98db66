"""What a plan is: per cooperative and channel, the operations, problems and what it read.

:func:`syndicator.planning.plan.make_plan` fills these; ``syndicator plan`` shows them, a
sync pass sends their operations and keeps what they read (:mod:`syndicator.planning.marks`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from syndicator.catalog import Catalog
from syndicator.common.problems import Problem
from syndicator.config import ChannelConfig, CooperativeConfig
from syndicator.domain.pricing import ExchangeRate
from syndicator.planning.availability import StockView
from syndicator.planning.basis import BasisDraft
from syndicator.planning.operations import WRITE_ACTIONS, Action, PlannedOp

__all__ = ["ChannelPlan", "CooperativePlan", "PlanReport"]


@dataclass(slots=True)
class ChannelPlan:
    cooperative: str
    channel: ChannelConfig
    ops: list[PlannedOp] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rate: ExchangeRate | None = None

    key_prefix: str | None = None  # of its input keys (None: not planned, no rate)
    held: set[str] = field(default_factory=set)  # SKUs it cannot take as they are (Held)
    faults: set[str] = field(default_factory=set)  # of those, held by a failure of our own

    unchanged: int = 0  # SKUs left out unchecked: unchanged, with no op (see make_plan)
    quiet: bool = False  # nothing changed since its last quiet pass: not planned at all

    def writes(self) -> set[str]:
        """The SKUs whose operation changes something on the channel."""
        return {op.sku for op in self.ops if op.action in WRITE_ACTIONS}

    def counts(self) -> dict[Action, int]:
        out = dict.fromkeys(Action, 0)
        for op in self.ops:
            out[op.action] += 1
        out[Action.UNCHANGED] += self.unchanged
        return out


@dataclass(slots=True)
class CooperativePlan:
    cooperative: CooperativeConfig
    catalog: Catalog | None = None
    unreadable: Problem | None = None
    channels: list[ChannelPlan] = field(default_factory=list)
    stock: dict[str, StockView] = field(default_factory=dict)  # of the units checked
    unchanged: int = 0  # units left out unchecked because nothing changed for them
    digest: str | None = None  # of the catalog file's bytes the plan worked from
    draft: BasisDraft | None = None  # what the pass keeps as its basis, once it has sent
    from_basis: bool = False  # only the rows new since the basis were read (basis.py)


@dataclass(slots=True)
class PlanReport:
    cooperatives: list[CooperativePlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def ops(self) -> Iterator[PlannedOp]:
        for coop in self.cooperatives:
            for channel in coop.channels:
                yield from channel.ops

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        for coop in self.cooperatives:
            if coop.unreadable:
                out.append(coop.unreadable)
            if coop.catalog:
                out += coop.catalog.problems
            for channel in coop.channels:
                out += channel.problems
        return out
