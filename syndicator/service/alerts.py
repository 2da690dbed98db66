"""Alerts to the operator: raised in the store, shown by ``syndicator status``, and sent to
a webhook when the config names one (``daemon.alerts.webhook``).

Kinds: ``auth`` (a channel refuses the credentials), ``oversell`` (two shops sold the last
piece), ``mass_delist`` (a pass refused to take a large share of a shop off sale),
``backlog`` (a change has waited longer than ``daemon.alerts.backlog_after``). The first
three are raised by the sync pass; :func:`check_backlog` raises and closes the fourth.

The webhook gets each alert once, as a JSON POST, in the order they were raised: a cursor
in the store (stream ``webhook``) remembers the last one sent, so a restart neither loses
nor repeats one. A webhook that fails is tried again at the next tick, from the first
alert not sent; its failure is logged once (and its recovery once), never its URL (it
often carries a token). The URL must be https (http only to a loopback address): checked
when the config is read and again before sending (:func:`syndicator.config.webhook_problem`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from syndicator.common.logs import FailureLog, get_logger
from syndicator.config import Config, webhook_problem
from syndicator.store import Store
from syndicator.store.alerts import Alert, alerts_after, raise_alert, resolve_alerts
from syndicator.store.cursors import read_cursor, write_cursor
from syndicator.store.status import backlog

__all__ = ["Notifier", "check_backlog"]

log = get_logger("syndicator.alerts")

STREAM = "webhook"
ANY = "*"  # the webhook cursor is the store's, not one shop's
BATCH = 100
TIMEOUT = 10.0


def check_backlog(config: Config, store: Store, now: datetime) -> list[str]:
    """Raise a ``backlog`` alert for each channel whose oldest waiting change is older than
    ``daemon.alerts.backlog_after``; close it where nothing waits that long any more.
    Returns the messages of alerts raised anew."""
    older_than = timedelta(seconds=config.daemon.alerts.backlog_after)
    raised: list[str] = []
    with store.write() as conn:
        late = {(p.cooperative, p.channel): p for p in backlog(conn, older_than, now)}
        for coop in config.cooperatives:
            for ch in coop.channels:
                change = late.get((coop.id, ch.id))
                if change is None:
                    resolve_alerts(conn, coop.id, "backlog", ch.id, now)
                    continue
                minutes = int(change.age(now).total_seconds() // 60)
                said = f"; {ch.id} said: {change.last_error}" if change.last_error else ""
                message = (
                    f"{coop.id}/{ch.id}: a change of {change.sku} ({change.state}) has waited "
                    f"{minutes} min, longer than the {config.daemon.alerts.backlog_after // 60} "
                    f"min allowed{said}"
                )
                if raise_alert(
                    conn,
                    cooperative=coop.id,
                    channel=ch.id,
                    kind="backlog",
                    key=ch.id,
                    sku=change.sku,
                    message=message,
                    now=now,
                    details={"since": change.since.isoformat(), "attempts": change.attempts},
                ):
                    raised.append(message)
    return raised


class Notifier:
    """Sends new alerts to the webhook (see the module's doc)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        client: httpx.Client | None = None,
        failures: FailureLog | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client or httpx.Client(timeout=TIMEOUT)
        self.failures = failures or FailureLog(log)

    def _url(self) -> str | None:
        ref = self.config.daemon.alerts.webhook
        if ref is None:
            return None
        try:
            url = ref.resolve(self.config.base).get_secret_value()
        except ValueError as exc:
            self.failures.failed("webhook", f"the webhook URL cannot be read: {exc}")
            return None
        why = webhook_problem(url)  # checked when the config is read; the file may change
        if why is not None:
            self.failures.failed("webhook", f"the webhook URL ({ref.describe()}) {why}")
            return None
        return url

    def send_new(self) -> int:
        """POST every alert not sent yet, oldest first; the number sent."""
        url = self._url()
        if url is None:
            return 0
        with self.store.read() as conn:
            last = int(read_cursor(conn, ANY, ANY, STREAM) or 0)
            rows = alerts_after(conn, last, BATCH)
        sent = 0
        for alert_id, alert in rows:
            body = self._post(url, alert)
            if body is None:
                break
            with self.store.write() as conn:
                write_cursor(conn, ANY, ANY, STREAM, str(alert_id), body_time(body))
            sent += 1
        if sent:
            self.failures.recovered("webhook")
            log.info("alerts_sent", count=sent)
        return sent

    def send_now(self, alert: Alert) -> bool:
        """POST one alert the store cannot keep (the store itself is lost), once, now;
        True when the webhook took it."""
        url = self._url()
        return url is not None and self._post(url, alert) is not None

    def _post(self, url: str, alert: Alert) -> dict[str, Any] | None:
        """POST ``alert``; the body sent, or None when the webhook did not take it (logged
        once)."""
        # What the store holds is masked already; the body is masked again, as a log line.
        body = {k: self.store.redactor.scrub(v) for k, v in _payload(alert).items()}
        try:
            response = self.client.post(url, json=body)
        except httpx.HTTPError as exc:
            why = f"the webhook cannot be reached: {type(exc).__name__}"
            self.failures.failed("webhook", why)
            return None
        if response.status_code >= 300:
            self.failures.failed("webhook", f"the webhook answered {response.status_code}")
            return None
        return body

    def close(self) -> None:
        self.client.close()


def _payload(alert: Alert) -> dict[str, Any]:
    """What the webhook receives. ``text`` makes it readable as is by Slack- and Teams-style
    incoming webhooks."""
    return {
        "source": "syndicator",
        "kind": alert.kind,
        "cooperative": alert.cooperative,
        "channel": alert.channel,
        "sku": alert.sku,
        "message": alert.message,
        "at": alert.at.isoformat(),
        "details": alert.details,
        "text": f"Syndicator alert ({alert.kind}): {alert.message}",
    }


def body_time(body: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(body["at"]))
