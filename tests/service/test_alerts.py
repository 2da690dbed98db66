"""Alerts (syndicator/service/alerts.py): backlog alerts raised and closed, and every alert sent to
the webhook once, in order, across failures and restarts, without its URL in any log."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from syndicator.common.logs import configure_logging
from syndicator.config import AlertsConfig, Config, DaemonConfig, SecretRef
from syndicator.service.alerts import Notifier, check_backlog
from syndicator.store.alerts import open_alerts, raise_alert, resolve_alerts
from syndicator.store.listings import mark_pending
from tests.planning.test_plan import World, world  # noqa: F401  (the fixture)

TOKEN = "T0KEN-of-the-webhook-9f8e7d"


class Hook(BaseHTTPRequestHandler):
    """A webhook on loopback: keeps what it receives; answers ``status`` (a list, so the
    test can make it fail for a while)."""

    received: ClassVar[list[dict[str, Any]]] = []
    status: ClassVar[list[int]] = [200]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        code = self.status[0]
        if code < 300:
            self.received.append(json.loads(body))
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received = []
    Hook.status = [200]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{TOKEN}"
    server.shutdown()
    server.server_close()


def with_webhook(world: World, url: str, backlog_after: int = 3600) -> Config:  # noqa: F811
    secret = world.folder / "webhook-url"
    secret.write_text(url + "\n", encoding="utf-8")
    alerts = AlertsConfig(webhook=SecretRef(file=Path("webhook-url")), backlog_after=backlog_after)
    model = world.config.model.model_copy(update={"daemon": DaemonConfig(alerts=alerts)})
    return Config(world.config.path, model, world.config.rates, world.config.channel_types)


def alert(world: World, key: str, kind: str = "oversell", at: datetime | None = None) -> None:  # noqa: F811
    with world.store.write() as conn:
        raise_alert(
            conn,
            cooperative="atlas",
            kind=kind,
            key=key,
            sku=key,
            channel="etsy" if kind == "auth" else None,
            message=f"{kind} {key}",
            now=at or datetime.now(UTC),
        )


def test_each_alert_reaches_the_webhook_once_in_order_and_after_a_failure(
    world: World,  # noqa: F811
    hook: str,
) -> None:
    log = io.StringIO()
    configure_logging(json=True, stream=log)
    config = with_webhook(world, hook)
    alert(world, "RUG-1")
    alert(world, "RUG-2")
    notifier = Notifier(config, world.store)
    assert notifier.send_new() == 2
    assert notifier.send_new() == 0  # nothing new: nothing sent again
    assert [a["sku"] for a in Hook.received] == ["RUG-1", "RUG-2"]
    first = Hook.received[0]
    assert first["kind"] == "oversell" and first["cooperative"] == "atlas"
    assert first["text"] == "Syndicator alert (oversell): oversell RUG-1"

    # The webhook fails: nothing is lost, and the failure is logged once.
    Hook.status = [503]
    alert(world, "RUG-3")
    alert(world, "RUG-4")
    assert notifier.send_new() == 0
    assert notifier.send_new() == 0
    # A restart (a new notifier, same store) once the webhook is back sends the two.
    Hook.status = [200]
    again = Notifier(config, world.store)
    assert again.send_new() == 2
    assert [a["sku"] for a in Hook.received] == ["RUG-1", "RUG-2", "RUG-3", "RUG-4"]
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    failing = [e for e in lines if e["event"] == "failing"]
    assert len(failing) == 1 and failing[0]["error"] == "the webhook answered 503"
    assert TOKEN not in log.getvalue()


def test_an_alert_closed_and_raised_again_is_sent_again(world: World, hook: str) -> None:  # noqa: F811
    config = with_webhook(world, hook)
    notifier = Notifier(config, world.store)
    alert(world, "etsy", kind="auth")
    alert(world, "etsy", kind="auth")  # still open: not a second alert
    assert notifier.send_new() == 1
    with world.store.write() as conn:
        assert resolve_alerts(conn, "atlas", "auth", "etsy", datetime.now(UTC)) == 1
    alert(world, "etsy", kind="auth")  # the credentials fail again
    assert notifier.send_new() == 1
    assert [a["kind"] for a in Hook.received] == ["auth", "auth"]


def test_a_change_waiting_too_long_raises_a_backlog_alert_until_it_goes_through(
    world: World,  # noqa: F811
) -> None:
    config = with_webhook(world, "http://127.0.0.1:9/unused", backlog_after=600)
    then = datetime.now(UTC) - timedelta(minutes=30)
    with world.store.write() as conn:
        mark_pending(conn, "atlas", "etsy", [("RUG-2", None)], then)
    now = datetime.now(UTC)
    (message,) = check_backlog(config, world.store, now)
    assert message.startswith("atlas/etsy: a change of RUG-2 (pending) has waited 30 min")
    assert check_backlog(config, world.store, now) == []  # already open
    with world.store.read() as conn:
        (open_,) = [a for a in open_alerts(conn, "atlas") if a.kind == "backlog"]
    assert (open_.channel, open_.sku) == ("etsy", "RUG-2")
    # The change goes through: the alert closes.
    world.confirm()
    assert check_backlog(config, world.store, now) == []
    with world.store.read() as conn:
        assert not [a for a in open_alerts(conn, "atlas") if a.kind == "backlog"]
