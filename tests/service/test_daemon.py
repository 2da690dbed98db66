"""The daemon as operators run it: a real ``python daemon.py`` process on the demo config,
with the sandbox marketplaces in its own process (``sandbox: {enabled: true}``).

Each test copies config/ into a temporary folder (the store and the sandbox's snapshot go
there), gives the daemon's HTTP endpoint a free port, and reads the daemon's JSON log
lines from its stderr to know where the sandbox listens and when passes end.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO

COOPS = ("atlas-rugs", "zellige-fes")
MARKETS = ("amazon", "etsy", "anou")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def demo_copy(tmp_path: Path, **daemon: Any) -> Path:
    """config/ copied to ``tmp_path``, the daemon's endpoint on a free port, no simulated
    buyers (the tests place their own orders), a short debounce."""
    shutil.copytree(REPO / "config", tmp_path / "config", ignore=shutil.ignore_patterns("var"))
    path = tmp_path / "config" / "demo.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["daemon"] = {"http": {"port": free_port()}, "debounce": 0.3, **daemon}
    data["sandbox"] = {"enabled": True, "buyers": {"enabled": False}, "quota_factor": 100}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Daemon:
    """A running ``python daemon.py --config ...``; its JSON log lines in ``lines``."""

    def __init__(self, config: Path) -> None:
        self.config = config
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "daemon.py"), "--config", str(config),
             "--log-format", "json"],
            cwd=config.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
        )  # fmt: skip
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._new: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.raw.append(line)
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.lines.append(event)
            self._new.put(event)

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict:
        """The first log line from now on that ``match``es."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (self.process.poll() is not None and self._new.empty()):
                tail = "".join(self.raw[-30:])
                raise AssertionError(f"no such log line in {timeout} s; the daemon said:\n{tail}")
            try:
                event = self._new.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if match(event):
                return event

    def passes(self, n: int, timeout: float = 60, **fields: Any) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            out.append(
                self.wait_for(
                    lambda e: (
                        e.get("event") == "pass_done"
                        and all(e.get(k) == v for k, v in fields.items())
                    ),
                    timeout,
                )
            )
        return out

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, float]:
        """Send ``sig``; (exit code, seconds it took)."""
        started = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Daemon, str]]:
    """The daemon on the demo config, after the first pass of both cooperatives; and the
    sandbox's base URL."""
    daemon = Daemon(demo_copy(tmp_path))
    try:
        url = daemon.wait_for(lambda e: e.get("event") == "sandbox_marketplaces")["url"]
        daemon.passes(2, kind="start", timeout=90)
        yield daemon, url
    finally:
        daemon.kill()


def listings(url: str, market: str) -> dict[str, dict[str, Any]]:
    rows = httpx.get(f"{url}/{market}/_sandbox/state", timeout=10).json()["listings"]
    return {str(r["sku"]): r for r in rows}


def eventually(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.2)


def test_a_catalog_edit_reaches_every_sandbox_channel(running: tuple[Daemon, str]) -> None:
    daemon, url = running
    for market in MARKETS:  # the first pass listed the demo catalogs everywhere
        assert "ATL-BCH-004" in listings(url, market), market
    before = {m: listings(url, m)["ATL-BCH-004"]["price"] for m in MARKETS}
    catalog = daemon.config.parent / "catalogs" / "atlas-rugs.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert text.count("    price: 1450\n") == 1
    catalog.write_text(text.replace("    price: 1450\n", "    price: 1650\n"), encoding="utf-8")
    daemon.wait_for(lambda e: e.get("event") == "catalog_saved")
    (done,) = daemon.passes(1, kind="push", cooperative="atlas-rugs")
    assert done["sent"] == 3 and done["failed"] == 0, done
    after = {m: listings(url, m)["ATL-BCH-004"]["price"] for m in MARKETS}
    assert all(float(after[m]) > float(before[m]) for m in MARKETS), (before, after)
    journal = subprocess.run(
        [sys.executable, "-m", "syndicator", "journal", "--config", str(daemon.config),
         "--sku", "ATL-BCH-004", "--action", "reprice", "--json"],
        capture_output=True, text=True, encoding="utf-8", check=True,
    ).stdout  # fmt: skip
    repriced = {json.loads(line)["channel"] for line in journal.splitlines()}
    assert repriced == set(MARKETS)


def port_of(daemon: Daemon) -> int:
    config = yaml.safe_load(daemon.config.read_text(encoding="utf-8"))
    port: int = config["daemon"]["http"]["port"]
    return port


def test_metrics_health_and_a_second_daemon_refused(running: tuple[Daemon, str]) -> None:
    daemon, _ = running
    base = f"http://127.0.0.1:{port_of(daemon)}"
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    text = httpx.get(f"{base}/metrics", timeout=5).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    passes = {
        (s.labels["cooperative"], s.labels["channel"]): s.value
        for s in families["syndicator_passes"].samples
        if s.name == "syndicator_passes_total" and s.labels["kind"] == "start"
    }
    assert passes == {(c, m): 1.0 for c in COOPS for m in MARKETS}
    ops = {
        s.labels["outcome"]
        for f in families.values()
        for s in f.samples
        if s.name.startswith("syndicator_operations")
    }
    assert "ok" in ops
    # A second daemon on the same database says who holds it and exits 3.
    second = subprocess.run(
        [sys.executable, str(REPO / "daemon.py"), "--config", str(daemon.config)],
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )  # fmt: skip
    assert second.returncode == 3, second.stderr[-2000:]
    assert "another Syndicator daemon already runs on this database" in second.stderr
    assert f"process {daemon.process.pid}" in second.stderr


def test_sigterm_in_a_pass_exits_0_quickly_and_a_restart_converges(tmp_path: Path) -> None:
    config = demo_copy(tmp_path)
    daemon = Daemon(config)
    try:
        daemon.wait_for(lambda e: e.get("event") == "sandbox_marketplaces")
        # The first pass sends every demo product to six shops: stop in the middle of it.
        daemon.wait_for(lambda e: e.get("event") == "listing_confirmed", timeout=90)
        code, took = daemon.stop(signal.SIGTERM)
        assert code == 0, "".join(daemon.raw[-20:])
        assert took < 10
        assert any(e.get("event") == "daemon_stopped" for e in daemon.lines)
    finally:
        daemon.kill()
    again = Daemon(config)
    try:
        url = again.wait_for(lambda e: e.get("event") == "sandbox_marketplaces")["url"]
        again.passes(2, kind="start", timeout=120)
        # Converged: a read of the store and of every shop agree, and nothing is left to
        # send (a push pass now sends nothing).
        catalog = config.parent / "catalogs" / "zellige-fes.csv"
        catalog.write_bytes(catalog.read_bytes())  # a save, same content
        (done,) = again.passes(1, kind="push", cooperative="zellige-fes")
        assert done["sent"] == 0 and done["failed"] == 0, done
        for market in MARKETS:
            skus = list(listings(url, market))
            assert len(skus) == len(set(skus)), f"a listing made twice on {market}"
        code, _ = again.stop(signal.SIGINT)
        assert code == 0
    finally:
        again.kill()
