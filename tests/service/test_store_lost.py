"""A store deleted under the running daemon (the demo, sandbox in process): noticed by the
heartbeat and /readyz, one alert to the webhook (the store that keeps alerts is gone), and
no pass any more, so nothing more is recorded into the void."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from syndicator.config import load_config
from syndicator.plugins import load_channel_types
from syndicator.service.daemon import PassRequest, running
from tests.service.test_alerts import Hook, hook  # noqa: F401  (the fixture)
from tests.service.test_daemon import demo_copy


def eventually(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def test_a_store_deleted_under_the_daemon_stops_its_passes_and_alerts(
    tmp_path: Path,
    hook: str,  # noqa: F811
) -> None:
    path = demo_copy(tmp_path, alerts={"webhook": {"file": "webhook-url"}})
    (path.parent / "webhook-url").write_text(hook + "\n", encoding="utf-8")
    config = load_config(path, load_channel_types())
    with running(config) as daemon:
        assert daemon.http is not None
        url = daemon.http.url
        eventually(lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 200, 90)
        store = Path(str(make_url(daemon.config.database_url).database))
        for p in store.parent.glob(store.name + "*"):
            p.unlink()

        ready = httpx.get(f"{url}/readyz", timeout=5)  # noticed at once by the probe
        assert ready.status_code == 503
        assert f"the store {store} was deleted while Syndicator ran" in ready.json()["reason"]

        eventually(lambda: daemon.store_lost is not None, 15)  # and by the heartbeat
        assert [a["kind"] for a in Hook.received] == ["store"]
        assert "put the store back from a backup" in Hook.received[0]["message"]
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200  # not restarted

        passes = daemon.passes
        for coop in daemon.workers:
            daemon.ask(coop, PassRequest(kinds={"push"}))
            assert daemon.run_pass(coop, PassRequest(kinds={"push"})) is None
        time.sleep(1.5)
        assert daemon.passes == passes
        assert not store.exists()  # never made again, empty, at the same path
