"""Plan every (cooperative, channel): load the catalog, read the store, project, diff.

This is what ``syndicator plan`` shows and what a sync pass will execute. It never calls a
channel. A catalog that cannot be read plans nothing for its cooperative: what the channels
show stays as it is until the file is fixed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection

from syndicator.catalog import (
    Catalog,
    CatalogLimits,
    CatalogRows,
    CatalogScan,
    NotSimple,
    read_catalog,
    scan_catalog,
)
from syndicator.common.bulk import paused_gc
from syndicator.common.problems import Problem, Severity, Unreadable, did_you_mean
from syndicator.config import ChannelConfig, Config, CooperativeConfig
from syndicator.domain.pricing import ExchangeRate
from syndicator.errors import ScopeError
from syndicator.planning import quiet as quiet_marks
from syndicator.planning.basis import Basis, BasisDraft, basis_head, load_basis
from syndicator.planning.incremental import families_of, row_key, split_known, split_unchanged
from syndicator.planning.operations import Action, PlannedOp, plan_channel
from syndicator.planning.projection import (
    Disabled,
    Held,
    Projection,
    Projector,
    Unchanged,
    unit_key,
)
from syndicator.planning.stock import StockView, stock_views
from syndicator.store import Store
from syndicator.store.ledger import ledger_sums, load_stock_counts, stock_count_values
from syndicator.store.listings import confirmed_unit_keys, listed_count, listed_skus, load_listings

__all__ = [
    "ChannelPlan",
    "CooperativePlan",
    "PlanReport",
    "basis_to_keep",
    "current_projections",
    "make_plan",
]

STALE_RATE_DAYS = 45


@dataclass(slots=True)
class ChannelPlan:
    cooperative: str
    channel: ChannelConfig
    ops: list[PlannedOp] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rate: ExchangeRate | None = None

    unchanged: int = 0  # SKUs left out unchecked: unchanged, with no op (see make_plan)
    quiet: bool = False  # nothing changed since its last quiet pass: not planned at all

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

    ``incremental``: leave out, unchecked, the products whose rows and stock gave every
    channel's last confirmed listing (see :mod:`syndicator.planning.incremental`); they count as
    unchanged. False checks and projects every row (``plan --all``, ``--explain``).
    ``quiet``: a cooperative whose selected channels are all quiet (nothing changed since
    a pass found nothing to do, see :mod:`syndicator.planning.quiet`) is not read nor planned: its
    channel plans are empty and marked ``quiet``. For sync passes.
    """
    report = PlanReport()
    with paused_gc():
        limits = CatalogLimits(max_bytes=config.max_catalog_bytes)
        for coop, channels in _select(config, cooperative, channel):
            cplan = CooperativePlan(coop)
            report.cooperatives.append(cplan)
            basis: _FromBasis | None = None
            if quiet:
                basis = _quiet_or_basis(config, store, cplan, channels, today)
                if cplan.channels:  # every channel quiet: nothing to plan
                    continue
            scan: CatalogScan | None = None
            try:
                if basis is not None and incremental:
                    scan = _scan(config, coop, limits, basis.basis)
                read = scan.read if scan else _read(config, coop, limits)
            except Unreadable as exc:
                cplan.unreadable = exc.problem
                continue
            cplan.digest = read.digest
            with store.read() as conn:
                _plan_cooperative(
                    config, conn, cplan, read, channels, today, report, incremental,
                    known=(scan, basis) if scan and basis else None,
                    draft=quiet,
                )  # fmt: skip
    return report


def basis_to_keep(cplan: CooperativePlan, unconfirmed: Collection[str] = ()) -> Basis | None:
    """The basis to remember once the plan's changes were sent (see
    :mod:`syndicator.planning.basis`): the products none of whose SKUs the catalog or a channel
    holds, or has a change not confirmed by its channel (``unconfirmed``: failed or not
    sent). None when the plan leaves none (not a whole CSV file planned)."""
    if cplan.draft is None:
        return None
    held = cplan.catalog.held.keys() if cplan.catalog else set()
    left_out = set(held)
    left_out.update(unconfirmed)
    touched: set[str] = set()  # every SKU with an op: listed somewhere, maybe
    for chplan in cplan.channels:
        left_out.update(op.sku for op in chplan.ops if op.action is Action.HOLD)
        touched.update(op.sku for op in chplan.ops)
    return cplan.draft.basis(left_out, held | touched)


