"""Planning from a basis (syndicator/planning/basis.py): after a pass that found every channel in
step, an edit of the file is planned by reading only the rows that are new, and the plan is
the one a full read gives. Also: new input keys recorded without a call (re-keying)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicator.catalog import csv_reader, read_catalog
from syndicator.catalog.csv_reader import (
    NotSimple,
    parse_header,
    parse_record,
    read_csv_rows,
    record_digests,
    scan_records,
)
from syndicator.common.problems import Severity
from syndicator.planning import projection
from syndicator.planning.basis import Basis, load_basis
from syndicator.planning.marks import basis_to_keep, keep_marks
from syndicator.planning.operations import Action
from syndicator.planning.plan import PlanReport, make_plan
from syndicator.store.listings import mark_unsure
from syndicator.sync.reconcile import record_plan
from tests.planning.test_plan import ROWS, TODAY, World, world  # noqa: F401  (the fixture)


def settle(w: World) -> None:
    """Everything confirmed, then a pass that found every channel in step: its quiet marks
    and its basis, as a sync pass leaves them."""
    w.confirm()
    report = make_plan(w.config, w.store, today=TODAY, quiet=True)
    (cplan,) = report.cooperatives
    assert {op.action for op in report.ops()} <= {Action.UNCHANGED, Action.HOLD}
    now = datetime.now(UTC)
    record_plan(w.store, cplan, now)
    assert basis_to_keep(cplan) is not None and cplan.digest is not None
    with w.store.write() as conn:
        keep_marks(conn, cplan, now)


@pytest.fixture
def settled(world: World) -> World:  # noqa: F811
    settle(world)
    return world


def changes(report: PlanReport) -> list[dict[str, object]]:
    return sorted(
        (op.to_json() for op in report.ops() if op.action is not Action.UNCHANGED),
        key=lambda j: (str(j["channel"]), str(j["sku"])),
    )


def from_basis(w: World) -> PlanReport:
    """The plan of a sync pass, after showing it is the full plan's and came from the basis."""
    fast = make_plan(w.config, w.store, today=TODAY, quiet=True)
    full = make_plan(w.config, w.store, today=TODAY, incremental=False)
    (cplan,) = fast.cooperatives
    assert cplan.from_basis
    assert changes(fast) == changes(full)
    # Every problem that holds a row back is told again; warnings of rows left unchecked
    # were told when they were read.
    told, all_of_them = set(map(str, fast.problems())), set(map(str, full.problems()))
    assert told <= all_of_them
    assert {str(p) for p in full.problems() if p.severity is Severity.ERROR} <= told
    return fast


def test_an_edit_reads_only_the_new_rows(settled: World) -> None:
    w = settled
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(";2000;", ";2200;")
    w.write_catalog(rows)
    report = from_basis(w)
    (cplan,) = report.cooperatives
    assert cplan.catalog is not None
    assert [p.sku for p in cplan.catalog.products] == ["RUG-2"]  # one row read, not six
    assert {(op.channel, op.sku): op.action for op in report.ops()} == {
        (ch, "RUG-2"): Action.REPRICE for ch in ("amazon", "etsy", "anou")
    }


