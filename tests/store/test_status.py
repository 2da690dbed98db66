"""What status, alerts and metrics read about a channel (syndicator/store/status.py): the
state of a listing, and the queries keeping to it. The other reads are checked after real
passes in tests/service/test_status.py and tests/service/test_endpoint.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicator.store import Store
from syndicator.store.schema import listings
from syndicator.store.status import backlog, listing_counts, listing_state, oldest_pending


@pytest.mark.parametrize(
    ("status", "unsure", "attempts", "state"),
    [
        ("active", False, 0, "in_sync"),
        ("inactive", False, 0, "in_sync"),  # listed at 0: sold out, as the catalog says
        ("active", True, 0, "pending"),  # sent without its answer saved, moved by a sale, or
        # answered and not read back yet: "in sync" is read back and equal
        ("pending", True, 0, "pending"),  # a create marked before it was sent
        ("active", False, 2, "failed"),
        ("failed", True, 1, "failed"),
        ("delisted", True, 0, "off_sale"),
        ("deleted", True, 0, "off_sale"),
    ],
)
def test_the_state_of_a_listing(status: str, unsure: bool, attempts: int, state: str) -> None:
    assert listing_state(status, unsure, attempts) == state


def test_a_listing_the_shop_shows_otherwise_and_keeps_is_never_in_sync() -> None:
    assert listing_state("active", True, 0, differs=True) == "differs"
    assert listing_state("active", True, 1, differs=True) == "failed"


# (status, input key known, read back since, what a read-back left as the shop shows it,
# attempts): one listing of each kind the rule tells apart
STATES = [
    ("active", True, True, None, 0),
    ("inactive", True, True, None, 0),
    ("active", False, False, None, 0),
    ("active", True, False, None, 0),  # answered, not read back yet
    ("inactive", False, False, None, 0),
    ("pending", False, False, None, 0),
    ("active", False, False, "the channel shows price 1.00", 0),
    ("active", True, True, None, 2),
    ("failed", False, False, None, 1),
    ("delisted", False, False, None, 0),
    ("deleted", True, False, None, 0),
]


def test_the_queries_keep_to_the_rule(store: Store) -> None:
    """The counts and the waiting changes the queries find are those :func:`listing_state`
    says, each listing on a channel of its own (the oldest waiting change is per channel)."""
    marked = datetime(2026, 11, 26, 8, tzinfo=UTC)
    with store.write() as conn:
        for n, (status, keyed, seen, drift, attempts) in enumerate(STATES):
            conn.execute(
                listings.insert().values(
                    cooperative="atlas",
                    channel=f"ch{n}",
                    sku=f"SKU-{n}",
                    status=status,
                    input_key="k" if keyed else None,
                    verified_at=marked if seen else None,
                    drift=drift,
                    attempts=attempts,
                    updated_at=marked + timedelta(minutes=n),
                )
            )
    expected = {
        f"ch{n}": listing_state(status, not (keyed and seen), attempts, drift is not None)
        for n, (status, keyed, seen, drift, attempts) in enumerate(STATES)
    }
    assert set(expected.values()) == {"in_sync", "pending", "differs", "failed", "off_sale"}
    with store.read() as conn:
        counts = listing_counts(conn, "atlas")
        waiting = oldest_pending(conn, "atlas")
        late = backlog(conn, timedelta(minutes=3), marked + timedelta(minutes=7))
        assert listing_counts(conn, "nobody") == {}
    assert {ch: [s for s, n in c.to_json().items() if n] for (_, ch), c in counts.items()} == {
        ch: [state] for ch, state in expected.items()
    }
    assert {ch: p.state for (_, ch), p in waiting.items()} == {
        ch: state for ch, state in expected.items() if state in ("pending", "failed")
    }
    assert [p.channel for p in late] == ["ch2", "ch3"]  # waited longer than 3 minutes
    assert waiting["atlas", "ch2"].since == marked + timedelta(minutes=2)
