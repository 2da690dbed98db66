"""The conformance suite every connector passes against its sandbox emulator.

A connector's test module subclasses :class:`ConformanceSuite` and gives a :class:`Harness`:
how to configure the channel on the sandbox, what the channel refuses, and how to read the
marketplace's own state. Every test talks real HTTP on loopback through the real client
library; nothing is mocked.

What it holds each connector to (issue 4): create, reprice, restock, update, delist,
variations (never wiped), images, orders pulled with paging and overlap, cancellations,
reviews, one bad item rejected without losing the rest of the batch, throttling honoured,
a credentials failure reported once and clearly, and convergence with no duplicate under a
fifth of calls failing.
"""

from __future__ import annotations

import abc
import dataclasses
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sandbox import Sandbox
from syndicator.channels.interface import Connector, ItemOutcome, ListingChange
from syndicator.domain.orders import OrderStatus
from syndicator.domain.reviews import ReviewSource
from syndicator.errors import AuthError
from syndicator.plugins import Capability
from tests.connectors.kit import SKUS, World, delisted, repriced, restocked, retitled


class Harness(abc.ABC):
    """What the suite needs to know about one marketplace."""

    marketplace: ClassVar[str]  # the sandbox prefix: amazon, etsy, anou

    @abc.abstractmethod
    def channel(self, sandbox: Sandbox) -> dict[str, Any]:
        """The channel block of the config, pointing at ``sandbox`` (id, type, currency,
        languages, pricing, categories for rugs, cushions and lanterns, settings with a
        ``quota_factor`` matching the sandbox's)."""

    @abc.abstractmethod
    def secrets(self) -> dict[str, str]:
        """The demo account's credentials, by the names the channel type declares."""

    @abc.abstractmethod
    def wrong_secrets(self) -> dict[str, str]:
        """Credentials the marketplace refuses (a wrong secret or a revoked token)."""

    @abc.abstractmethod
    def rejected(self, change: ListingChange) -> ListingChange:
        """``change`` altered into something this marketplace refuses (with a message)."""

    def order_id(self, placed: Mapping[str, Any]) -> str:
        """The id in the answer of ``POST _sandbox/orders``."""
        for key in ("order_id", "receipt_id", "id"):
            if key in placed:
                return str(placed[key])
        raise KeyError(f"no order id in {placed}")

    def unit_row(self, row: Mapping[str, Any]) -> bool:
        """Whether a listing row of ``GET _sandbox/state`` is a sellable unit (an Amazon
        variation parent is a listing of its own, with no price: not a unit)."""
        return True

    def live(self, row: Mapping[str, Any]) -> bool:
        """Whether a listing row of ``GET _sandbox/state`` is on sale."""
        return str(row.get("status", "")).lower() in ("active", "buyable")

    review_source: ClassVar[ReviewSource] = ReviewSource.PRODUCT_REVIEW
    complete_sample: ClassVar[bool] = True
    sandbox_quota_factor: ClassVar[float] = 50.0


