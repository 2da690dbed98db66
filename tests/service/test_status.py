"""``syndicator status`` after real passes on the three sandbox marketplaces.

The world is tests/conftest.py's: the cooperative of tests/connectors/kit.py (a one-of-a-kind
rug, a cushion in two sizes, a lantern) on Amazon, Etsy and an ANOU-style marketplace, each
through its real connector over loopback. Passes are real ``sync_once`` calls; the status
is read back from the store they wrote.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.service.status import StatusReport, channel_status
from syndicator.store.listings import mark_unsure
from syndicator.store.status import backlog
from tests.connectors.kit import CATALOG, SKUS, World
from tests.connectors.test_anou import HARNESS as ANOU
from tests.connectors.test_etsy import HARNESS as ETSY
from tests.sync.test_reconcile import MARKETS, order, sync, write_catalog


@pytest.fixture
def atlas(world: World) -> World:
    """tests/conftest.py's world: the kit's cooperative on the three sandbox marketplaces."""
    return world


def status(w: World, now: datetime | None = None) -> StatusReport:
    return channel_status(w.config, w.store, now=now)


def by_channel(report: StatusReport) -> dict[str, Any]:
    (coop,) = report.cooperatives
    return {c.channel: c for c in coop.channels}


def cli(w: World, *args: str) -> Any:
    command = ["status", "--config", str(w.config_path), *args]
    return CliRunner().invoke(app, command, env={"COLUMNS": "100"})


# --------------------------------------------------------------------------- real passes
def test_after_a_first_pass_everything_is_in_sync_and_the_status_is_ok(atlas: World) -> None:
    report = sync(atlas)
    assert report.ok
    channels = by_channel(status(atlas))
    assert set(channels) == set(MARKETS)
    for market, c in channels.items():
        assert c.ok, market
        last = c.last_pass
        assert (last.run_id, last.kind, last.outcome) == (report.run_id, "sync", "ok")
        assert last.counts["sent"] == last.counts["confirmed"] == len(SKUS)
        assert last.counts["actions"] == {"create": {"confirmed": len(SKUS), "not_done": 0}}
        assert (c.listings.in_sync, c.listings.pending, c.listings.failed) == (len(SKUS), 0, 0)
        assert c.oldest_pending is None and c.last_error is None
        assert c.quota is not None and c.quota.calls >= len(SKUS)
    (etsy_day,) = channels["etsy"].quota.daily  # Etsy counts calls per key and day
    assert etsy_day.used == channels["etsy"].quota.calls and etsy_day.limit > etsy_day.used
    assert channels["amazon"].quota.daily == ()

    table = cli(atlas)
    assert table.exit_code == 0, table.output
    assert "all channels ok" in table.stdout and "4 in sync" in table.stdout
    as_json = cli(atlas, "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["ok"] is True

    # A pass killed after sending the rug to Etsy, before it saved the answer, leaves:
    sent_at = datetime.now(UTC)
    with atlas.store.write() as conn:
        mark_unsure(conn, "atlas-rugs", "etsy", ["RUG-1"], sent_at)
    etsy = by_channel(status(atlas))["etsy"]
    assert (etsy.listings.in_sync, etsy.listings.pending) == (len(SKUS) - 1, 1)
    assert (etsy.oldest_pending.sku, etsy.oldest_pending.since) == ("RUG-1", sent_at)

    again = sync(atlas, kind="push")  # the daemon's push after a catalog edit
    etsy = by_channel(status(atlas))["etsy"]
    assert (etsy.last_pass.run_id, etsy.last_pass.kind) == (again.run_id, "push")
    assert etsy.last_pass.counts["confirmed"] == 1
    assert (etsy.listings.in_sync, etsy.listings.pending) == (len(SKUS), 0)


def test_a_refused_item_is_failed_in_the_channels_words_and_fails_the_status_at_once(
    atlas: World,
) -> None:
    write_catalog(atlas, CATALOG.replace("    materials: [brass]\n", ""))  # Amazon needs it
    sync(atlas)
    report = status(atlas)
    amazon = by_channel(report)["amazon"]
    assert amazon.last_pass.outcome == "partial"
    counts = amazon.last_pass.counts
    assert (counts["confirmed"], counts["refused"], counts["failed"]) == (3, 1, 0)
    assert amazon.last_pass.last_error and "material" in amazon.last_pass.last_error
    assert (amazon.listings.in_sync, amazon.listings.failed) == (3, 1)
    assert amazon.last_error.sku == "LAMP-1" and "material" in (amazon.last_error.message or "")
    first = amazon.oldest_pending
    assert (first.sku, first.state, first.attempts) == ("LAMP-1", "failed", 1)
    # The other three went through, but a shop refused one: the status says so at once
    # (issue 14: "all channels ok" while Amazon refused listings misled the operator).
    assert not report.ok and amazon.troubles() == ["1 listing(s) failed"]
    assert by_channel(report)["etsy"].ok

    sync(atlas)  # refused again: the change has waited since the first refusal
    amazon = by_channel(status(atlas))["amazon"]
    assert amazon.last_pass.outcome == "partial" and amazon.last_pass.counts["sent"] == 1
    later = amazon.oldest_pending
    assert (later.attempts, later.since) == (2, first.since)

    hours_later = first.since + timedelta(hours=2)  # past backlog_after (1 h by default)
    late = status(atlas, now=hours_later)
    assert not late.ok and by_channel(late)["amazon"].backlog
    assert not by_channel(late)["etsy"].backlog
    with atlas.store.read() as conn:
        (waiting,) = backlog(conn, timedelta(hours=1), hours_later)
    assert (waiting.channel, waiting.sku) == ("amazon", "LAMP-1")

    table = cli(atlas)
    assert table.exit_code == 1, table.output  # a refusal fails the status, naming the shop
    assert "material" in table.stdout and "LAMP-1" in table.stdout
    assert "NOT OK atlas-rugs/amazon: 1 listing(s) failed" in table.stdout
    assert "all channels ok" not in table.stdout


def test_a_channel_refusing_its_credentials_stops_and_opens_an_auth_alert(
    atlas: World,
) -> None:
    atlas.write_secrets({"anou-api_key": "not-the-key"})
    sync(atlas)
    report = status(atlas)
    channels = by_channel(report)
    anou = channels["anou"]
    assert anou.last_pass.outcome == "stopped" and not anou.ok
    assert "unknown API key" in (anou.last_pass.last_error or "")  # ANOU's own words
    assert anou.last_error.outcome == "stopped" and "unknown API key" in anou.last_error.message
    assert channels["amazon"].ok and channels["etsy"].ok
    (alert,) = report.cooperatives[0].alerts
    assert (alert.kind, alert.channel) == ("auth", "anou")
    assert not report.ok

    as_json = cli(atlas, "--json")
    assert as_json.exit_code == 1, as_json.output
    data = json.loads(as_json.stdout)
    (coop,) = data["cooperatives"]
    assert [a["kind"] for a in coop["alerts"]] == ["auth"]
    shown = {c["channel"]: c for c in coop["channels"]}
    assert shown["anou"]["last_pass"]["outcome"] == "stopped"
    assert "not-the-key" not in as_json.stdout


def test_an_oversell_is_an_open_alert_and_orders_and_reviews_are_counted(atlas: World) -> None:
    sync(atlas)
    on_etsy = order(atlas, "etsy", "RUG-1")
    on_anou = order(atlas, "anou", "RUG-1")  # the last piece, sold twice
    atlas.control("anou", "POST", "reviews", {"sku": "CUSH-1-S", "rating": 5, "text": "Beau"})
    sync(atlas, reviews=True)
    report = status(atlas)
    channels = by_channel(report)
    assert {m: c.orders.count for m, c in channels.items()} == {"amazon": 0, "etsy": 1, "anou": 1}
    assert channels["anou"].reviews.count == 1 and channels["anou"].reviews.last_at is not None
    assert channels["anou"].last_pass.counts["orders"] == 1
    (alert,) = report.cooperatives[0].alerts
    assert alert.kind == "oversell" and alert.sku == "RUG-1"
    assert all(c.ok for c in channels.values()) and not report.ok

    table = cli(atlas)
    assert table.exit_code == 1, table.output
    assert "ALERT oversell" in table.stdout
    assert on_etsy in table.stdout and on_anou in table.stdout
    secrets = (*ETSY.secrets().values(), *ANOU.secrets().values())
    assert not any(s in table.stdout for s in secrets)


def test_an_unknown_cooperative_is_a_usage_error(atlas: World) -> None:
    result = cli(atlas, "--cooperative", "nobody")
    assert result.exit_code == 2
    assert "nobody" in result.stderr
