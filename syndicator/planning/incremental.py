"""Skip the catalog rows that did not change, before any rule is applied to them.

A confirmed listing stores the key of what it was worked out from (see
:func:`syndicator.planning.projection.unit_key`): the digests of its catalog rows as written, its
available stock, and the channel's settings and rate. This module computes that key for a
product straight from its rows' digests and the stored stock count, without parsing or
checking the rows. When every unit of a product gives the key its listing was confirmed
with, on every channel being planned, nothing can have changed for it: its rows are not
checked again and no operation is planned. Every other product (a row edited, added or
with a reader problem, a SKU used twice, a variant whose product is not there, a sale that
moved its stock, a channel setting or rate that changed) goes through the full rules.

So a pass over a 100,000-SKU catalog where one row changed checks one row. ``syndicator
validate`` always checks every row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from syndicator.catalog.rules import Row
from syndicator.planning.projection import unit_key_of

__all__ = [
    "Family",
    "families_of",
    "family_keys",
    "row_key",
    "split_known",
    "split_unchanged",
]


@dataclass(slots=True)
class Family:
    """A product row and its variant rows, by index in the file's rows, with their SKUs."""

    sku: str
    head: int
    variants: list[tuple[int, str]] = field(default_factory=list)

    def indexes(self) -> list[int]:
        return [self.head, *(i for i, _ in self.variants)]


def row_key(row: Row) -> tuple[str | None, object]:
    """What grouping needs of a row: its SKU (None when the row cannot be grouped cheaply:
    no digest, a reader problem, no SKU) and its parent SKU cell as written."""
    sku = row.cell("sku")
    sku = sku.strip() if type(sku) is str and not row.problems and row.digest else None
    return (sku or None), row.cell("parent_sku")


def families_of(keys: Sequence[tuple[str | None, object]]) -> tuple[list[Family], list[int]]:
    """The rows grouped by product from each row's :func:`row_key` alone, and the rows that
    cannot be grouped that cheaply (no digest, a reader problem, no SKU, a SKU used twice, a
    variant whose product is not a row of the file): those always go through the full
    rules."""
    seen: set[str] = set()
    twice: set[str] = set()
    for sku, _ in keys:
        if sku:
            if sku in seen:
                twice.add(sku)
            seen.add(sku)
    products: dict[str, Family] = {}
    variants: list[tuple[int, str, str]] = []
    loose: list[int] = []
    for i, (sku, parent) in enumerate(keys):
        if sku is None or sku in twice:
            loose.append(i)
            continue
        if parent is None:
            products[sku] = Family(sku, i)
        elif type(parent) is str and (parent := parent.strip()):
            variants.append((i, sku, parent))
        else:
            loose.append(i)
    for i, sku, parent in variants:
        family = products.get(parent)
        if family is None:  # no such product row (or its SKU is used twice)
            loose.append(i)
        else:
            family.variants.append((i, sku))
    return list(products.values()), loose


def family_keys(
    family: Family,
    rows: Sequence[Row],
    counts: Mapping[str, int],
    after_count: Mapping[str, int],
) -> list[tuple[str, str | None, str]] | None:
    """(SKU, parent SKU, unit key) of each unit of ``family``, as :func:`unit_key` would give
    them once built; None when that cannot be told without building (a unit with no stored
    stock count, or a stock cell that is not the stored count written plainly)."""
    head = rows[family.head]
    units = (
        [(rows[i], sku, family.sku, rows[i].digest) for i, sku in family.variants]
        if family.variants
        else [(head, family.sku, None, "")]
    )
    out: list[tuple[str, str | None, str]] = []
    for row, sku, parent, own in units:
        count = counts.get(sku)
        cell = row.cell("stock")
        if count is None or type(cell) is not str or cell.strip() != str(count):
            return None
        out.append((sku, parent, unit_key_of(head.digest, own, count + after_count.get(sku, 0))))
    return out