def _read(config: Config, coop: CooperativeConfig, limits: CatalogLimits) -> CatalogRows:
    return read_catalog(
        config.catalog_path(coop),
        channels=[c.id for c in coop.channels],
        display=config.catalog_display(coop),
        cooperative=coop.id,
        limits=limits,
    )


def _scan(
    config: Config, coop: CooperativeConfig, limits: CatalogLimits, basis: Basis
) -> CatalogScan | None:
    """The catalog read against ``basis`` (None: it must be read whole)."""
    try:
        return scan_catalog(
            config.catalog_path(coop),
            basis.records,
            channels=[c.id for c in coop.channels],
            display=config.catalog_display(coop),
            cooperative=coop.id,
            limits=limits,
        )
    except NotSimple:
        return None


@dataclass(slots=True)
class _FromBasis:
    """A basis the plan may start from, and the SKUs sold since it was kept."""

    basis: Basis
    sold: set[str]


def _quiet_or_basis(
    config: Config,
    store: Store,
    cplan: CooperativePlan,
    channels: list[ChannelConfig],
    today: date,
) -> _FromBasis | None:
    """Fill ``cplan`` with empty quiet channel plans when every selected channel of the
    cooperative is quiet (see :mod:`syndicator.planning.quiet`). Otherwise, ``cplan`` untouched, the
    cooperative's basis when every selected channel was quiet with the basis's file and
    nothing changed since but the file and orders (new ledger lines: their SKUs are planned
    in full; see :mod:`syndicator.planning.basis`), else None."""
    coop = cplan.cooperative
    digest = quiet_marks.digest_of(config.catalog_path(coop))
    if digest is None:
        return None
    plans: list[ChannelPlan] = []
    # Of each channel: its quiet mark, its basis mark, its key prefix, its listings' part.
    marks: list[tuple[str | None, str | None, str, tuple[object, ...]]] = []
    with store.read() as conn:
        shared = quiet_marks.cooperative_part(conn, coop.id)
        for ch in channels:
            chplan = ChannelPlan(coop.id, ch)
            plans.append(chplan)
            if not ch.enabled:
                continue
            try:
                chplan.rate = config.rates.rate(ch.currency, today)
            except LookupError:
                return None
            stored = quiet_marks.stored_mark(conn, coop.id, ch.id)
            kept = quiet_marks.stored_mark(conn, coop.id, ch.id, quiet_marks.BASIS_STREAM)
            if stored is None and kept is None:
                return None
            prefix = Projector(ch, config.channel_types[ch.type], chplan.rate).key_prefix
            own = quiet_marks.listing_part(conn, coop.id, ch.id)
            marks.append((stored, kept, prefix, own))
        if not marks:
            return None
        if all(q == quiet_marks.mark_of(digest, p, shared, own) for q, _, p, own in marks):
            for chplan in plans:
                chplan.quiet = chplan.channel.enabled
            cplan.channels = plans
            cplan.digest = digest
            return None
        head = basis_head(conn, coop.id)
        if head is None:
            return None
        earlier, ledger_id = head

        def kept_with(shared: tuple[object, ...]) -> bool:
            return all(b == quiet_marks.mark_of(earlier, p, shared, own) for _, b, p, own in marks)

        if kept_with(shared):
            sold: set[str] = set()
        elif kept_with(quiet_marks.cooperative_part(conn, coop.id, ledger_id)):
            sold = quiet_marks.sold_since(conn, coop.id, ledger_id)  # only orders came in
        else:
            return None
        basis = load_basis(conn, coop.id, head)
        return None if basis is None else _FromBasis(basis, sold)


