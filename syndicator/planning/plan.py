"""Plan every (cooperative, channel): which rows to check, project them, compare with the store.

This is what ``syndicator plan`` shows and what a sync pass will execute. It never calls a
channel. A row goes one way: the catalog reads it, the selector
(:mod:`syndicator.planning.selector`) says whether it needs checking at all, the rules
check it, the projection works out what each channel should show, the operations compare
that with what each channel was last confirmed to show. A catalog that cannot be read
plans nothing for its cooperative: what the channels show stays as it is until the file is
fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import Connection

from syndicator.catalog import Catalog, CatalogLimits
from syndicator.catalog.model import Unit
from syndicator.common.bulk import paused_gc
from syndicator.common.logs import get_logger
from syndicator.common.problems import Problem, Severity, Unreadable, did_you_mean
from syndicator.config import ChannelConfig, Config, CooperativeConfig
from syndicator.domain.listings import ListingState
from syndicator.errors import ScopeError
from syndicator.planning.availability import stock_views
from syndicator.planning.model import ChannelPlan, CooperativePlan, PlanReport
from syndicator.planning.operations import plan_channel
from syndicator.planning.projection import (
    Disabled,
    Held,
    Projection,
    Projector,
    Unchanged,
    unit_key,
)
from syndicator.planning.selector import Quiet, Selection, Selector
from syndicator.planning.sources import read_cooperative_catalog
from syndicator.store import Store
from syndicator.store.ledger import ledger_sums, load_stock_counts
from syndicator.store.listings import listed_count, listed_skus, load_listings

log = get_logger("syndicator.planning")

# A plan and its parts (syndicator.planning.model), with what makes them.
__all__ = ["ChannelPlan", "CooperativePlan", "PlanReport", "current_projections", "make_plan"]

STALE_RATE_DAYS = 45


def _select(
    config: Config, cooperative: str | None, channel: str | None
) -> list[tuple[CooperativeConfig, list[ChannelConfig]]]:
    coops = config.cooperatives
    if cooperative is not None:
        coops = [c for c in coops if c.id == cooperative]
        if not coops:
            ids = [c.id for c in config.cooperatives]
            raise ScopeError(
                f'no cooperative "{cooperative}" in the config'
                f"{did_you_mean(cooperative, ids)} (known: {', '.join(ids)})"
            )
    selected = []
    for coop in coops:
        channels = [c for c in coop.channels if channel is None or c.id == channel]
        if channel is not None and not channels and cooperative is not None:
            ids = [c.id for c in coop.channels]
            raise ScopeError(
                f'cooperative {coop.id} has no channel "{channel}"'
                f"{did_you_mean(channel, ids)} (known: {', '.join(ids)})"
            )
        selected.append((coop, channels))
    if channel is not None and not any(chs for _, chs in selected):
        raise ScopeError(f'no channel "{channel}" in the config')
    return selected


def make_plan(
    config: Config,
    store: Store,
    *,
    today: date,
    cooperative: str | None = None,
    channel: str | None = None,
    incremental: bool = True,
    quiet: bool = False,
) -> PlanReport:
    """The plan for the selected cooperatives and channels, as of ``today`` (for rates).

    ``incremental``: leave out, unchecked, the products nothing changed for (see
    :mod:`syndicator.planning.selector`); they count as unchanged. False checks and projects
    every row (``plan --all``, ``--explain``). ``quiet``: a cooperative whose selected
    channels are all quiet (nothing changed since a pass found nothing to do) is not read
    nor planned: its channel plans are empty and marked ``quiet``; and the plan may start
    from the last pass's basis, and leaves a draft of the next. For sync passes.
    """
    report = PlanReport()
    with paused_gc():
        limits = CatalogLimits(max_bytes=config.max_catalog_bytes)
        for coop, channels in _select(config, cooperative, channel):
            cplan = CooperativePlan(coop)
            report.cooperatives.append(cplan)
            projectors = _channel_plans(config, cplan, channels, today)
            selector = Selector(
                config, coop, cplan.channels, limits=limits, incremental=incremental, quiet=quiet
            )
            start = selector.start(store)
            if isinstance(start, Quiet):
                for chplan in cplan.channels:
                    chplan.quiet = chplan.channel.enabled
                cplan.digest = start.digest
                continue
            try:
                read = selector.read(start)
            except Unreadable as exc:
                cplan.unreadable = exc.problem
                cplan.channels = []
                continue
            report.warnings += _stale_rates(cplan, today)
            with store.read() as conn:
                selection = selector.select(conn, read, start)
                _plan_selected(conn, cplan, selection, projectors)
    return report


def _channel_plans(
    config: Config, cplan: CooperativePlan, channels: list[ChannelConfig], today: date
) -> dict[str, Projector]:
    """A plan for each channel, with its rate and key prefix when it is planned at all
    (enabled, with an exchange rate); the projector of each planned one, by channel id."""
    projectors: dict[str, Projector] = {}
    for ch in channels:
        chplan = ChannelPlan(cplan.cooperative.id, ch)
        cplan.channels.append(chplan)
        if not ch.enabled:
            continue
        try:
            chplan.rate = config.rates.rate(ch.currency, today)
        except LookupError as exc:
            chplan.problems.append(Problem(str(config.path), None, f"{ch.id}: {exc}"))
            continue
        projector = Projector(ch, config.channel_types[ch.type], chplan.rate)
        chplan.key_prefix = projector.key_prefix
        projectors[ch.id] = projector
    return projectors


def _stale_rates(cplan: CooperativePlan, today: date) -> list[str]:
    out = []
    for chplan in cplan.channels:
        rate, ch = chplan.rate, chplan.channel
        if rate is not None and rate.day and (today - rate.day).days > STALE_RATE_DAYS:
            out.append(
                f"{cplan.cooperative.id}/{ch.id}: the MAD->{ch.currency} rate is from "
                f"{rate.day.isoformat()}, {(today - rate.day).days} days ago; add a "
                "newer row to exchange_rates"
            )
    return out


def _plan_selected(
    conn: Connection,
    cplan: CooperativePlan,
    selection: Selection,
    projectors: Mapping[str, Projector],
) -> None:
    """Check the selected rows, project their units onto each planned channel, and compare
    with what each channel was last confirmed to show."""
    coop = cplan.cooperative.id
    read = selection.read
    cplan.digest = read.digest
    cplan.draft = selection.draft
    cplan.from_basis = selection.from_basis
    catalog = read.build(selection.rows)
    read.rows = []  # what is left unchecked is not needed any more
    selection.rows = None  # the rows checked are in the catalog now; keep no second copy
    cplan.catalog = catalog
    cplan.unchanged = len(selection.unchanged)
    units = list(catalog.units())
    after_count, after_file = selection.after_count, selection.after_file
    stored = load_stock_counts(conn, coop, [u.sku for u in units] if selection.unchanged else None)
    cplan.stock = stock_views(units, stored, after_count, after_file, catalog.modified_at)
    unit_keys = {u.sku: unit_key(u, cplan.stock[u.sku]) for u in units}
    held_reasons = {
        sku: f"left out of the catalog because of a problem on line {line}"
        for sku, line in catalog.held.items()
    }
    held_available = _held_available(conn, coop, catalog, after_count, after_file)
    unchanged = {sku for sku, _ in selection.unchanged}
    # From a basis, a SKU listed and gone from the file is one the basis's file had.
    candidates: list[str] | None = None
    if selection.basis_skus is not None:
        seen = unchanged | unit_keys.keys() | catalog.held.keys()
        seen.update(parent for _, parent in selection.unchanged if parent)
        candidates = [sku for sku in selection.basis_skus if sku not in seen]
    for chplan in cplan.channels:
        projector = projectors.get(chplan.channel.id)
        if projector is None:
            continue
        listings = _listings(
            conn, chplan, unit_keys.keys() | catalog.held.keys(), unchanged, candidates
        )
        results = _project(projector, units, cplan, unit_keys, listings)
        chplan.held = {r.sku for r in results if isinstance(r, Held)}
        chplan.faults = {r.sku for r in results if isinstance(r, Held) and r.fault}
        chplan.problems += _notes(chplan, results, catalog)
        chplan.ops = plan_channel(
            coop,
            chplan.channel.id,
            results,
            held_reasons,
            listings,
            also_seen=unchanged,
            available={sku: projector.quantity(n) for sku, n in held_available.items()},
        )
        chplan.unchanged = len(selection.unchanged)


def _listings(
    conn: Connection,
    chplan: ChannelPlan,
    looked_at: set[str],
    unchanged: set[str],
    candidates: list[str] | None,
) -> dict[str, ListingState]:
    """The channel's listings this plan needs: all of them, or, when units were left
    unchecked, only those of the units checked, the SKUs held and those that may have
    left the file (``candidates`` from a basis; else any listed SKU not accounted for)."""
    coop, ch = chplan.cooperative, chplan.channel.id
    if not unchanged:
        return load_listings(conn, coop, ch)
    listings = load_listings(conn, coop, ch, looked_at)
    shown = len(unchanged) + sum(1 for s in listings.values() if s.listed)
    if candidates is not None:  # from a basis: its SKUs may be gone, no others
        listings.update(load_listings(conn, coop, ch, candidates))
    elif listed_count(conn, coop, ch) > shown:  # SKUs gone from the catalog
        gone = [k for k in listed_skus(conn, coop, ch) if k not in unchanged]
        listings.update(load_listings(conn, coop, ch, gone))
    return listings


def _project(
    projector: Projector,
    units: list[Unit],
    cplan: CooperativePlan,
    unit_keys: Mapping[str, str | None],
    listings: Mapping[str, ListingState],
) -> list[Projection | Held | Disabled | Unchanged]:
    """Each unit as the channel should show it, or :class:`Unchanged` when it is worked out
    from the very inputs of its last confirmed listing."""
    results: list[Projection | Held | Disabled | Unchanged] = []
    for u in units:
        key = projector.input_key(unit_keys[u.sku])
        state = listings.get(u.sku)
        if key is not None and state is not None and state.input_key == key and state.listed:
            results.append(Unchanged(u.sku, u.parent_sku))
        else:
            results.append(_project_one(projector, u, cplan, key))
    return results


def _project_one(
    projector: Projector, unit: Unit, cplan: CooperativePlan, key: str | None
) -> Projection | Held | Disabled:
    """One unit as the channel should show it. A failure of Syndicator's own on one unit (a
    bug a row brought out) holds that unit with the error and lets the rest go on: logged
    with its traceback, the unit keeps what it shows, never more than is left."""
    view = cplan.stock[unit.sku]
    try:
        return projector.project(unit, view, key)
    except Exception as exc:
        ch = projector.channel.id
        log.exception(
            "projection_failed", cooperative=cplan.cooperative.id, channel=ch, sku=unit.sku
        )
        why = (
            f"Syndicator could not work it out for {ch} ({type(exc).__name__}: {exc}); "
            "this is a bug, please report it with the log line projection_failed"
        )
        available = projector.quantity(view.available)
        return Held(unit.sku, unit.parent_sku, why, unit.line, available, fault=True)


def _notes(
    chplan: ChannelPlan, results: list[Projection | Held | Disabled | Unchanged], catalog: Catalog
) -> list[Problem]:
    """Why a unit is not listed on the channel, and what the channel leaves out of it."""
    ch = chplan.channel.id
    out = []
    for r in results:
        if isinstance(r, Held):
            notes = [f"not listed on {ch}: {r.reason}"]
        elif isinstance(r, Projection):
            notes = [f"{ch}: {w}" for w in r.warnings]
        else:
            continue
        out += [Problem(catalog.display, r.line, n, r.sku, Severity.WARNING) for n in notes]
    return out


def _held_available(
    conn: Connection,
    cooperative: str,
    catalog: Catalog,
    after_count: Mapping[str, int],
    after_file: Mapping[str, int],
) -> dict[str, int]:
    """What is left of each SKU the catalog holds (its row, or its product's, has a problem),
    where known: the lower of its last stored count and the count its own row gives (when
    that cell is good), each less the sales since. Lower, because a held row is only half
    trusted: it may take stock down, never up."""
    if not catalog.held:
        return {}
    stored = load_stock_counts(conn, cooperative, list(catalog.held))
    left: dict[str, int] = {}
    for sku in catalog.held:
        known = []
        if (old := stored.get(sku)) is not None:
            known.append(old.count + after_count.get(sku, 0))
        row = catalog.held_stock.get(sku)
        if row is not None and (old is None or old.count != row):
            known.append(row + after_file.get(sku, 0))  # a new count, dated as any other
        if known:
            left[sku] = max(0, min(known))
    return left


def current_projections(
    config: Config, store: Store, cooperative: str, channel: str, *, today: date
) -> list[Projection]:
    """What ``cooperative``'s ``channel`` should show now, unit by unit, every row checked
    and every unit projected (held and turned-off units left out): for a product feed.

    Raises :class:`~syndicator.common.problems.Unreadable` when the catalog cannot be read and
    LookupError when the channel has no exchange rate for ``today``.
    """
    coop = config.cooperative(cooperative)
    ch = coop.channel(channel)
    catalog = read_cooperative_catalog(config, coop).build()
    units = list(catalog.units())
    with store.read() as conn:
        after_count, after_file = ledger_sums(conn, coop.id, catalog.modified_at)
        stored = load_stock_counts(conn, coop.id)
    stock = stock_views(units, stored, after_count, after_file, catalog.modified_at)
    projector = Projector(ch, config.channel_types[ch.type], config.rates.rate(ch.currency, today))
    return [r for u in units if isinstance(r := projector.project(u, stock[u.sku]), Projection)]