def split_unchanged(
    rows: Sequence[Row],
    counts: Mapping[str, int],
    after_count: Mapping[str, int],
    confirmed: Mapping[str, str],
) -> tuple[list[Row], list[tuple[str, str | None]], list[tuple[str | None, object]], list[Family]]:
    """The rows to build (in file order), the units left as they are (SKU, parent), every
    row's :func:`row_key` and the families (for a basis, see :mod:`syndicator.planning.basis`).

    ``counts``: the stored stock count of each SKU; ``confirmed``: SKU -> the unit
    key every channel being planned confirmed it with (see
    :func:`syndicator.store.listings.confirmed_unit_keys`).
    """
    keys = [row_key(row) for row in rows]
    groups, build = families_of(keys)
    unchanged: list[tuple[str, str | None]] = []
    get, count_of, sold = confirmed.get, counts.get, after_count.get
    for family in groups:
        if not family.variants:  # most products: one row, one unit (inlined: 100,000s)
            sku = family.sku
            stored, count = get(sku), count_of(sku)
            if stored is not None and count is not None:
                row = rows[family.head]
                cell = row.cell("stock")
                if (
                    type(cell) is str
                    and cell.strip() == str(count)
                    and stored == unit_key_of(row.digest, "", count + sold(sku, 0))
                ):
                    unchanged.append((sku, None))
                    continue
            build.append(family.head)
            continue
        units = family_keys(family, rows, counts, after_count)
        if units is not None and all(get(sku) == key for sku, _, key in units):
            unchanged.extend((sku, parent) for sku, parent, _ in units)
        else:
            build.extend(family.indexes())
    build.sort()
    return [rows[i] for i in build], unchanged, keys, groups


def split_known(
    digests: Sequence[str],
    hits: Sequence[tuple[str, str] | None],
    parsed: Mapping[int, Row],
    known: Mapping[str, tuple[str, str]],
    parse: Callable[[int], Row | None],
    sold: Collection[str] = (),
) -> tuple[list[Row], list[tuple[str, str | None]], dict[str, tuple[str, str]], set[str]]:
    """:func:`split_unchanged` against a basis (see :mod:`syndicator.planning.basis`) instead of the
    store. ``known``: the basis's rows (row digest -> SKU and parent SKU, "" for none);
    ``digests`` the digest of every row of the file, ``hits`` what ``known`` says of each
    (None: a new row), ``parsed`` the new rows by index, ``parse`` the row of any index,
    ``sold`` the SKUs with ledger lines since the basis was kept.

    A product is left out when all its rows are rows of the basis, no new, removed or
    repeated row names its SKUs (as SKU or parent) and none of them was sold since: the
    store is as it was when the basis was in step, so it still is. Built: every new row,
    and every known row of a product so named (whole products, as
    :meth:`CatalogRows.build` needs). Returns the rows to build, the units left as they
    are, the known rows left out and the SKUs of removed rows (for the next basis).
    """
    named: set[str] = set(sold)  # SKUs sold, or a new, removed or repeated row names
    for row in parsed.values():
        for name in ("sku", "parent_sku"):
            cell = row.cell(name)
            if isinstance(cell, str) and cell.strip():
                named.add(cell.strip())
    present = set(digests)
    gone: set[str] = set()
    for digest in known.keys() - present:  # rows removed since
        gone.update(known[digest])
    named |= gone
    if len(present) != len(digests):  # the very same row written twice
        seen: set[str] = set()
        for digest in digests:
            if digest in seen and digest in known:
                named.update(known[digest])
            seen.add(digest)
    named.discard("")
    parent_of = {sku: parent for sku, parent in known.values() if parent}
    dirty = named | {parent_of[sku] for sku in named if sku in parent_of}  # their products
    with_variants = set(parent_of.values())
    build: list[int] = []
    unchanged: list[tuple[str, str | None]] = []
    kept: dict[str, tuple[str, str]] = {}
    for i, hit in enumerate(hits):
        if hit is None or (hit[1] or hit[0]) in dirty:
            build.append(i)
            continue
        kept[digests[i]] = hit
        sku, parent = hit
        if parent:
            unchanged.append((sku, parent))
        elif sku not in with_variants:
            unchanged.append((sku, None))
    rows = [r for i in build if (r := parsed[i] if i in parsed else parse(i)) is not None]
    gone.discard("")
    return rows, unchanged, kept, gone
