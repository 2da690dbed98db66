"""Quotas kept in the store: token buckets that survive restarts and are shared by workers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.domain.quotas import QuotaRule
from syndicator.store import Store
from syndicator.store.quota import StoreQuota, quota_usage
from syndicator.store.tokens import StoreTokens
from tests.conftest import FakeClock


def quota(store: Store, clock: FakeClock, **kw: object) -> StoreQuota:
    rules = {
        "putListingsItem": [QuotaRule("putListingsItem", 5, 10)],
        "*": [QuotaRule("*", 10, 10), QuotaRule("*/day", 100 / 86_400, 100)],
    }
    return StoreQuota(store, "amazon:A2SANDBOXATLAS", rules, clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def test_a_burst_is_free_then_calls_wait_for_the_rate(store: Store) -> None:
    clock = FakeClock()
    q = quota(store, clock)
    for _ in range(10):
        assert q.acquire("putListingsItem") == 0
    waited = q.acquire("putListingsItem")
    assert waited == pytest.approx(0.2)  # one token at 5 a second
    assert clock.slept == [pytest.approx(0.2)]


def test_a_restart_does_not_burst_past_the_limit(store: Store, tmp_path: Path) -> None:
    clock = FakeClock()
    for _ in range(10):
        quota(store, clock).acquire("putListingsItem")
    store.close()
    again = Store(f"sqlite:///{tmp_path / 'state.db'}")  # a new process, the same database
    assert quota(again, clock).acquire("putListingsItem") == pytest.approx(0.2)


def test_a_daily_limit_holds_across_operations(store: Store) -> None:
    clock = FakeClock()
    q = quota(store, clock, max_wait=60.0)
    for i in range(100):
        q.acquire("getShop" if i % 2 else "getReceipts")
    with pytest.raises(TimeoutError, match="past the 60 s"):
        q.acquire("getShop")  # the day's 100 are spent; the next is 864 s away


def test_a_429_empties_the_bucket_for_retry_after(store: Store) -> None:
    clock = FakeClock()
    q = quota(store, clock)
    q.acquire("putListingsItem")
    q.penalize("putListingsItem", 3.0)
    assert q.acquire("putListingsItem") == pytest.approx(3.0)
    with store.read() as conn:
        (usage,) = [u for u in quota_usage(conn, "amazon:") if u.bucket == "putListingsItem"]
    assert usage.throttled_today == 1


def test_workers_on_one_database_share_the_bucket(store: Store) -> None:
    """Four threads (as four workers) take 40 tokens: 10 free, 30 at 50 a second."""
    rules = {"*": [QuotaRule("*", 50, 10)]}
    started = time.monotonic()

    def worker() -> None:
        q = StoreQuota(store, "etsy:key:abc", rules)
        for _ in range(10):
            q.acquire("getShop")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.read() as conn:
        (usage,) = quota_usage(conn, "etsy:")
    assert usage.calls_today == 40
    assert time.monotonic() - started >= (40 - 10) / 50 * 0.9  # together, within the rate


def test_rotated_tokens_persist_and_a_new_configured_one_wins(store: Store) -> None:
    tokens = StoreTokens(store, "atlas-rugs", "etsy", {"refresh_token": "r0"})
    assert tokens.load("refresh_token") == "r0"
    with tokens.exclusive() as locked:
        assert locked.load("refresh_token") == "r0"
        locked.save({"refresh_token": "r1", "access_token": "a1"})
    again = StoreTokens(store, "atlas-rugs", "etsy", {"refresh_token": "r0"})
    assert again.load("refresh_token") == "r1"
    assert again.load("access_token") == "a1"
    operator = StoreTokens(store, "atlas-rugs", "etsy", {"refresh_token": "new-from-config"})
    assert operator.load("refresh_token") == "new-from-config"
    other = StoreTokens(store, "atlas-rugs", "amazon", {"refresh_token": "r0"})
    assert other.load("refresh_token") == "r0"


def test_a_429_does_not_spend_the_daily_bucket(store: Store) -> None:
    """Etsy's 429 says 'not so fast', not 'the day is spent': after the block, calls go on
    at the per-second rate, not one every 864 s."""
    clock = FakeClock()
    q = quota(store, clock)
    q.acquire("getShop")
    q.penalize("getShop", 1.0)
    waits = [q.acquire("getShop") for _ in range(3)]
    assert waits[0] == pytest.approx(1.0)
    assert max(waits[1:]) < 0.2


def test_the_first_429_of_a_new_day_starts_the_days_count(store: Store) -> None:
    from sqlalchemy import select

    from syndicator.store.schema import quota_buckets

    clock = FakeClock()
    q = quota(store, clock)
    q.acquire("putListingsItem")
    q.penalize("putListingsItem", 1.0)
    q.penalize("putListingsItem", 1.0)
    clock.now += 86400  # the next day (UTC): the first call is a 429
    q.penalize("putListingsItem", 1.0)
    c = quota_buckets.c
    with store.read() as conn:
        day, throttled, calls = conn.execute(
            select(c.day, c.throttled_today, c.calls_today).where(c.bucket == "putListingsItem")
        ).one()
    assert (throttled, calls) == (1, 0)
    assert day == datetime.fromtimestamp(clock.now, UTC).date().isoformat()
