"""What the commands print for people, laid out as rich lays out a table: the review
report's figures table (cli/render/grid.py draws it without rich's layout of each cell),
every group under its header, folded and wrapped when narrow, a row for every SKU."""

from __future__ import annotations

from syndicator.cli.render.reviews import render_report
from syndicator.reviews.report import GroupBy
from syndicator.store import Store
from tests.reviews.kit import add, printed, rendered, report, stars

FIGURES_AT_100 = """\
Satisfaction by sku                                                                                 
 sku                                 ┃  n ┃ 4–5 ★ ┃ satisfaction ┃ 95 % interval ┃ mean ★ ┃ unrated 
━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━╇━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━
 atlas-rugs/ATL-BNO-001              │ 10 │     8 │       80.0 % │ 49.0 – 94.3 % │   4.10 │         
 (no SKU (the channel's listing      │  3 │     2 │       66.7 % │ 20.8 – 93.9 % │   3.67 │         
 could not be matched to a catalog   │    │       │              │               │        │         
 SKU))                               │    │       │              │               │        │         
─────────────────────────────────────┼────┼───────┼──────────────┼───────────────┼────────┼─────────
 all                                 │ 13 │    10 │       76.9 % │ 49.7 – 91.8 % │   4.00 │         
satisfaction: share of 4 and 5 stars among the rated product reviews (n), with its 95 % Wilson      
interval; definitions in docs/reviews.md                                                            
"""  # noqa: W291 - rich pads every line to the table's width


def test_the_figures_table_lines_up_every_group_under_its_header(store: Store) -> None:
    add(store, "etsy", stars(1, 0, 1, 3, 5))
    add(store, "anou", [5, 4, 2], sku=None, prefix="unmatched")
    (figures, *_) = render_report(report(store, GroupBy.SKU))
    assert printed([figures], 100) == FIGURES_AT_100
    # Too narrow for it: labels folded, then the widest figures wrapped, never cut off.
    narrow = printed([figures], 60).splitlines()
    assert max(map(len, narrow)) <= 60
    first_column = "".join(line.split("│")[0].strip() for line in narrow if "│" in line)
    assert first_column.startswith("atlas-rugs/ATL-BNO-001(no SKU")
    assert "".join(narrow).count("%") == FIGURES_AT_100.count("%")


def test_the_table_has_a_row_for_every_sku(store: Store) -> None:
    for i in range(150):
        add(store, "etsy", [5, 4, 1][: 1 + i % 3], sku=f"ATL-{i:04d}", prefix=f"p{i}")
    text = rendered(report(store, GroupBy.SKU))
    rows = [line for line in text.splitlines() if line.startswith(" atlas-rugs/ATL-")]
    assert [row.split()[0] for row in rows[:150]] == [f"atlas-rugs/ATL-{i:04d}" for i in range(150)]
    assert "atlas-rugs/ATL-0149 │   3 │     2 │       66.7 %" in text
