"""The daemon's HTTP endpoint, served on a free loopback port and scraped over real HTTP.

The metrics are read after real passes against the three sandbox marketplaces (the world of
tests/conftest.py: one cooperative on Amazon, Etsy and ANOU) and checked against what the
store and the sandbox say; health and readiness follow a stand-in for the daemon's state.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, select

from sandbox import FaultPlan, Sandbox
from syndicator.channels.calls import RetryPolicy
from syndicator.config import HttpConfig
from syndicator.errors import Throttled
from syndicator.service.endpoint import DaemonHttp, HealthState
from syndicator.service.metrics import Metrics
from syndicator.store import Store
from syndicator.store.journal import JournalEntry, query_journal, write_journal
from syndicator.store.listings import mark_unsure, record_failure
from syndicator.store.schema import quota_buckets
from syndicator.sync.opener import open_connector
from tests.connectors.kit import World
from tests.sync import test_reconcile as three_markets

COOP = "atlas-rugs"
MARKETS = three_markets.MARKETS


class Scrape:
    """One /metrics answer, parsed: sample name -> {labels: value}."""

    def __init__(self, text: str) -> None:
        self.samples: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                self.samples.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value

    def value(self, name: str, **labels: str) -> float:
        return self.samples[name][frozenset(labels.items())]

    def by(self, name: str, *keys: str) -> dict[tuple[str, ...], float]:
        """The samples of ``name`` summed by the labels ``keys``."""
        out: dict[tuple[str, ...], float] = {}
        for labels, value in self.samples.get(name, {}).items():
            d = dict(labels)
            key = tuple(d[k] for k in keys)
            out[key] = out.get(key, 0.0) + value
        return out


def scrape(http: DaemonHttp) -> Scrape:
    response = httpx.get(f"{http.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)


def read_registry(metrics: Metrics) -> Scrape:
    return Scrape(generate_latest(metrics.registry).decode())


class Daemon:
    """Stands in for the daemon: the state its health callable reports."""

    def __init__(self, **state: Any) -> None:
        self.state = HealthState(**state)

    def health(self) -> HealthState:
        return self.state


@pytest.fixture
def served(world: World) -> Iterator[tuple[DaemonHttp, Metrics, Daemon]]:
    """The endpoint on a free port, over the world's store, for a daemon that is up."""
    metrics = Metrics(world.store, world.config)
    daemon = Daemon(heartbeat=time.monotonic(), store_ready=True)
    with DaemonHttp(HttpConfig(port=0), world.store, metrics, daemon.health) as http:
        yield http, metrics, daemon


# ---------------------------------------------------------------------------- metrics
def test_metrics_after_real_passes_say_what_the_store_says(
    world: World, served: tuple[DaemonHttp, Metrics, Daemon]
) -> None:
    http, metrics, _ = served
    before = scrape(http)
    assert before.value("syndicator_store_up") == 1
    for market in MARKETS:  # every configured channel shows, at 0, before any pass
        assert before.value("syndicator_throttled_total", cooperative=COOP, channel=market) == 0
        assert before.value("syndicator_queue_depth", cooperative=COOP, channel=market) == 0
        for state in ("in_sync", "pending", "failed", "off_sale"):
            labels = {"cooperative": COOP, "channel": market, "state": state}
            assert before.value("syndicator_listings", **labels) == 0
    assert not before.samples.get("syndicator_operations_total")

    assert three_markets.sync(world).ok
    three_markets.order(world, "etsy", "RUG-1")  # the one rug sold twice:
    three_markets.order(world, "amazon", "RUG-1")  # an oversell
    three_markets.sync(world)
    now = datetime.now(UTC)
    with world.store.write() as conn:
        mark_unsure(conn, COOP, "etsy", ["LAMP-1"], now)
        record_failure(conn, COOP, "anou", "CUSH-1-L", "CUSH-1", "refused", None, now)
    metrics.pass_done(COOP, "etsy", "push", "ok", 0.8)
    after = scrape(http)

    with world.store.read() as conn:
        entries = query_journal(conn, limit=100_000)
    journal = Counter((e.cooperative, e.channel, e.action, e.outcome) for e in entries)
    operations = after.by("syndicator_operations_total", *("cooperative", "channel"),
                          "action", "outcome")  # fmt: skip
    assert operations == journal
    assert journal[COOP, "etsy", "create", "ok"] == 4

    depth = after.by("syndicator_queue_depth", "channel")
    assert depth == {("etsy",): 1, ("anou",): 1, ("amazon",): 0}
    states = after.by("syndicator_listings", "channel", "state")
    assert (states["etsy", "pending"], states["anou", "failed"]) == (1, 1)  # as status says
    assert states["amazon", "in_sync"] == 4
    age = after.value("syndicator_oldest_pending_age_seconds", cooperative=COOP, channel="etsy")
    assert 0 <= age < 60
    assert after.by("syndicator_listings", "channel") == dict.fromkeys([(m,) for m in MARKETS], 4)

    alerts = after.by("syndicator_alerts_open", "cooperative", "channel", "kind")
    assert alerts == {(COOP, "", "oversell"): 1}
    assert after.value("syndicator_oversold_skus", cooperative=COOP) == 1
    orders = after.by("syndicator_orders_stored", "channel")
    assert orders == {("etsy",): 1, ("amazon",): 1}

    assert after.value("syndicator_passes_total", cooperative=COOP, channel="etsy",
                       kind="push", outcome="ok") == 1  # fmt: skip
    etsy_push = {"cooperative": COOP, "channel": "etsy", "kind": "push"}
    assert after.value("syndicator_pass_duration_seconds_count", **etsy_push) == 1
    assert after.value("syndicator_pass_duration_seconds_sum", **etsy_push) == pytest.approx(0.8)


