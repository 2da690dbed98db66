"""Plan every (cooperative, channel): load the catalog, read the store, project, diff.

This is what ``syndicator plan`` shows and what a sync pass will execute. It never calls a
channel. A catalog that cannot be read plans nothing for its cooperative: what the channels
show stays as it is until the file is fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from syndicator.bulk import paused_gc
from syndicator.catalog import Catalog, CatalogLimits, load_catalog
from syndicator.config import ChannelConfig, Config, CooperativeConfig
from syndicator.planner import Action, PlannedOp, plan_channel
from syndicator.pricing import ExchangeRate
from syndicator.problems import Problem, Severity, Unreadable, did_you_mean
from syndicator.projection import (
    Disabled,
    Held,
    Projection,
    Projector,
    Unchanged,
    unit_key,
)
from syndicator.stock import StockView, stock_views
from syndicator.store import Store
from syndicator.store.repo import ledger_sums, load_listings, load_stock_counts

__all__ = ["ChannelPlan", "CooperativePlan", "PlanReport", "make_plan"]

STALE_RATE_DAYS = 45


@dataclass(slots=True)
class ChannelPlan:
    cooperative: str
    channel: ChannelConfig
    ops: list[PlannedOp] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rate: ExchangeRate | None = None

    def counts(self) -> dict[Action, int]:
        out = dict.fromkeys(Action, 0)
        for op in self.ops:
            out[op.action] += 1
        return out


@dataclass(slots=True)
class CooperativePlan:
    cooperative: CooperativeConfig
    catalog: Catalog | None = None
    unreadable: Problem | None = None
    channels: list[ChannelPlan] = field(default_factory=list)
    stock: dict[str, StockView] = field(default_factory=dict)


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


class PlanFilterError(ValueError):
    """--cooperative or --channel names something the config does not have."""


def _select(
    config: Config, cooperative: str | None, channel: str | None
) -> list[tuple[CooperativeConfig, list[ChannelConfig]]]:
    coops = config.cooperatives
    if cooperative is not None:
        coops = [c for c in coops if c.id == cooperative]
        if not coops:
            ids = [c.id for c in config.cooperatives]
            raise PlanFilterError(
                f'no cooperative "{cooperative}" in the config'
                f"{did_you_mean(cooperative, ids)} (known: {', '.join(ids)})"
            )
    selected = []
    for coop in coops:
        channels = [c for c in coop.channels if channel is None or c.id == channel]
        if channel is not None and not channels and cooperative is not None:
            ids = [c.id for c in coop.channels]
            raise PlanFilterError(
                f'cooperative {coop.id} has no channel "{channel}"'
                f"{did_you_mean(channel, ids)} (known: {', '.join(ids)})"
            )
        selected.append((coop, channels))
    if channel is not None and not any(chs for _, chs in selected):
        raise PlanFilterError(f'no channel "{channel}" in the config')
    return selected


def make_plan(
    config: Config,
    store: Store,
    *,
    today: date,
    cooperative: str | None = None,
    channel: str | None = None,
) -> PlanReport:
    """The plan for the selected cooperatives and channels, as of ``today`` (for rates)."""
    report = PlanReport()
    with paused_gc():
        limits = CatalogLimits(max_bytes=config.max_catalog_bytes)
        for coop, channels in _select(config, cooperative, channel):
            cplan = CooperativePlan(coop)
            report.cooperatives.append(cplan)
            try:
                catalog = load_catalog(
                    config.catalog_path(coop),
                    channels=[c.id for c in coop.channels],
                    display=config.catalog_display(coop),
                    cooperative=coop.id,
                    limits=limits,
                )
            except Unreadable as exc:
                cplan.unreadable = exc.problem
                continue
            cplan.catalog = catalog
            units = list(catalog.units())
            with store.read() as conn:
                stored = load_stock_counts(conn, coop.id)
                after_count, after_file = ledger_sums(conn, coop.id, catalog.modified_at)
                cplan.stock = stock_views(
                    units, stored, after_count, after_file, catalog.modified_at
                )
                unit_keys = {u.sku: unit_key(u, cplan.stock[u.sku]) for u in units}
                held_reasons = {
                    sku: f"left out of the catalog because of a problem on line {line}"
                    for sku, line in catalog.held.items()
                }
                for ch in channels:
                    chplan = ChannelPlan(coop.id, ch)
                    cplan.channels.append(chplan)
                    if not ch.enabled:
                        continue
                    try:
                        rate = config.rates.rate(ch.currency, today)
                    except LookupError as exc:
                        chplan.problems.append(Problem(str(config.path), None, f"{ch.id}: {exc}"))
                        continue
                    chplan.rate = rate
                    if rate.day and (today - rate.day).days > STALE_RATE_DAYS:
                        report.warnings.append(
                            f"{coop.id}/{ch.id}: the MAD->{ch.currency} rate is from "
                            f"{rate.day.isoformat()}, {(today - rate.day).days} days ago; add a "
                            "newer row to exchange_rates"
                        )
                    projector = Projector(ch, config.channel_types[ch.type], rate)
                    listings = load_listings(conn, coop.id, ch.id)
                    results: list[Projection | Held | Disabled | Unchanged] = []
                    for u in units:
                        stock = cplan.stock[u.sku]
                        key = projector.input_key(unit_keys[u.sku])
                        state = listings.get(u.sku)
                        if (
                            key is not None
                            and state is not None
                            and state.input_key == key
                            and state.listed
                        ):
                            results.append(Unchanged(u.sku, u.parent_sku))
                        else:
                            results.append(projector.project(u, stock, key))
                    for r in results:
                        if isinstance(r, Held):
                            notes = [f"not listed on {ch.id}: {r.reason}"]
                        elif isinstance(r, Projection):
                            notes = [f"{ch.id}: {w}" for w in r.warnings]
                        else:
                            continue
                        chplan.problems += [
                            Problem(catalog.display, r.line, n, r.sku, Severity.WARNING)
                            for n in notes
                        ]
                    chplan.ops = plan_channel(coop.id, ch.id, results, held_reasons, listings)
    return report