class ConformanceSuite:
    harness: ClassVar[Harness]

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture(scope="class")
    @classmethod
    def sandbox_server(cls) -> Iterator[Sandbox]:
        with Sandbox(quota_factor=cls.harness.sandbox_quota_factor) as running:
            yield running

    @pytest.fixture
    def world(self, sandbox_server: Sandbox, tmp_path: Path) -> Iterator[World]:
        sandbox_server.reset(record=True)
        self.put(sandbox_server, "quota", {"factor": self.harness.sandbox_quota_factor})
        w = World(
            tmp_path, sandbox_server, self.harness.channel(sandbox_server), self.harness.secrets()
        )
        yield w
        w.close()

    def put(self, sandbox: Sandbox, path: str, body: Any) -> None:
        import httpx

        url = f"{sandbox.url(self.harness.marketplace)}/_sandbox/{path}"
        httpx.put(url, json=body, timeout=10).raise_for_status()

    # ------------------------------------------------------------------ helpers
    def state(self, world: World) -> dict[str, Any]:
        return dict(world.control(self.harness.marketplace, "GET", "state"))

    def rows(self, world: World) -> dict[str, dict[str, Any]]:
        """Listing rows by SKU; fails when a SKU is listed twice."""
        rows = [r for r in self.state(world)["listings"] if self.harness.unit_row(r)]
        counts = Counter(r["sku"] for r in rows)
        twice = [sku for sku, n in counts.items() if n > 1]
        assert not twice, f"listed more than once: {twice}"
        return {r["sku"]: r for r in rows}

    def push_all(
        self, connector: Connector, changes: list[ListingChange]
    ) -> dict[str, ItemOutcome]:
        outcomes = connector.push(changes)
        assert sorted(o.sku for o in outcomes) == sorted(c.sku for c in changes)
        return {o.sku: o for o in outcomes}

    def created(self, world: World, connector: Connector) -> dict[str, ListingChange]:
        """Create every listing; the changes, with the remote ids the channel gave."""
        changes = world.changes()
        assert sorted(changes) == sorted(SKUS)
        outcomes = self.push_all(connector, list(changes.values()))
        failed = {s: o.message for s, o in outcomes.items() if not o.ok}
        assert not failed, failed
        return {
            sku: ListingChange(c.sku, c.parent_sku, c.action, c.projection, outcomes[sku].remote_id)
            for sku, c in changes.items()
        }

    # ------------------------------------------------------------------ tests
    def test_check_names_the_account_and_no_secret(self, world: World) -> None:
        with world.connector() as connector:
            described = connector.check()
        assert described
        for secret in self.harness.secrets().values():
            assert secret not in described

    def test_wrong_credentials_fail_once_and_clearly(self, world: World) -> None:
        world.write_secrets(self.harness.wrong_secrets())
        changes = world.changes()
        with world.connector() as connector:
            with pytest.raises(AuthError) as check:
                connector.check()
            with pytest.raises(AuthError) as push:
                connector.push(list(changes.values()))
        for err in (check.value, push.value):
            text = str(err)
            assert text.strip()
            for secret in {**self.harness.secrets(), **self.harness.wrong_secrets()}.values():
                assert secret not in text
        # Not retried: a refused credential does not hammer the marketplace.
        assert not self.rows(world)

    def test_create_lists_every_sku_once_as_planned(self, world: World) -> None:
        with world.connector() as connector:
            changes = self.created(world, connector)
            rows = self.rows(world)
            assert set(rows) == set(SKUS)
            for sku, change in changes.items():
                p = change.projection
                assert p is not None
                assert Decimal(str(rows[sku]["price"])) == p.price.amount, sku
                assert rows[sku]["quantity"] == p.quantity, sku
                assert rows[sku]["currency"] == p.price.currency
            back = {r.sku: r for r in connector.read_back(list(SKUS))}
            for sku, change in changes.items():
                assert change.projection is not None
                assert back[sku].quantity == change.projection.quantity
                assert back[sku].price == change.projection.price

    def test_a_create_pushed_twice_lists_once(self, world: World) -> None:
        with world.connector() as connector:
            changes = world.changes()
            self.push_all(connector, list(changes.values()))
            again = self.push_all(connector, list(changes.values()))
            assert all(o.ok for o in again.values()), again
            assert set(self.rows(world)) == set(SKUS)

    def test_reprice_restock_update(self, world: World) -> None:
        with world.connector() as connector:
            changes = self.created(world, connector)
            lamp = changes["LAMP-1"]
            assert lamp.projection is not None
            new_price = str(lamp.projection.price.amount + Decimal("7.50"))
            out = self.push_all(
                connector,
                [repriced(lamp, new_price), restocked(changes["RUG-1"], 0)],
            )
            assert all(o.ok for o in out.values()), out
            rows = self.rows(world)
            assert Decimal(str(rows["LAMP-1"]["price"])) == Decimal(new_price)
            assert rows["LAMP-1"]["quantity"] == lamp.projection.quantity
            assert rows["RUG-1"]["quantity"] == 0
            title = "Lanterne en laiton — فانوس نحاسي"
            out = self.push_all(connector, [retitled(lamp, title)])
            assert out["LAMP-1"].ok, out
            assert self.rows(world)["LAMP-1"]["title"] == title

    def test_variations_are_never_wiped(self, world: World) -> None:
        with world.connector() as connector:
            changes = self.created(world, connector)
            out = self.push_all(connector, [restocked(changes["CUSH-1-L"], 1)])
            assert out["CUSH-1-L"].ok, out
            rows = self.rows(world)
            small = changes["CUSH-1-S"].projection
            assert small is not None
            assert rows["CUSH-1-S"]["quantity"] == small.quantity
            assert rows["CUSH-1-L"]["quantity"] == 1
            assert Decimal(str(rows["CUSH-1-S"]["price"])) == small.price.amount

    def test_delist_takes_the_listing_off_sale(self, world: World) -> None:
        with world.connector() as connector:
            changes = self.created(world, connector)
            out = self.push_all(connector, [delisted(changes["LAMP-1"])])
            assert out["LAMP-1"].ok, out
            rows = self.state(world)["listings"]
            lamp = [r for r in rows if r["sku"] == "LAMP-1"]
            assert all(not self.harness.live(r) or r["quantity"] == 0 for r in lamp)
            others = {r["sku"] for r in rows if self.harness.live(r)}
            assert {"RUG-1", "CUSH-1-S"} <= others

    def test_one_bad_item_does_not_stop_the_batch(self, world: World) -> None:
        changes = world.changes()
        batch = [
            changes["RUG-1"],
            self.harness.rejected(changes["LAMP-1"]),
            changes["CUSH-1-S"],
            changes["CUSH-1-L"],
        ]
        with world.connector() as connector:
            out = self.push_all(connector, batch)
        assert not out["LAMP-1"].ok
        assert out["LAMP-1"].message and out["LAMP-1"].message.strip()
        assert not out["LAMP-1"].retryable
        assert all(out[s].ok for s in ("RUG-1", "CUSH-1-S", "CUSH-1-L")), out
        assert "LAMP-1" not in {s for s, r in self.rows(world).items() if self.harness.live(r)}

    def test_orders_pulled_with_paging_overlap_and_cancellation(self, world: World) -> None:
        with world.connector() as connector:
            if Capability.ORDERS not in connector.capabilities:
                pytest.skip("this connector declares no orders")  # never for the three
            self.created(world, connector)
            placed = [
                self.harness.order_id(
                    world.control(
                        self.harness.marketplace,
                        "POST",
                        "orders",
                        {"sku": "CUSH-1-S", "quantity": 1},
                    )
                )
                for _ in range(3)
            ]
            placed.append(
                self.harness.order_id(
                    world.control(
                        self.harness.marketplace, "POST", "orders", {"sku": "RUG-1", "quantity": 1}
                    )
                )
            )
            pages = list(connector.pull_orders(None))
            seen = {o.order_id: o for page in pages for o in page.orders}
            assert set(placed) <= set(seen)
            rug = seen[placed[-1]]
            assert [(line.sku, line.quantity) for line in rug.lines] == [("RUG-1", 1)]
            assert all(line.line_id for o in seen.values() for line in o.lines)
            assert rug.created_at.tzinfo is not None
            watermark = pages[-1].watermark
            assert watermark is not None
            # Cancel one: the next pull, from the watermark, brings it back cancelled.
            world.control(self.harness.marketplace, "POST", f"orders/{placed[0]}/cancel")
            again = {o.order_id: o for p in connector.pull_orders(watermark) for o in p.orders}
            assert again[placed[0]].status is OrderStatus.CANCELLED

    def test_reviews_pulled(self, world: World) -> None:
        with world.connector() as connector:
            self.created(world, connector)
            placed = world.control(
                self.harness.marketplace, "POST", "orders", {"sku": "LAMP-1", "quantity": 1}
            )
            rating = 2 if self.harness.review_source is ReviewSource.SELLER_FEEDBACK else 5
            world.control(
                self.harness.marketplace,
                "POST",
                "reviews",
                {
                    "sku": "LAMP-1",
                    "rating": rating,
                    "text": "Très belle lanterne — جميلة",
                    "language": "fr",
                    "order_id": self.harness.order_id(placed),
                },
            )
            reviews = [r for p in connector.pull_reviews(None) for r in p.reviews]
            assert len(reviews) == 1
            (review,) = reviews
            assert review.rating == rating
            assert review.text == "Très belle lanterne — جميلة"
            assert review.source is self.harness.review_source
            assert review.complete_sample is self.harness.complete_sample
            assert review.created_at.tzinfo is not None
            twice = [r for p in connector.pull_reviews(None) for r in p.reviews]
            assert [r.review_id for r in twice] == [review.review_id]

    def test_throttling_is_honoured(self, world: World) -> None:
        self.put(world.sandbox, "faults", {"throttle": 0.3, "retry_after": 0.2, "seed": 7})
        with world.connector() as connector:
            changes = world.changes()
            out = self.push_all(connector, list(changes.values()))
        assert all(o.ok for o in out.values()), out
        calls = world.control(self.harness.marketplace, "GET", "calls")
        assert calls["faults"].get("throttle", 0) > 0
        assert set(self.rows(world)) == set(SKUS)

    def test_converges_under_faults_with_no_duplicate(self, world: World) -> None:
        # A fifth of the calls fail: throttled, server errors, cut answers, answers too late
        # (past the connector's timeout, though the marketplace goes on and applies them),
        # writes accepted but lost.
        faults = {
            "throttle": 0.05,
            "error_500": 0.04,
            "error_503": 0.03,
            "drop": 0.03,
            "slow": 0.03,
            "slow_seconds": 1.0,
            "lost_write": 0.02,
        }
        self.put(world.sandbox, "faults", {**faults, "retry_after": 0.1, "seed": 11})
        changes = world.changes()
        pending = dict(changes)
        with world.connector(timeout=0.5) as connector:
            for _ in range(8):
                if not pending:
                    break
                out = self.push_all(connector, list(pending.values()))
                back = {r.sku: r for r in connector.read_back(list(pending))}
                for sku, o in out.items():
                    p = pending[sku].projection
                    assert p is not None
                    b = back.get(sku)
                    if o.ok and b and b.quantity == p.quantity and b.price == p.price:
                        del pending[sku]
                    else:
                        assert o.ok or o.retryable, o
        assert not pending, pending
        self.put(world.sandbox, "faults", {})
        rows = self.rows(world)  # fails on any duplicate
        assert set(rows) == set(SKUS)
        for sku, change in changes.items():
            assert change.projection is not None
            assert rows[sku]["quantity"] == change.projection.quantity

    def test_calls_stay_within_the_quotas(self, world: World) -> None:
        """With no fault injected, the marketplace never has to refuse a call for quota: the
        connector's own buckets keep it inside the published limits."""
        with world.connector() as connector:
            changes = self.created(world, connector)
            lamp = changes["LAMP-1"]
            assert lamp.projection is not None
            for step in range(3):
                price = str(lamp.projection.price.amount + step + 1)
                self.push_all(connector, [repriced(lamp, price), restocked(changes["RUG-1"], 0)])
            for _ in range(2):
                list(connector.pull_orders(None))
                list(connector.pull_reviews(None))
            connector.read_back(list(SKUS))
        calls = world.control(self.harness.marketplace, "GET", "calls")
        refused = {op: c["throttled"] for op, c in calls["operations"].items() if c["throttled"]}
        assert not refused, refused

    @pytest.mark.parametrize("sku", ["RUG/01 bleu", "RUG?02#x", "RUG%20-3", "زربية-04"])
    def test_a_sku_with_signs_is_listed_updated_read_back_and_delisted(
        self, world: World, sku: str
    ) -> None:
        """A SKU goes into URL paths escaped: one with ``/``, a space, ``?``, ``#``, ``%`` or
        Arabic letters reaches the very listing it names (Amazon documents that the SKU in
        its paths is URL-encoded)."""
        lamp = world.changes()["LAMP-1"]
        assert lamp.projection is not None
        p = dataclasses.replace(lamp.projection, sku=sku)
        change = dataclasses.replace(lamp, sku=sku, projection=p)
        with world.connector() as connector:
            (made,) = connector.push([change])
            assert made.ok, made
            change = dataclasses.replace(change, remote_id=made.remote_id)
            price = str(p.price.amount + 3)
            change = repriced(change, price)
            out = self.push_all(connector, [change])
            assert out[sku].ok, out
            out = self.push_all(connector, [restocked(change, 1)])
            assert out[sku].ok, out
            assert self.rows(world)[sku]["quantity"] == 1
            (back,) = connector.read_back([sku])
            assert back.sku == sku and back.quantity == 1
            assert back.price is not None and back.price.amount == Decimal(price), back
            out = self.push_all(connector, [delisted(change, made.remote_id)])
            assert out[sku].ok, out
        gone = [r for r in self.state(world)["listings"] if r["sku"] == sku]
        assert all(not self.harness.live(r) or r["quantity"] == 0 for r in gone), gone
