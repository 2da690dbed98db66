"""The operator told the truth (issue 14): a listing a shop refused makes ``status`` fail
and name the shop, and every listing's outcome on every marketplace is one log event with
its cooperative, channel and SKU."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from syndicator.common.logs import configure_logging
from tests.connectors.kit import CATALOG, SKUS, World
from tests.sync.test_reconcile import MARKETS, sync, write_catalog

pytestmark = pytest.mark.usefixtures("logging_restored")  # tests/conftest.py


def events(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_status_fails_and_names_the_shop_when_a_pass_left_listings_refused(world: World) -> None:
    runner = CliRunner()
    config = str(world.config_path)
    sync(world)
    assert runner.invoke(app, ["status", "--config", config]).exit_code == 0
    # Amazon needs the lantern's material; the other shops take it without. The rug's new
    # price goes through everywhere: a partial pass.
    edited = CATALOG.replace("    materials: [brass]\n", "").replace("price: 4500", "price: 4600")
    write_catalog(world, edited)
    report = sync(world)
    amazon = next(c for c in report.channels if c.channel == "amazon")
    assert amazon.failed and amazon.done  # a partial pass: some went through
    shown = runner.invoke(app, ["status", "--config", config])
    assert shown.exit_code == 1, shown.output
    assert "NOT OK atlas-rugs/amazon: 1 listing(s) failed" in shown.output
    assert "all channels ok" not in shown.output
    as_json = json.loads(runner.invoke(app, ["status", "--config", config, "--json"]).stdout)
    channels = {c["channel"]: c for c in as_json["cooperatives"][0]["channels"]}
    assert channels["amazon"]["troubles"] == ["1 listing(s) failed"]
    assert channels["etsy"]["ok"] and channels["anou"]["ok"]


def test_every_listing_outcome_is_one_log_event_on_every_marketplace(world: World) -> None:
    stream = io.StringIO()
    configure_logging(json=True, level="INFO", stream=stream)
    sync(world)
    write_catalog(world, CATALOG.replace("    materials: [brass]\n", ""))
    sync(world)
    lines = events(stream)
    confirmed = {
        (e["channel"], e["sku"])
        for e in lines
        if e["event"] == "listing_confirmed" and e["cooperative"] == "atlas-rugs"
    }
    assert {(m, sku) for m in MARKETS for sku in SKUS} <= confirmed
    (refused,) = [e for e in lines if e["event"] in ("listing_refused", "listing_retried")]
    assert (refused["cooperative"], refused["channel"], refused["sku"]) == (
        "atlas-rugs",
        "amazon",
        "LAMP-1",
    )
    assert "item_form" in str(refused["error"]) or "material" in str(refused["error"])
    assert all(e.get("run_id") for e in lines if str(e["event"]).startswith("listing_"))