def test_quota_left_is_worked_out_at_scrape_time_without_writing(
    world: World, served: tuple[DaemonHttp, Metrics, Daemon]
) -> None:
    http, _, _ = served
    three_markets.sync(world)
    live = scrape(http).by("syndicator_quota_calls_today", "channel", "bucket")
    assert live[("etsy", "*")] > 0 and live[("etsy", "*/day")] == live[("etsy", "*")]

    with world.store.read() as conn:
        q = quota_buckets.c
        last = conn.execute(
            select(q.updated_at).where(q.account.startswith("etsy:"), q.bucket == "*")
        ).scalar_one()
    # Right after the last call, the bucket holds what that call left; an hour on, it is full.
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(world.store.engine, "before_cursor_execute", record)
    then = read_registry(Metrics(world.store, world.config, clock=lambda: last))
    later = read_registry(Metrics(world.store, world.config, clock=lambda: last + 3600))
    event.remove(world.store.engine, "before_cursor_execute", record)
    burst = then.by("syndicator_quota_burst", "channel", "bucket")[("etsy", "*")]
    assert burst == 10  # Etsy: 10 a second per key
    left = then.by("syndicator_quota_tokens", "channel", "bucket")
    assert left[("etsy", "*")] < burst
    assert (
        left[("etsy", "*/day")]
        < then.by("syndicator_quota_burst", "channel", "bucket")[("etsy", "*/day")]
    )
    assert later.by("syndicator_quota_tokens", "channel", "bucket")[("etsy", "*")] == burst
    assert {"cooperative", "channel", "account", "bucket"} == {
        k for labels in then.samples["syndicator_quota_tokens"] for k, _ in labels
    }
    assert then.samples["syndicator_quota_tokens"]  # and every channel has its buckets:
    assert set(then.by("syndicator_quota_tokens", "channel")) == {(m,) for m in MARKETS}
    writes = [s for s in statements if not s.lstrip().upper().startswith(("SELECT", "BEGIN"))]
    assert statements and not writes


def test_each_429_the_sandbox_answers_is_counted(
    world: World, sandbox_server: Sandbox, served: tuple[DaemonHttp, Metrics, Daemon]
) -> None:
    http, metrics, _ = served
    sandbox_server.etsy.faults.set(FaultPlan(throttle=1.0, retry_after=0.0, operations=["getShop"]))
    with (
        open_connector(
            world.config, world.store, COOP, "etsy", on_throttled=metrics.throttled
        ) as connector,
        pytest.raises(Throttled),
    ):
        # One retry, not four: the sandbox says Retry-After: 1 and the caller waits it.
        connector.caller.policy = RetryPolicy(attempts=2)  # type: ignore[attr-defined]
        connector.check()
    refused = sandbox_server.etsy.faults.injected["throttle"]
    assert refused == 2
    after = scrape(http)
    assert after.value("syndicator_throttled_total", cooperative=COOP, channel="etsy") == refused
    assert after.value("syndicator_throttled_total", cooperative=COOP, channel="amazon") == 0
    today = after.by("syndicator_quota_throttled_today", "channel", "bucket")
    assert today[("etsy", "*")] == refused  # the store counts them too, for every process


