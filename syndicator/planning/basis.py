"""The plan's basis: the rows of the catalog file as the last pass left the channels.

At the end of a pass of every channel of a cooperative, the pass keeps (:class:`Basis`) the
digest of each row of the products the channels now show as planned (row digest -> SKU
and parent SKU): not held, grouped plainly, every change sent confirmed. Products with a
change a channel refused or that was not sent are left out; so are those the catalog or a
channel holds. With it, each channel gets a *basis mark* (see
:mod:`syndicator.planning.marks`): the store as the basis saw it.

When each channel's basis mark still matches, worked out with the basis's file digest
instead of the file's own, the listings, counts, settings and rates are as they were; the
ledger may only have grown (orders pulled since: their SKUs are planned in full). A product
whose rows are all rows of the basis, untouched by any new, removed or repeated row and not
sold since, is then as the basis saw it: in step on every channel. The next plan parses
only the other rows (see :func:`syndicator.catalog.scan_catalog` and
:func:`syndicator.planning.incremental.split_known`), which turns a one-row edit of a
100,000-row file from reading every row into reading one. Anything else (a change marked
before sending, a new rate) plans as usual, and that pass leaves a new basis.

The basis lives in the store (table ``plan_bases``, one row per cooperative), so a pass in
any process, ``syndicator sync --once`` or the daemon, starts from it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from syndicator.planning.incremental import Family
from syndicator.store.bases import BasisHead, basis_head, basis_records, save_basis_row

__all__ = [
    "BASIS_VERSION",
    "Basis",
    "BasisDraft",
    "kept_head",
    "load_basis",
    "save_basis",
]

# Bump when what a row digest or a basis holds changes: an older basis is then not used.
BASIS_VERSION = "b1"


@dataclass(frozen=True, slots=True)
class Basis:
    """Row digest -> (SKU, parent SKU or "") of every row of the products in step when the
    file whose bytes have digest ``file_digest`` was planned."""

    file_digest: str
    records: Mapping[str, tuple[str, str]]
    # Every SKU the file had (its rows', their parents', those held): a SKU listed then is
    # one of these, so a SKU listed now and gone from the file is one of these too.
    skus: frozenset[str] = frozenset()
    ledger_id: int = 0  # the highest id of the cooperative's ledger lines then (0: none)

    def encode(self) -> bytes:
        """Four LF-separated lists (digests, SKUs, parents, every SKU): quick both ways."""
        skus, parents = zip(*self.records.values(), strict=True) if self.records else ((), ())
        sections = (
            "\n".join(self.records),
            "\n".join(skus),
            "\n".join(parents),
            "\n".join(self.skus),
        )
        return "\x1e".join(sections).encode("utf-8")

    @classmethod
    def decode(cls, file_digest: str, data: bytes, ledger_id: int = 0) -> Basis:
        digests, skus, parents, every = data.decode("utf-8").split("\x1e")
        known = frozenset(every.split("\n")) if every else frozenset()
        if not digests:
            return cls(file_digest, {}, known, ledger_id)
        pairs = zip(skus.split("\n"), parents.split("\n"), strict=True)
        records = dict(zip(digests.split("\n"), pairs, strict=True))
        return cls(file_digest, records, known, ledger_id)


@dataclass(slots=True)
class BasisDraft:
    """What a plan of a whole file leaves for the pass: the basis it keeps once it has sent
    its changes (see :meth:`basis`). ``kept``: rows of the last basis
    left out unchecked (still in step), and ``skus``: the SKUs of the file those rows and
    the last basis account for; the rows grouped into products for this plan: their
    ``digests``, ``keys`` (SKU, parent SKU cell) and ``families``."""

    file_digest: str
    kept: dict[str, tuple[str, str]]
    skus: frozenset[str]
    digests: Sequence[str]
    keys: Sequence[tuple[str | None, object]]
    families: Sequence[Family]

    def basis(self, left_out: Collection[str], also: Collection[str]) -> Basis:
        """The basis of the kept rows and of every family none of whose SKUs is in
        ``left_out`` (held on some channel, for example); ``also``: more SKUs the file may
        have (those the catalog holds, those with an operation). Uses up the draft."""
        records = self.kept  # not copied: this is the draft's last use
        digests, keys = self.digests, self.keys
        skus = {sku for sku, _ in keys if sku}
        skus.update(p.strip() for _, p in keys if isinstance(p, str) and p.strip())
        skus.update(also)
        skus.discard("")
        for family in self.families:
            members = [family.sku, *(sku for _, sku in family.variants)]
            if any(sku in left_out or not _plain(sku) for sku in members):
                continue
            for i in family.indexes():
                row_sku, parent = keys[i]
                if row_sku is None or not digests[i]:  # pragma: no cover - grouped: both
                    break
                records[digests[i]] = (row_sku, parent.strip() if isinstance(parent, str) else "")
        every = self.skus | frozenset(filter(_plain, skus))
        return Basis(self.file_digest, records, every)


def _plain(sku: str) -> bool:
    """A SKU :meth:`Basis.encode` can write (a valid SKU always is)."""
    return "\n" not in sku and "\x1e" not in sku


def kept_head(conn: Connection, cooperative: str) -> BasisHead | None:
    """The head of the cooperative's basis, without its records (None: none of this
    version)."""
    head = basis_head(conn, cooperative)
    return head if head is not None and head.version == BASIS_VERSION else None


def load_basis(conn: Connection, cooperative: str, head: BasisHead | None = None) -> Basis | None:
    """The cooperative's basis (None when there is none, or from another version).
    ``head``: its :func:`kept_head`, when the caller read it already."""
    head = head or kept_head(conn, cooperative)
    if head is None:
        return None
    data = basis_records(conn, cooperative)
    if data is None:
        return None
    try:
        return Basis.decode(head.file_digest, data, head.ledger_id)
    except ValueError:  # damaged: plan as if there were none
        return None


def save_basis(conn: Connection, cooperative: str, basis: Basis, now: datetime) -> None:
    """Remember ``basis``, with the ledger as it is now (call it in the pass's last write,
    when the channels' marks are set)."""
    save_basis_row(
        conn,
        cooperative,
        file_digest=basis.file_digest,
        version=BASIS_VERSION,
        records=basis.encode(),
        rows=len(basis.records),
        now=now,
    )