def _plan_cooperative(
    config: Config,
    conn: Connection,
    cplan: CooperativePlan,
    read: CatalogRows,
    channels: list[ChannelConfig],
    today: date,
    report: PlanReport,
    incremental: bool,
    *,
    known: tuple[CatalogScan, _FromBasis] | None = None,
    draft: bool = False,
) -> None:
    """``known``: the file read against a basis (only its new rows parsed): the products
    the basis shows in step are left out unchecked (see :mod:`syndicator.planning.basis`).
    ``draft``: leave in ``cplan.draft`` the basis to remember (CSV catalogs, incremental)."""
    coop = cplan.cooperative
    after_count, after_file = ledger_sums(conn, coop.id, read.modified_at)

    # The channels that can be planned, each with its projector.
    ready: list[tuple[ChannelPlan, Projector]] = []
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
        ready.append((chplan, Projector(ch, config.channel_types[ch.type], rate)))

    unchanged: list[tuple[str, str | None]] = []
    if known is not None and ready:
        scan, start = known
        rows, unchanged, kept, gone_skus = split_known(
            scan.digests, scan.known, scan.parsed, start.basis.records, scan.parse, start.sold
        )
        cplan.from_basis = True
        if draft:
            keys = [row_key(r) for r in rows]
            groups, _ = families_of(keys)
            skus = start.basis.skus - gone_skus
            digests = [r.digest for r in rows]
            cplan.draft = BasisDraft(read.digest, kept, skus, digests, keys, groups)
        catalog = read.build(rows)
        del rows
    elif incremental and ready:
        confirmed = confirmed_unit_keys(
            conn, coop.id, [(chplan.channel.id, p.key_prefix) for chplan, p in ready]
        )
        rows, unchanged, keys, groups = split_unchanged(
            read.rows, stock_count_values(conn, coop.id), after_count, confirmed
        )
        if draft and read.format == "csv":
            digests = [r.digest for r in read.rows]
            cplan.draft = BasisDraft(read.digest, {}, frozenset(), digests, keys, groups)
        catalog = read.build(rows)
        del rows  # the rows checked are in the catalog now; keep no second copy
    else:
        catalog = read.build()
    read.rows = []  # what is left unchecked is not needed any more
    cplan.catalog = catalog
    cplan.unchanged = len(unchanged)
    units = list(catalog.units())
    stored = load_stock_counts(conn, coop.id, [u.sku for u in units] if unchanged else None)
    cplan.stock = stock_views(units, stored, after_count, after_file, catalog.modified_at)
    unit_keys = {u.sku: unit_key(u, cplan.stock[u.sku]) for u in units}
    held_reasons = {
        sku: f"left out of the catalog because of a problem on line {line}"
        for sku, line in catalog.held.items()
    }
    held_available = _held_available(conn, coop.id, catalog, after_count, after_file)
    unchanged_skus = {sku for sku, _ in unchanged}
    # With a basis, a SKU listed and gone from the file is one the basis's file had.
    candidates: list[str] | None = None
    if known is not None:
        seen = unchanged_skus | unit_keys.keys() | catalog.held.keys()
        seen.update(parent for _, parent in unchanged if parent)
        candidates = [sku for sku in known[1].basis.skus if sku not in seen]
    for chplan, projector in ready:
        ch = chplan.channel
        if not unchanged_skus:
            listings = load_listings(conn, coop.id, ch.id)
        else:  # only what this plan looks at: built units, held SKUs, possible delists
            listings = load_listings(conn, coop.id, ch.id, set(unit_keys) | set(catalog.held))
            shown = len(unchanged_skus) + sum(1 for s in listings.values() if s.listed)
            if candidates is not None:  # from a basis: its SKUs may be gone, no others
                listings.update(load_listings(conn, coop.id, ch.id, candidates))
            elif listed_count(conn, coop.id, ch.id) > shown:  # SKUs gone from the catalog
                gone = [k for k in listed_skus(conn, coop.id, ch.id) if k not in unchanged_skus]
                listings.update(load_listings(conn, coop.id, ch.id, gone))
        results: list[Projection | Held | Disabled | Unchanged] = []
        for u in units:
            stock = cplan.stock[u.sku]
            key = projector.input_key(unit_keys[u.sku])
            state = listings.get(u.sku)
            if key is not None and state is not None and state.input_key == key and state.listed:
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
                Problem(catalog.display, r.line, n, r.sku, Severity.WARNING) for n in notes
            ]
        chplan.ops = plan_channel(
            coop.id,
            ch.id,
            results,
            held_reasons,
            listings,
            also_seen=unchanged_skus,
            available={sku: projector.quantity(n) for sku, n in held_available.items()},
        )
        chplan.unchanged = len(unchanged)


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
    catalog = read_catalog(
        config.catalog_path(coop),
        channels=[c.id for c in coop.channels],
        display=config.catalog_display(coop),
        cooperative=coop.id,
        limits=CatalogLimits(max_bytes=config.max_catalog_bytes),
    ).build()
    units = list(catalog.units())
    with store.read() as conn:
        after_count, after_file = ledger_sums(conn, coop.id, catalog.modified_at)
        stored = load_stock_counts(conn, coop.id)
    stock = stock_views(units, stored, after_count, after_file, catalog.modified_at)
    projector = Projector(ch, config.channel_types[ch.type], config.rates.rate(ch.currency, today))
    return [r for u in units if isinstance(r := projector.project(u, stock[u.sku]), Projection)]