def test_a_store_that_cannot_be_read_is_reported_not_fatal(
    world: World, served: tuple[DaemonHttp, Metrics, Daemon], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, metrics, _ = served

    def broken() -> Any:
        raise OSError("disk gone")

    monkeypatch.setattr(world.store, "read", broken)
    metrics.throttled(COOP, "etsy")
    after = scrape(http)
    assert after.value("syndicator_store_up") == 0
    assert after.value("syndicator_throttled_total", cooperative=COOP, channel="etsy") == 1
    ready = httpx.get(f"{http.url}/readyz", timeout=5)
    assert ready.status_code == 503
    assert ready.json()["reason"] == "the store does not answer: OSError"


def test_operations_are_counted_once_as_the_journal_grows(store: Store) -> None:
    """Rows past the grace period are counted once and kept; newer ones at each scrape."""
    now = time.time()
    clock = [now]
    metrics = Metrics(store, clock=lambda: clock[0])

    def journal(outcome: str, age: float, n: int = 1) -> None:
        at = datetime.fromtimestamp(now - age, UTC)
        entry = JournalEntry(at, "run-1", COOP, "etsy", "RUG-1", "update", 1, outcome, None)
        with store.write() as conn:
            write_journal(conn, [entry] * n)

    def operations() -> dict[tuple[str, ...], float]:
        return read_registry(metrics).by("syndicator_operations_total", "outcome")

    journal("ok", 3600, 3)
    journal("failed", 10)
    assert operations() == {("ok",): 3, ("failed",): 1}
    assert metrics.collector is not None
    tally = metrics.collector.journal
    assert tally.settled == 3  # the hour-old rows: counted once, not read again
    journal("ok", 0, 2)
    assert operations() == {("ok",): 5, ("failed",): 1}
    assert operations() == {("ok",): 5, ("failed",): 1}
    clock[0] = now + 3600
    assert operations() == {("ok",): 5, ("failed",): 1}
    assert tally.settled == 6


# ---------------------------------------------------------------------------- probes
def probe(http: DaemonHttp, path: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{http.url}{path}", timeout=5)
    return response.status_code, response.json()


def test_healthz_follows_the_scheduler_heartbeat(store: Store) -> None:
    daemon = Daemon()
    with DaemonHttp(HttpConfig(port=0), store, Metrics(store), daemon.health) as http:
        assert http.port and http.url == f"http://127.0.0.1:{http.port}"
        status, body = probe(http, "/healthz")
        assert (status, body["status"]) == (503, "starting")
        daemon.state = HealthState(heartbeat=time.monotonic(), store_ready=True)
        status, body = probe(http, "/healthz")
        assert (status, body["status"]) == (200, "ok")
        assert 0 <= body["heartbeat_age"] < 5
        daemon.state = HealthState(heartbeat=time.monotonic() - 61, store_ready=True)
        status, body = probe(http, "/healthz")
        assert (status, body["status"]) == (503, "stale")
        assert "heartbeat was 61 s ago" in body["reason"]
        assert probe(http, "/readyz")[0] == 503  # a stuck loop is not ready either

        def failing() -> HealthState:
            raise RuntimeError("scheduler gone")

        http.health = failing
        status, body = probe(http, "/healthz")
        assert status == 503 and "scheduler gone" in body["reason"]


def test_readyz_waits_for_the_store_and_each_channel_s_first_pass(store: Store) -> None:
    beat = time.monotonic()
    daemon = Daemon(heartbeat=beat)
    with DaemonHttp(HttpConfig(port=0), store, Metrics(store), daemon.health) as http:
        assert probe(http, "/readyz") == (
            503,
            {"status": "not ready", "reason": "the store is not open yet"},
        )
        pending = ("atlas-rugs/etsy", "atlas-rugs/anou")
        daemon.state = HealthState(heartbeat=beat, store_ready=True, first_pass_pending=pending)
        status, body = probe(http, "/readyz")
        assert status == 503
        assert body["reason"] == "waiting for the first pass of atlas-rugs/etsy, atlas-rugs/anou"
        daemon.state = HealthState(heartbeat=beat, store_ready=True)
        assert probe(http, "/readyz") == (200, {"status": "ready"})
        daemon.state = HealthState(heartbeat=beat, store_ready=True, stopping=True)
        assert probe(http, "/readyz") == (503, {"status": "not ready", "reason": "stopping"})
        assert probe(http, "/healthz")[0] == 200  # stopping is not dead


def test_the_endpoint_takes_its_port_and_gives_it_back(store: Store) -> None:
    daemon = Daemon(heartbeat=time.monotonic(), store_ready=True)
    first = DaemonHttp(HttpConfig(port=0), store, Metrics(store), daemon.health).start()
    try:
        assert first.port
        taken = DaemonHttp(HttpConfig(port=first.port), store, Metrics(store), daemon.health)
        with pytest.raises(OSError):
            taken.start()
    finally:
        first.stop()
        first.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{first.url}/healthz", timeout=2)
    off = DaemonHttp(HttpConfig(enabled=False), store, Metrics(store), daemon.health).start()
    assert off.port is None
    off.stop()
