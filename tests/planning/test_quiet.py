"""Quiet channels (syndicator/planning/marks.py): a pass with nothing new to do plans nothing, and
anything a plan depends on brings the planning back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syndicator.planning.marks import QUIET_STREAM, keep_marks
from syndicator.planning.operations import Action
from syndicator.planning.plan import PlanReport, make_plan
from syndicator.store.listings import mark_unsure
from syndicator.store.marks import forget_mark
from tests.planning.test_plan import ROWS, TODAY, World, world  # noqa: F401  (the fixture)


def remember(w: World, report: PlanReport) -> None:
    """What a pass does once a channel needed no change and nothing failed."""
    with w.store.write() as conn:
        for cplan in report.cooperatives:
            assert cplan.digest is not None
            assert all(chplan.key_prefix for chplan in cplan.channels)
            keep_marks(conn, cplan, datetime.now(UTC))


def quiet_plan(w: World) -> PlanReport:
    return make_plan(w.config, w.store, today=TODAY, quiet=True)


def is_quiet(report: PlanReport) -> bool:
    (cplan,) = report.cooperatives
    flags = {chplan.quiet for chplan in cplan.channels}
    assert len(flags) == 1, "a cooperative is skipped whole or planned whole"
    if True in flags:
        assert cplan.catalog is None and not list(report.ops())
    return flags == {True}


@pytest.fixture
def settled(world: World) -> World:  # noqa: F811
    """Everything confirmed, and a pass that found nothing to do marked it quiet."""
    world.confirm()
    report = quiet_plan(world)
    assert not is_quiet(report)
    assert {op.action for op in report.ops()} == {Action.UNCHANGED}
    remember(world, report)
    return world


def test_a_pass_with_nothing_new_reads_no_catalog(settled: World) -> None:
    assert is_quiet(quiet_plan(settled))
    # The plan command (no quiet) still plans everything.
    assert make_plan(settled.config, settled.store, today=TODAY).cooperatives[0].catalog


def test_the_mark_needs_the_very_bytes_that_were_planned(settled: World) -> None:
    rows = dict(ROWS)
    settled.write_catalog(rows)  # saved again, the same bytes: still quiet
    assert is_quiet(quiet_plan(settled))
    rows["RUG-1"] = rows["RUG-1"].replace("Tapis", "Grand tapis")
    settled.write_catalog(rows)
    report = quiet_plan(settled)
    assert not is_quiet(report)
    assert Action.UPDATE in {op.action for op in report.ops() if op.sku == "RUG-1"}


def test_an_order_brings_the_planning_back(settled: World) -> None:
    settled.sell("RUG-2", 1)
    report = quiet_plan(settled)
    assert not is_quiet(report)
    assert Action.RESTOCK in {op.action for op in report.ops() if op.sku == "RUG-2"}


def test_a_change_marked_before_sending_brings_the_planning_back(settled: World) -> None:
    """A pass killed after marking a change "unsure" and before its answer: the next pass
    must send it again, not take the channel for quiet."""
    with settled.store.write() as conn:
        mark_unsure(conn, "atlas", "etsy", ["RUG-2"], datetime.now(UTC))
    report = quiet_plan(settled)
    assert not is_quiet(report)
    assert any(op.sku == "RUG-2" and op.channel == "etsy" for op in report.ops()
               if op.action is not Action.UNCHANGED)  # fmt: skip


def test_a_forgotten_channel_is_planned_again(settled: World) -> None:
    with settled.store.write() as conn:
        forget_mark(conn, "atlas", "anou", QUIET_STREAM)
    assert not is_quiet(quiet_plan(settled))


def test_new_settings_or_a_new_rate_bring_the_planning_back(settled: World) -> None:
    path = settled.config.path
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("fee_percent: 15", "fee_percent: 16", 1), encoding="utf-8")
    from syndicator.config import load_config

    settled.config = load_config(path, settled.config.channel_types)
    report = quiet_plan(settled)
    assert not is_quiet(report)
    assert Action.REPRICE in {op.action for op in report.ops()}