EDITS = {
    "a new product": lambda r: {**r, "NEW-6": r["RUG-2"].replace("RUG-2", "NEW-6")},
    "a product removed": lambda r: {k: v for k, v in r.items() if k != "RUG-2"},
    "a variant removed": lambda r: {k: v for k, v in r.items() if k != "CSH-3-S"},
    "a variant added": lambda r: {**r, "CSH-3-M": r["CSH-3-S"].replace("CSH-3-S", "CSH-3-M")},
    "a product's own row edited": lambda r: {**r, "CSH-3": r["CSH-3"].replace("Coton", "Lin")},
    "a SKU written twice": lambda r: {**r, "copy": r["RUG-2"].replace("Azilal", "Copie")},
    "the very same row twice": lambda r: {**r, "copy": r["RUG-2"]},
    "a variant's SKU taken by a new product": lambda r: {
        **r,
        "other": r["RUG-2"].replace("RUG-2;", "CSH-3-S;", 1),
    },
    "a row broken": lambda r: {**r, "RUG-2": r["RUG-2"].replace(";2000;", ";deux mille;")},
    "a new count": lambda r: {**r, "RUG-2": r["RUG-2"].replace(";2000;8;", ";2000;3;")},
    "rows in another order": lambda r: dict(reversed(list(r.items()))),
    "a variant moved to another product": lambda r: {
        **r,
        "CSH-3-L": r["CSH-3-L"].replace(";CSH-3;", ";RUG-2;"),
    },
    "a description over two lines": lambda r: {
        **r,
        "RUG-2": r["RUG-2"].replace(";Laine;", ';"Laine\r\nnouée main; teinte";'),
    },
    "a cell with quotes": lambda r: {
        **r,
        "VIN-4": r["VIN-4"].replace("Ancien", '"Dit ""ancien"""'),
    },
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_any_edit_plans_as_a_full_read_does(settled: World, edit: str) -> None:
    w = settled
    w.write_catalog(EDITS[edit](dict(ROWS)))
    from_basis(w)


def test_a_product_a_channel_takes_off_sale_stays_out_of_the_basis(settled: World) -> None:
    """A product one channel cannot take as it is (Etsy needs who_made) and whose listing
    shows more than is left is taken off sale there; its rows stay out of the basis, so
    that every later pass checks it and tells the hold again, as a full plan does (the
    ledger state machine found a basis that kept it, and a plan that forgot the hold)."""
    w = settled
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(
        ";2000;8;images/rug.jpg;collective;", ";2000;0;images/rug.jpg;;"
    )
    w.write_catalog(rows)
    (cplan,) = make_plan(w.config, w.store, today=TODAY, quiet=True).cooperatives
    ops = {(op.channel, op.sku): op for chplan in cplan.channels for op in chplan.ops}
    assert ops["etsy", "RUG-2"].action is Action.DELIST  # Etsy holds it: off sale
    record_plan(w.store, cplan, datetime.now(UTC))
    w.confirm(PlanReport([cplan]))
    with w.store.write() as conn:
        keep_marks(conn, cplan, datetime.now(UTC))
    rows["RUG-1"] = rows["RUG-1"].replace("Tapis unique", "Tapis unique, laine")  # not quiet
    w.write_catalog(rows)
    again = {(op.channel, op.sku): op.action for op in from_basis(w).ops()}
    assert again["etsy", "RUG-2"] is Action.HOLD


def test_a_removed_product_is_delisted_and_the_next_basis_knows_it(settled: World) -> None:
    w = settled
    w.write_catalog({k: v for k, v in ROWS.items() if k != "RUG-2"})
    report = from_basis(w)
    delists = {(op.channel, op.sku) for op in report.ops() if op.action is Action.DELIST}
    assert delists == {(ch, "RUG-2") for ch in ("amazon", "etsy", "anou")}


def test_a_file_edited_twice_builds_on_the_basis_each_time(settled: World) -> None:
    """The basis of an edit's pass (what the next pass starts from) holds the new row."""
    w = settled
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(";2000;", ";2200;")
    w.write_catalog(rows)
    w.confirm(make_plan(w.config, w.store, today=TODAY, incremental=False))
    settle(w)
    with w.store.read() as conn:
        basis = load_basis(conn, "atlas")
    assert basis is not None
    assert ("RUG-2", "") in basis.records.values()
    rows["RUG-1"] = rows["RUG-1"].replace("Tapis unique", "Tapis unique, noué main")
    w.write_catalog(rows)
    report = from_basis(w)
    (cplan,) = report.cooperatives
    assert cplan.catalog is not None
    assert [p.sku for p in cplan.catalog.products] == ["RUG-1"]


def test_a_sale_is_planned_from_the_basis_with_its_skus_in_full(settled: World) -> None:
    """Orders only add ledger lines: the basis still holds for every other SKU."""
    w = settled
    w.sell("RUG-2", 3)
    w.sell("CSH-3-L", 1, order="o-2")
    report = from_basis(w)
    (cplan,) = report.cooperatives
    assert cplan.catalog is not None
    assert {p.sku for p in cplan.catalog.products} == {"RUG-2", "CSH-3"}
    ops = {(op.channel, op.sku): op.action for op in report.ops()}
    assert ops[("etsy", "RUG-2")] is Action.RESTOCK
    assert ops[("etsy", "CSH-3-L")] is Action.RESTOCK
    rows = dict(ROWS)  # and a sale with an edit
    rows["VIN-4"] = rows["VIN-4"].replace(";9000;", ";9500;")
    w.write_catalog(rows)
    from_basis(w)


def test_new_settings_or_a_changed_listing_plan_without_the_basis(settled: World) -> None:
    """The basis holds only while nothing but the file and the ledger changed."""
    w = settled
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(";2000;", ";2200;")
    w.write_catalog(rows)
    with w.store.write() as conn:
        mark_unsure(conn, "atlas", "etsy", ["RUG-1"], datetime.now(UTC))
    report = make_plan(w.config, w.store, today=TODAY, quiet=True)
    (cplan,) = report.cooperatives
    assert not cplan.from_basis
    ops = {(op.channel, op.sku): op.action for op in report.ops()}
    assert ops[("etsy", "RUG-1")] is Action.UPDATE  # sent again: the channel may not have it
    assert ops[("etsy", "RUG-2")] is Action.REPRICE


def test_a_held_product_is_never_taken_from_the_basis(world: World) -> None:  # noqa: F811
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace(";2000;", ";deux mille;")
    world.confirm()
    world.write_catalog(rows)
    settle(world)  # RUG-2 held on every channel: in step, but not in the basis
    with world.store.read() as conn:
        basis = load_basis(conn, "atlas")
    assert basis is not None
    assert "RUG-2" not in {sku for sku, _ in basis.records.values()}
    assert "RUG-2" in basis.skus
    rows["RUG-1"] = rows["RUG-1"].replace("Tapis unique", "Tapis unique, noué main")
    world.write_catalog(rows)
    report = from_basis(world)
    held = {(op.channel, op.sku) for op in report.ops() if op.action is Action.HOLD}
    assert held == {(ch, "RUG-2") for ch in ("amazon", "etsy", "anou")}


def test_a_quote_inside_a_cell_makes_the_file_read_whole(settled: World) -> None:
    """A quote in the middle of a cell is text for the csv module, not a quoted cell:
    cutting records by counting quotes would go wrong, so the file is read whole."""
    w = settled
    rows = dict(ROWS)
    rows["RUG-2"] = rows["RUG-2"].replace("Azilal rug", 'Azilal rug 5" wide')
    w.write_catalog(rows)
    fast = make_plan(w.config, w.store, today=TODAY, quiet=True)
    (cplan,) = fast.cooperatives
    assert not cplan.from_basis
    full = make_plan(w.config, w.store, today=TODAY, incremental=False)
    assert changes(fast) == changes(full)
    assert {op["sku"] for op in changes(fast)} == {"RUG-2"}


def test_a_new_version_records_new_keys_without_sending_anything(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an upgrade every input key is new: the first plan works every SKU out again,
    finds each as it is shown, records its new key, and the next plan skips it unchecked."""
    world.confirm()
    monkeypatch.setattr(projection, "KEY_VERSION", "k-next")
    first = make_plan(world.config, world.store, today=TODAY)
    assert {op.action for op in first.ops()} == {Action.UNCHANGED}
    worked_out = {(op.channel, op.sku) for op in first.ops() if op.projection is not None}
    assert ("etsy", "RUG-2") in worked_out
    (cplan,) = first.cooperatives
    record_plan(world.store, cplan, datetime.now(UTC))
    second = make_plan(world.config, world.store, today=TODAY)
    again = {(op.channel, op.sku) for op in second.ops() if op.projection is not None}
    assert ("etsy", "RUG-2") not in again
    assert ("etsy", "RUG-1") not in again  # RUG-1 is listed on Etsy
    (cplan,) = second.cooperatives
    assert cplan.unchanged > 0


def test_a_basis_reads_back_as_written() -> None:
    basis = Basis(
        "f" * 64,
        {"a" * 32: ("RUG-1", ""), "b" * 32: ("CSH-1-S", "CSH-1")},
        frozenset({"RUG-1", "CSH-1", "CSH-1-S", "زربية-1"}),
    )
    back = Basis.decode(basis.file_digest, basis.encode())
    assert back == basis
    empty = Basis("0" * 64, {}, frozenset())
    assert Basis.decode(empty.file_digest, empty.encode()) == empty


# --------------------------------------------------------------- cutting without parsing

_CELL = st.text(alphabet=st.sampled_from(list('ab ;,"\n\r\tز')), max_size=8)


def _file(rows: list[list[str]], crlf: bool) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["sku", "title_fr", "price", "stock"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(_CELL, min_size=1, max_size=5), max_size=6),
    crlf=st.booleans(),
    mangle=st.booleans(),
)
def test_records_cut_by_quotes_are_the_rows_a_full_read_gives(
    rows: list[list[str]], crlf: bool, mangle: bool
) -> None:
    """Any file a spreadsheet writes (csv.writer quotes what needs it) is cut into the same
    rows, lines and digests as read_csv_rows reads; a hand-made file with a stray quote is
    either cut the same or refused (NotSimple), never cut wrong."""
    data = _file(rows, crlf)
    if mangle:
        data = data.replace(b'""', b'"', 1)  # a stray quote, as a text editor may leave
    text = data.decode("utf-8")
    try:
        full, _, _ = read_csv_rows(text, "catalog.csv", ["etsy"])
    except Exception:  # unreadable in full: nothing to compare
        return
    try:
        starts, records = scan_records(data)
        assert starts[0] == 1
        header = parse_header(records[0], "catalog.csv", ["etsy"])
        digests = record_digests(header.key, records[1:])
        cut = [
            row
            for line, record, digest in zip(starts[1:], records[1:], digests, strict=True)
            if (row := parse_record(header, line, record, digest))
        ]
    except NotSimple:
        assert mangle or "\r" in text.replace("\r\n", ""), "a spreadsheet's file is cut"
        return
    assert [(r.line, r.fields, r.digest) for r in cut] == [
        (r.line, r.fields, r.digest) for r in full
    ]


def test_a_whole_read_in_small_batches_gives_the_rows_the_csv_reader_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """read_catalog cuts a CSV file by quotes and parses its records in batches; batches of
    two rows give the same rows, lines and digests as the csv module's reader."""
    monkeypatch.setattr(csv_reader, "_BATCH", 2)
    rows = [
        ["sku", "title_fr", "description_fr", "price", "stock"],
        ["RUG-1", "Tapis", "Laine\r\nnouée; main", "4500", "1"],
        ["", "", "", "", ""],
        ["RUG-2", 'Tapis "Azilal"', "", "2000", "8"],
        ["RUG-3", "زربية", "", "900", "2"],
        ["RUG-4", "Tapis", "", "1 250,50", "0"],
    ]
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    path = tmp_path / "catalog.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    whole = read_catalog(path).rows
    text = path.read_bytes().decode("utf-8-sig")  # no newline translation, as the loader
    full, _, _ = read_csv_rows(text, "catalog.csv", ["amazon", "etsy", "anou"])
    assert [(r.line, r.fields, r.digest) for r in whole] == [
        (r.line, r.fields, r.digest) for r in full
    ]
    assert [r.line for r in whole] == [2, 5, 6, 7]
