"""A failure of Syndicator's own stays one product's (issue 14, part 2): an exception while
working out one product for a shop, or while sending it, holds or fails that product with
the error, and the rest of the cooperative goes on; one cooperative's pass that fails does
not stop the others.

The failures are injected where no real input provokes them any more (each bug a row
brought out was fixed at validation: tests/catalog/test_properties.py): this tests the
guard, not a bug."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from connectors.anou.connector import AnouConnector
from syndicator.planning import plan as planning
from syndicator.planning.projection import Projector
from syndicator.store.journal import query_journal
from syndicator.store.status import listing_counts
from tests.connectors.kit import SKUS, World
from tests.sync.test_reconcile import MARKETS, shown, sync

BUG = "this is a bug"


def test_a_product_that_cannot_be_worked_out_is_held_and_the_rest_is_listed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Projector.project

    def project(self: Projector, unit: Any, *args: Any, **kw: Any) -> Any:
        if unit.sku == "LAMP-1":
            raise ZeroDivisionError("decimal division by zero")
        return real(self, unit, *args, **kw)

    monkeypatch.setattr(Projector, "project", project)
    report = sync(world)
    assert all(c.stopped is None for c in report.channels)
    for market in MARKETS:
        assert set(shown(world, market)) == set(SKUS) - {"LAMP-1"}, market
    monkeypatch.undo()  # the bug fixed: the product goes out with the next pass
    sync(world)
    for market in MARKETS:
        assert set(shown(world, market)) == set(SKUS), market


def test_a_product_that_cannot_be_sent_fails_alone_and_the_rest_is_confirmed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = AnouConnector.push

    def push(self: AnouConnector, changes: Sequence[Any]) -> Any:
        if any(c.sku == "LAMP-1" for c in changes):
            raise KeyError("title")
        return real(self, changes)

    monkeypatch.setattr(AnouConnector, "push", push)
    report = sync(world)
    anou = next(c for c in report.channels if c.channel == "anou")
    assert anou.stopped is None and anou.failed == {"create": 1}
    assert set(shown(world, "anou")) == set(SKUS) - {"LAMP-1"}
    with world.store.read() as conn:
        (entry,) = query_journal(conn, channel="anou", outcome="failed")
        counts = listing_counts(conn)[("atlas-rugs", "anou")]
    assert entry.sku == "LAMP-1" and BUG in (entry.message or "") and "KeyError" in entry.message
    assert (counts.in_sync, counts.failed) == (len(SKUS) - 1, 1)


def test_a_cooperative_whose_pass_fails_stops_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def make_plan(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("a bug in planning")

    monkeypatch.setattr("syndicator.sync.reconcile.make_plan", make_plan)
    assert planning.make_plan is not make_plan
    report = sync(world)  # no exception escapes
    assert {c.channel for c in report.channels} == set(MARKETS)
    assert all(c.stopped and BUG in c.stopped for c in report.channels)
    assert not report.ok
