"""Telling unchanged products from their rows alone, before any rule is applied."""

from __future__ import annotations

from syndicator.catalog.rules import Row
from syndicator.common.problems import Problem
from syndicator.planning.incremental import (
    Family,
    families_of,
    family_keys,
    row_key,
    split_unchanged,
)
from syndicator.planning.projection import unit_key_of


def families(rows: list[Row]) -> tuple[list[Family], list[int]]:
    return families_of([row_key(r) for r in rows])


def row(line: int, sku: str, parent: str | None = None, stock: str = "1", **kw: str) -> Row:
    fields = {"sku": sku, "stock": stock, **kw}
    if parent is not None:
        fields["parent_sku"] = parent
    return Row(line, fields, digest=f"d{line}")


def test_rows_are_grouped_by_product_and_the_doubtful_ones_set_apart() -> None:
    rows = [
        row(2, "RUG-1"),
        row(3, "CSH-1", stock=""),
        row(4, "CSH-1-S", "CSH-1"),
        row(5, "DUP"),
        row(6, "DUP"),  # used twice: both always checked in full
        row(7, "ORPHAN-S", "NOWHERE"),  # its product is not in the file
        Row(8, {"sku": "BAD"}, problems=[Problem("f", 8, "too many cells")], digest="d8"),
        Row(9, {"title:en": "no sku"}, digest="d9"),
        row(10, "CSH-1-L", "CSH-1"),  # a variant may come after other products
    ]
    groups, loose = families(rows)
    assert [(f.sku, f.head, f.variants) for f in groups] == [
        ("RUG-1", 0, []),
        ("CSH-1", 1, [(2, "CSH-1-S"), (8, "CSH-1-L")]),
    ]
    assert sorted(loose) == [3, 4, 5, 6, 7]


def test_unit_keys_come_from_digests_and_the_stored_count() -> None:
    rows = [row(2, "CSH-1", stock=""), row(3, "CSH-1-S", "CSH-1", stock=" 4 ")]
    (family,), _ = families(rows)
    keys = family_keys(family, rows, {"CSH-1-S": 4}, {"CSH-1-S": -1})
    assert keys == [("CSH-1-S", "CSH-1", unit_key_of("d2", "d3", 3))]
    # A cell that is not the stored count written plainly cannot be told without the rules.
    assert family_keys(family, rows, {"CSH-1-S": 5}, {}) is None
    assert family_keys(family, rows, {}, {}) is None  # never counted


def test_only_products_every_channel_confirmed_are_left_out() -> None:
    rows = [row(2, "RUG-1"), row(3, "RUG-2", stock="2"), row(4, "RUG-3")]
    confirmed = {
        "RUG-1": unit_key_of("d2", "", 1),
        "RUG-2": unit_key_of("d3", "", 2),  # but one sold since: 1 available now
        # RUG-3: not listed (or keys differ) on some channel
    }
    build, unchanged, _, _ = split_unchanged(
        rows, {"RUG-1": 1, "RUG-2": 2, "RUG-3": 1}, {"RUG-2": -1}, confirmed
    )
    assert unchanged == [("RUG-1", None)]
    assert [r.line for r in build] == [3, 4]


def test_a_csv_row_gives_its_cells_without_building_its_fields() -> None:
    r = Row(5, None, cells=["ATL-1", "", " 3 "], index={"sku": 0, "parent_sku": 1, "stock": 2})
    assert (r.cell("sku"), r.cell("parent_sku"), r.cell("stock"), r.cell("title:en")) == (
        "ATL-1",
        None,
        " 3 ",
        None,
    )
    assert r.fields == {"sku": "ATL-1", "stock": " 3 "}  # empty cells are not fields
    assert r.cell("stock") == " 3 "
