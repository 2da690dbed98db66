"""Which rows of a cooperative's catalog a plan checks at all: the one way past the rules.

Planning a row costs reading, checking, projecting and comparing it; a pass usually finds
that almost nothing changed. Three shortcuts say so before any rule runs, tried in this
order, each falling back to the next:

1. **Quiet** (:mod:`syndicator.planning.marks`): every channel's quiet mark still matches
   the file's bytes and the store: nothing changed since a pass found every channel in
   step. Nothing is read, nothing is planned.
2. **From the basis** (:mod:`syndicator.planning.basis`): every channel's basis mark matches
   with the basis's file, the ledger only grew. The file is cut into records and only the
   records the basis does not know are parsed; a product whose rows are all known, not
   named by a new or removed row and not sold since, is left out unchecked.
3. **Incremental** (:mod:`syndicator.planning.incremental`): the whole file is read, and a
   product whose rows and stored stock give the very input key every channel confirmed
   its listing with is left out unchecked.

Otherwise every row is checked (``syndicator plan --all``, ``--explain``, a YAML catalog,
no channel ready). The selector hands the plan the rows to check and the units left as
they are; a row then goes on to the rules, the projection and the operations, and never
comes back here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from syndicator.catalog import CatalogLimits, CatalogRows, CatalogScan
from syndicator.catalog.csv_reader import NotSimple
from syndicator.catalog.rules import Row
from syndicator.config import Config, CooperativeConfig
from syndicator.planning.basis import Basis, BasisDraft, kept_head, load_basis
from syndicator.planning.incremental import families_of, row_key, split_known, split_unchanged
from syndicator.planning.marks import BASIS_STREAM, QUIET_STREAM, digest_of, mark_of
from syndicator.planning.model import ChannelPlan
from syndicator.planning.sources import read_cooperative_catalog, scan_cooperative_catalog
from syndicator.store import Store
from syndicator.store.ledger import ledger_sums, stock_count_values
from syndicator.store.listings import confirmed_unit_keys
from syndicator.store.marks import cooperative_part, listing_part, sold_since, stored_mark

__all__ = ["FromBasis", "Quiet", "Selection", "Selector"]


@dataclass(frozen=True, slots=True)
class Quiet:
    """Every channel is quiet with the file whose bytes have ``digest``: nothing to read."""

    digest: str


@dataclass(slots=True)
class FromBasis:
    """A basis the plan may start from, and the SKUs sold since it was kept."""

    basis: Basis
    sold: set[str]


@dataclass(slots=True)
class Selection:
    """What the plan of one cooperative checks.

    ``rows``: the rows to check (None: every row of ``read``); ``unchanged``: the units
    left as they are, (SKU, parent SKU); ``basis_skus``: from a basis, every SKU its file
    had (a SKU listed and gone from the file is one of these); ``after_count`` and
    ``after_file``: the ledger's changes per SKU since its stored count and since the
    file's save time; ``draft``: the basis a pass keeps once it has sent.
    """

    read: CatalogRows
    rows: list[Row] | None = None
    unchanged: list[tuple[str, str | None]] = field(default_factory=list)
    basis_skus: frozenset[str] | None = None
    after_count: dict[str, int] = field(default_factory=dict)
    after_file: dict[str, int] = field(default_factory=dict)
    draft: BasisDraft | None = None

    @property
    def from_basis(self) -> bool:
        return self.basis_skus is not None


class Selector:
    """Chooses the rows a plan of ``cooperative``'s ``channels`` checks.

    ``channels``: the channel plans being made, each with its rate and key prefix (None
    when it is not planned). ``incremental``: use the shortcuts that leave rows unchecked;
    ``quiet``: also the quiet marks and the basis, and leave a draft of the next basis
    (sync passes).
    """

    def __init__(
        self,
        config: Config,
        cooperative: CooperativeConfig,
        channels: Sequence[ChannelPlan],
        *,
        limits: CatalogLimits,
        incremental: bool,
        quiet: bool,
    ) -> None:
        self.config = config
        self.cooperative = cooperative
        self.channels = channels
        self.limits = limits
        self.incremental = incremental
        self.quiet = quiet
        self.ready = [c for c in channels if c.key_prefix is not None]

    # ------------------------------------------------------------------ 1. before reading
    def start(self, store: Store) -> Quiet | FromBasis | None:
        """Before reading the file: :class:`Quiet` when every channel is quiet (nothing to
        read), the basis to start from when it holds, else None."""
        if not self.quiet:
            return None
        coop = self.cooperative
        digest = digest_of(self.config.catalog_path(coop))
        if digest is None:
            return None
        enabled = [c for c in self.channels if c.channel.enabled]
        if not enabled or any(c.key_prefix is None for c in enabled):
            return None  # nothing to plan, or a channel without a rate: plan, and say so
        with store.read() as conn:
            shared = cooperative_part(conn, coop.id)
            # Of each channel: its quiet mark, its basis mark, its key prefix, its listings.
            marks = []
            for chplan in enabled:
                ch, prefix = chplan.channel.id, chplan.key_prefix
                assert prefix is not None
                quiet = stored_mark(conn, coop.id, ch, QUIET_STREAM)
                kept = stored_mark(conn, coop.id, ch, BASIS_STREAM)
                if quiet is None and kept is None:
                    return None
                marks.append((quiet, kept, prefix, listing_part(conn, coop.id, ch)))
            if all(q == mark_of(digest, p, shared, own) for q, _, p, own in marks):
                return Quiet(digest)
            head = kept_head(conn, coop.id)
            if head is None:
                return None

            def kept_with(shared: tuple[object, ...]) -> bool:
                return all(b == mark_of(head.file_digest, p, shared, own) for _, b, p, own in marks)

            if kept_with(shared):
                sold: set[str] = set()
            elif kept_with(cooperative_part(conn, coop.id, head.ledger_id)):
                sold = sold_since(conn, coop.id, head.ledger_id)  # only orders came in
            else:
                return None
            basis = load_basis(conn, coop.id, head)
        return None if basis is None else FromBasis(basis, sold)

    # ------------------------------------------------------------------ 2. reading
    def read(self, start: FromBasis | None) -> CatalogRows | CatalogScan:
        """The file, read against the basis when there is one and the file can be cut
        (only its new records parsed), else whole. Raises
        :class:`~syndicator.common.problems.Unreadable`."""
        if start is not None and self.incremental:
            try:
                return scan_cooperative_catalog(
                    self.config, self.cooperative, start.basis.records, self.limits
                )
            except NotSimple:
                pass
        return read_cooperative_catalog(self.config, self.cooperative, self.limits)

    # ------------------------------------------------------------------ 3. choosing rows
    def select(
        self, conn: Connection, read: CatalogRows | CatalogScan, start: FromBasis | None
    ) -> Selection:
        """The rows to check and the units left as they are (see the module's doc)."""
        coop = self.cooperative.id
        scan, rows = (read, read.read) if isinstance(read, CatalogScan) else (None, read)
        sel = Selection(rows)
        sel.after_count, sel.after_file = ledger_sums(conn, coop, rows.modified_at)
        if not self.ready:
            return sel
        if scan is not None and start is not None:
            parsed, sel.unchanged, kept, gone = split_known(
                scan.digests, scan.known, scan.parsed, start.basis.records, scan.parse, start.sold
            )
            sel.basis_skus = start.basis.skus
            if self.quiet:
                keys = [row_key(r) for r in parsed]
                groups, _ = families_of(keys)
                digests = [r.digest for r in parsed]
                skus = start.basis.skus - gone
                sel.draft = BasisDraft(rows.digest, kept, skus, digests, keys, groups)
            sel.rows = parsed
        elif self.incremental:
            prefixes = [(c.channel.id, c.key_prefix) for c in self.ready if c.key_prefix]
            sel.rows, sel.unchanged, keys, groups = split_unchanged(
                rows.rows,
                stock_count_values(conn, coop),
                sel.after_count,
                confirmed_unit_keys(conn, coop, prefixes),
            )
            if self.quiet and rows.format == "csv":
                digests = [r.digest for r in rows.rows]
                sel.draft = BasisDraft(rows.digest, {}, frozenset(), digests, keys, groups)
        return sel
