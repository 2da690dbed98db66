"""Benchmark: the daemon, from a save or a sale to every shop; and what it costs idle.

The goals (issue 6, "Performance"): from saving a catalog edit to every sandbox channel
showing it, **p95 at most 5 s** over 50 edits with default settings; from an order on one
channel to the new quantity on the others, with orders pulled every 60 s, **at most 62 s**
(and what it takes to get there sooner); an idle daemon uses **at most 1 % CPU and
150 MB** of memory.

Everything runs against the real daemon: ``python daemon.py --config X --log-format json``
in a process of its own, on a fresh copy of ``config/`` (the demo config, the demo
catalogs), with the sandbox marketplaces started in the daemon's process as the demo does
(``sandbox: {enabled: true, buyers: {enabled: false}}``: no simulated buyers; the bench
places its own orders), the daemon's HTTP endpoint on a free port. Each phase below starts
its own daemon on its own copy (``OUT/daemon/<phase>/``, with the daemon's log). From the
repository root::

    .venv/bin/python bench/bench_daemon.py [--quick] [--edits 50] [--sales 10]
                                           [--idle 60] [--out bench/out] [--seed 20261125]

Phases (``--only NAME`` runs one; repeatable):

1. ``edits`` (default schedules: the copy's ``schedule`` blocks removed; default
   ``daemon.debounce``, 1 s). Once the first passes are done and the daemon has been left
   alone a few seconds, its **idle cost** is measured over ``--idle`` seconds (below). Then
   ``--edits`` catalog edits: the price of ATL-BCH-004 in ``catalogs/atlas-rugs.yaml``,
   alternately raised and put back (so every save is a real change), written in place as
   ``Path.write_text`` does; after each one the three marketplaces' ``GET
   /<m>/_sandbox/state`` are polled every ~50 ms until the SKU shows a new price on every
   shop that lists it. The latency is from the end of the write to the poll that saw the
   last shop change. From the daemon's log lines (their timestamps are the same machine's
   clock) each edit is split into save -> ``catalog_saved`` (the watcher and the catalog
   check), -> the push pass's start, the pass (``pass_done``'s ``seconds``), and the last
   ``listing_confirmed`` of the SKU (``listing_pushed`` before issue 14). Then a pause of
   1.5-3 s before the next edit.
2. ``idle-demo``: the copy keeps config/demo.yaml's demo-pace schedules (orders every 30 s,
   reviews every minute); idle cost only.
3. ``idle-separate`` and ``idle-separate-demo``: default (then demo-pace) schedules, and the
   sandbox in a process of its own (``syndicator sandbox --port P --quota-factor 50``); the
   copy has ``sandbox.enabled: false`` and its channels pointed at that sandbox with the
   sandbox's demo credentials (in ``secrets/`` files). The daemon's and the sandbox's costs
   are measured apart: the daemon's is what a production daemon, which has no sandbox
   inside, costs.
4. ``threads``: the demo daemon (demo pace, sandbox inside) started by a child process that
   measures its own threads from ``/proc/self/task`` (named through ``threading``) and the
   CPU of each pass (``time.thread_time`` around ``Daemon.run_pass``); with ``--profile``
   the passes also run under cProfile (``OUT/daemon/daemon_passes_profile.txt``; the
   profiler inflates the CPU, so that run's numbers are not results).
5. ``sales-60`` and ``sales-10``: every channel's ``schedule: {orders: 60s}`` (then
   ``10s``). ``--sales`` orders (``POST /<m>/_sandbox/orders`` of one piece), each of a
   different SKU listed with stock on all three shops of its cooperative, placed in turn on
   Etsy, Amazon and ANOU, both cooperatives in turn; the latency is from the order's answer
   to the poll (~50 ms) that sees the quantity one lower on the two other shops. Orders are
   placed every ~0.37-0.47 orders interval (seeded), so that they fall at every phase of the
   orders timer and some overlap (each on its own SKU, so they do not disturb one another).
6. ``real-quota``, only with ``--only real-quota``: orders every 10 s against the
   marketplaces' published quotas (the in-process sandbox with ``quota_factor: 1``, which
   the connectors' own buckets follow); after ``--drain`` seconds (240: Amazon's
   searchOrders burst of 20 lasts about 212 s at one call every 10 s), 5 edits (``--edits``)
   as in ``edits``, each awaited up to 10 minutes. Shows what an orders interval shorter
   than a quota allows does to everything else.

**Idle cost**: from ``/proc/<pid>/stat`` (utime + stime) at the start and the end of the
window, as a share of one core over the window's wall time; memory from
``/proc/<pid>/status``: VmRSS every second, VmHWM (the peak since the start, the first
passes included) at the end. The passes that ended in the window are read from the store's
``passes`` table once the daemon has stopped (and /metrics' pass counters just outside the
window).

Results: ``OUT/bench_daemon.json`` and a summary on stdout. The default run (every phase
but ``real-quota``) takes about 14 minutes; ``--quick`` (10 edits, 4 sales of each kind,
30 s idle windows) about 7. ``--only idle-separate --idle 330`` covers one round of the
default 5-minute orders timers; ``--only real-quota`` takes 10 to 20 minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import queue
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parent.parent
MARKETS = ("amazon", "etsy", "anou")
SHOP_KEY = {"amazon": "seller_id", "etsy": "shop_id", "anou": "shop"}
EDIT_COOP, EDIT_SKU = "atlas-rugs", "ATL-BCH-004"
POLL = 0.05  # seconds between two reads of the marketplaces
QUOTA_FACTOR = 50.0  # the demo sandbox's default (syndicator/config.py, SandboxConfig)
CLK_TCK = os.sysconf("SC_CLK_TCK")
SETTLE = 6.0  # seconds left alone after the first passes, before an idle window

GOAL_EDIT_P95 = 5.0  # seconds
GOAL_SALE = 62.0  # seconds, orders every 60 s
GOAL_CPU = 1.0  # percent of one core
GOAL_MEMORY = 150 * 1000 * 1000  # bytes: "150 MB"


# ------------------------------------------------------------------------------ helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def when(stamp: str) -> float:
    """A log line's ISO timestamp (UTC, ``Z``) as seconds since the epoch."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (p95 of 50 values: the 48th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def tree_digest() -> str:
    """A digest of every source under syndicator/ and connectors/ (the measured code)."""
    digest = hashlib.sha256()
    for folder in ("syndicator", "connectors"):
        for path in sorted((REPO / folder).rglob("*.py")):
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def machine() -> dict[str, Any]:
    """CPU model (from /proc/cpuinfo), core count, memory, Python and OS."""
    cpu = platform.processor() or "unknown"
    memory = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
        "clk_tck": CLK_TCK,
    }


def loadavg() -> float:
    return os.getloadavg()[0]


# ------------------------------------------------------------------------------ /proc
def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (bytes) and Threads of ``pid``."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
        elif key == "Threads":
            out[key] = int(value)
    return out


def idle_cost(pids: Mapping[str, int], seconds: float) -> dict[str, dict[str, Any]]:
    """Each process's CPU share and memory over ``seconds`` of wall time."""
    start = time.monotonic()
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    rss: dict[str, list[int]] = {name: [] for name in pids}
    while time.monotonic() - start < seconds:
        for name, pid in pids.items():
            rss[name].append(proc_status(pid)["VmRSS"])
        time.sleep(min(1.0, max(0.0, seconds - (time.monotonic() - start))))
    cpu1 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    wall = time.monotonic() - start
    out = {}
    for name, pid in pids.items():
        status = proc_status(pid)
        used = cpu1[name] - cpu0[name]
        out[name] = {
            "pid": pid,
            "wall_seconds": wall,
            "cpu_seconds": used,
            "cpu_percent": 100 * used / wall,
            "rss_bytes_start": rss[name][0],
            "rss_bytes_end": status["VmRSS"],
            "rss_bytes_max": max([*rss[name], status["VmRSS"]]),
            "hwm_bytes": status["VmHWM"],
            "threads": status["Threads"],
        }
    return out


# ------------------------------------------------------------------------------ the copy
def config_copy(
    folder: Path,
    *,
    schedules: str | Mapping[str, str],
    sandbox_url: str | None = None,
    daemon: Mapping[str, Any] | None = None,
    quota_factor: float | None = None,
) -> Path:
    """config/ copied into ``folder``; the daemon's endpoint on a free port; no simulated
    buyers. ``schedules``: "demo" (as config/demo.yaml has them), "default" (every
    ``schedule`` block removed) or a block put on every channel. ``sandbox_url``: the
    channels pointed at a sandbox running there, instead of the in-process one.
    ``quota_factor``: the in-process sandbox's (default 50; 1: the published quotas)."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(REPO / "config", folder, ignore=shutil.ignore_patterns("var"))
    path = folder / "demo.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["daemon"] = {"http": {"port": free_port()}, **(daemon or {})}
    for coop in data["cooperatives"]:
        for ch in coop["channels"]:
            if schedules == "default":
                ch.pop("schedule", None)
            elif schedules != "demo":
                assert isinstance(schedules, Mapping)
                ch["schedule"] = dict(schedules)
    if sandbox_url is None:
        data["sandbox"] = {"enabled": True, "buyers": {"enabled": False}}
        if quota_factor is not None:
            data["sandbox"]["quota_factor"] = quota_factor
    else:
        data["sandbox"] = {"enabled": False}
        _point_at(folder, data, sandbox_url)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _point_at(folder: Path, data: dict[str, Any], base: str) -> None:
    """Every channel at the sandbox at ``base``, with its demo accounts (the demo config's
    sellers, shops and keys are the sandbox's own); credentials in files."""
    from sandbox.amazon import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLERS
    from sandbox.anou import DEMO_KEYS
    from sandbox.etsy import DEMO_ACCOUNTS

    secrets = folder / "secrets"
    secrets.mkdir(exist_ok=True)
    etsy = {a.shop_id: a for a in DEMO_ACCOUNTS}
    anou = {shop: key for key, shop in DEMO_KEYS.items()}
    for coop in data["cooperatives"]:
        for ch in coop["channels"]:
            s = ch["settings"]
            if ch["type"] == "amazon":
                s |= {
                    "endpoint": f"{base}/amazon",
                    "token_url": f"{base}/amazon/auth/o2/token",
                    "feed_poll_seconds": 0.2,  # as the demo sandbox sets them
                    "report_poll_seconds": 0.2,
                }
                creds = {
                    "refresh_token": DEMO_SELLERS[s["seller_id"]][0],
                    "client_id": DEMO_CLIENT_ID,
                    "client_secret": DEMO_CLIENT_SECRET,
                }
            elif ch["type"] == "etsy":
                account = etsy[int(s["shop_id"])]
                s["endpoint"] = f"{base}/etsy"
                creds = {
                    "keystring": account.keystring,
                    "shared_secret": account.shared_secret,
                    "refresh_token": account.refresh_token,
                }
            else:
                s["base_url"] = f"{base}/anou/api/v1"
                creds = {"api_key": anou[coop["id"]]}
            s["quota_factor"] = QUOTA_FACTOR
            refs = {}
            for name, value in creds.items():
                file = secrets / f"{coop['id']}-{ch['id']}-{name}"
                file.write_text(value + "\n", encoding="utf-8")
                refs[name] = {"file": f"secrets/{file.name}"}
            ch["credentials"] = refs


def shops_of(config: Path) -> dict[tuple[str, str], tuple[str, Any]]:
    """(cooperative, marketplace) -> the (key, value) of its rows in ``GET state``."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    out: dict[tuple[str, str], tuple[str, Any]] = {}
    for coop in data["cooperatives"]:
        for ch in coop["channels"]:
            s = ch["settings"]
            value = {
                "amazon": s.get("seller_id"),
                "etsy": int(s.get("shop_id", 0)),
                "anou": coop["id"],
            }[ch["type"]]
            out[coop["id"], ch["type"]] = (SHOP_KEY[ch["type"]], value)
    return out


def caps_of(config: Path) -> dict[tuple[str, str], int | None]:
    """(cooperative, marketplace) -> the channel's stock.max_quantity."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    return {
        (coop["id"], ch["type"]): (ch.get("stock") or {}).get("max_quantity")
        for coop in data["cooperatives"]
        for ch in coop["channels"]
    }


# ------------------------------------------------------------------------------ processes
@dataclass
class LogLine:
    at: float  # the line's own timestamp (epoch seconds)
    event: dict[str, Any]


@dataclass
class Daemon:
    """A running ``python daemon.py --config ... --log-format json``; its log lines."""

    config: Path
    process: subprocess.Popen[str]
    lines: list[LogLine] = field(default_factory=list)
    new: queue.Queue[LogLine] = field(default_factory=queue.Queue)
    started: float = field(default_factory=time.time)
    code: str = ""

    @classmethod
    def start(cls, config: Path) -> Daemon:
        log = (config.parent / "daemon.log").open("w", encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, str(REPO / "daemon.py"), "--config", str(config),
             "--log-format", "json"],
            cwd=config.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            text=True,
            encoding="utf-8",
        )  # fmt: skip
        daemon = cls(config, process, code=tree_digest())
        threading.Thread(target=daemon._read, args=(log,), daemon=True).start()
        return daemon

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self, log: Any) -> None:
        assert self.process.stderr is not None
        with log:
            for raw in self.process.stderr:
                log.write(raw)
                try:
                    event = json.loads(raw)
                    line = LogLine(when(event["timestamp"]), event)
                except (json.JSONDecodeError, KeyError, ValueError):
                    continue
                self.lines.append(line)
                self.new.put(line)

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float) -> LogLine:
        """The first log line from now on that ``match``es."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (self.process.poll() is not None and self.new.empty()):
                tail = self.config.parent / "daemon.log"
                raise SystemExit(f"the daemon did not log what was awaited; see {tail}")
            try:
                line = self.new.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if match(line.event):
                return line

    def ready(self, timeout: float = 180) -> float:
        """Wait for the first pass of both cooperatives; the seconds since the start."""
        for _ in range(2):
            self.wait_for(lambda e: e.get("event") == "pass_done" and e["kind"] == "start", timeout)
        return time.time() - self.started

    def after(self, since: float, **fields: Any) -> list[LogLine]:
        """The log lines at or after ``since`` with these fields."""
        return [
            line
            for line in list(self.lines)
            if line.at >= since and all(line.event.get(k) == v for k, v in fields.items())
        ]

    def stop(self) -> dict[str, Any]:
        """SIGTERM; the exit code and how long it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=10)
        return {"exit_code": code, "stop_seconds": round(time.monotonic() - started, 3)}

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def running(config: Path, stopped: dict[str, Any]) -> Iterator[Daemon]:
    """A started daemon, stopped with SIGTERM on leaving (``stopped``: how that went)."""
    daemon = Daemon.start(config)
    try:
        yield daemon
        stopped.update(daemon.stop())
    finally:
        daemon.kill()


def sandbox_url(daemon: Daemon) -> str:
    line = daemon.wait_for(lambda e: e.get("event") == "sandbox_marketplaces", 60)
    return str(line.event["url"])


def port_of(config: Path) -> int:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    port: int = data["daemon"]["http"]["port"]
    return port


def passes_so_far(config: Path) -> dict[str, float]:
    """syndicator_passes_total from the daemon's /metrics, summed by kind."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"http://127.0.0.1:{port_of(config)}/metrics", timeout=10).text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "syndicator_passes_total":
                kind = s.labels.get("kind", "?")
                out[kind] = out.get(kind, 0.0) + s.value
    return out


def measure_idle(daemon: Daemon, pids: Mapping[str, int], seconds: float) -> dict[str, Any]:
    """The idle cost of ``pids`` over ``seconds``, with the passes run meanwhile (one per
    cooperative and channel in /metrics) and the machine's load."""
    before, load = passes_so_far(daemon.config), loadavg()
    start = time.time()
    cost = idle_cost(pids, seconds)
    end = time.time()
    after = passes_so_far(daemon.config)
    return {
        "window": [start, end],
        "processes": cost,
        "channel_passes": {
            k: after[k] - before.get(k, 0.0) for k in after if after[k] != before.get(k, 0.0)
        },
        "log_lines": sum(1 for line in list(daemon.lines) if start <= line.at <= end),
        "loadavg_1m": [round(load, 2), round(loadavg(), 2)],
    }


class Markets:
    """The sandbox marketplaces' control API: what each shop lists now."""

    def __init__(self, base: str, shops: Mapping[tuple[str, str], tuple[str, Any]]) -> None:
        self.base = base
        self.shops = shops
        self.client = httpx.Client(timeout=10)

    def read(self) -> dict[str, list[dict[str, Any]]]:
        """Every marketplace's listings (three GETs)."""
        out = {}
        for market in MARKETS:
            response = self.client.get(f"{self.base}/{market}/_sandbox/state")
            response.raise_for_status()
            out[market] = response.json()["listings"]
        return out

    def rows(
        self, state: Mapping[str, list[dict[str, Any]]], coop: str, market: str, sku: str
    ) -> list[dict[str, Any]]:
        key, value = self.shops[coop, market]
        return [r for r in state[market] if r.get("sku") == sku and r.get(key) == value]

    def rows_of(
        self, state: Mapping[str, list[dict[str, Any]]], coop: str, market: str = "amazon"
    ) -> list[dict[str, Any]]:
        key, value = self.shops[coop, market]
        return [r for r in state[market] if r.get(key) == value]

    def field(
        self, state: Mapping[str, list[dict[str, Any]]], coop: str, sku: str, name: str
    ) -> dict[str, Any]:
        """marketplace -> the value of ``name`` in the one row of ``sku`` on the shop of
        ``coop`` (marketplaces where the shop does not list it are left out)."""
        out = {}
        for market in MARKETS:
            rows = self.rows(state, coop, market, sku)
            if len(rows) == 1:
                out[market] = rows[0].get(name)
        return out

    def order(self, coop: str, market: str, sku: str) -> dict[str, Any]:
        key, value = self.shops[coop, market]
        body = {"sku": sku, "quantity": 1, key: value}
        response = self.client.post(f"{self.base}/{market}/_sandbox/orders", json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def close(self) -> None:
        self.client.close()


def settle(seconds: float) -> None:
    time.sleep(seconds)


# ------------------------------------------------------------------------------ edits
def with_price(text: str, sku: str, price: int) -> tuple[str, int]:
    """The catalog text with ``sku``'s own price (not a channel's) set to ``price``; and the
    price it had."""
    start = text.index(f"- sku: {sku}\n")
    end = text.find("\n  - sku:", start + 1)
    end = len(text) if end < 0 else end
    found = re.search(r"\n    price: (\d+)\n", text[start:end])
    if found is None:
        raise SystemExit(f"no price line for {sku} in the catalog")
    a, b = start + found.start(1), start + found.end(1)
    return text[:a] + str(price) + text[b:], int(found.group(1))


def run_edits(
    daemon: Daemon, markets: Markets, count: int, rng: random.Random, timeout: float = 60.0
) -> list[dict[str, Any]]:
    catalog = daemon.config.parent / "catalogs" / f"{EDIT_COOP}.yaml"
    text = catalog.read_text(encoding="utf-8")
    _, base = with_price(text, EDIT_SKU, 0)
    raised = base + max(100, round(base * 0.15 / 50) * 50)
    prices = markets.field(markets.read(), EDIT_COOP, EDIT_SKU, "price")
    if len(prices) != len(MARKETS):
        raise SystemExit(f"{EDIT_SKU} is not listed on every marketplace: {prices}")
    edits = []
    for i in range(count):
        new = raised if i % 2 == 0 else base
        before = prices
        text, _ = with_price(text, EDIT_SKU, new)
        catalog.write_text(text, encoding="utf-8")
        saved = time.time()
        deadline = saved + timeout
        seen: float | None = None
        polls = 0
        while time.time() < deadline:
            round_start = time.monotonic()
            prices = markets.field(markets.read(), EDIT_COOP, EDIT_SKU, "price")
            polls += 1
            if all(prices.get(m) != before[m] for m in MARKETS):
                seen = time.time()
                break
            time.sleep(max(0.0, POLL - (time.monotonic() - round_start)))
        edit: dict[str, Any] = {
            "i": i,
            "price_mad": new,
            "latency": None if seen is None else seen - saved,
            "polls": polls,
            "prices_before": before,
            "prices_after": prices,
        }
        if seen is not None:
            up = new > base
            edit["direction_ok"] = all(
                (Decimal(str(prices[m])) > Decimal(str(before[m]))) == up for m in MARKETS
            )
        edit |= edit_split(daemon, saved, seen)
        edits.append(edit)
        lat = "timeout" if seen is None else f"{seen - saved:5.2f} s"
        print(f"  edit {i + 1:2d}/{count}: {lat}", flush=True)
        time.sleep(rng.uniform(1.5, 3.0))
    return edits


def edit_split(daemon: Daemon, saved: float, seen: float | None) -> dict[str, Any]:
    """From the daemon's log: when the save was seen, when the pass that sent it ran (the
    first one to end after the save that sent something, or asked as a push)."""
    deadline = time.time() + 30 if seen is None else max(seen, time.time()) + 30
    done = None
    while done is None and time.time() < deadline:
        done = next(
            (
                line
                for line in daemon.after(saved, event="pass_done", cooperative=EDIT_COOP)
                if line.event.get("kind") == "push" or line.event.get("sent")
            ),
            None,
        )
        if done is None:
            time.sleep(0.05)
    if done is None:
        return {"split": None}
    saves = [
        line.at
        for line in daemon.after(saved, event="catalog_saved", cooperative=EDIT_COOP)
        if line.at <= done.at
    ]
    pushed = [
        line.at
        for line in daemon.after(saved, event="listing_confirmed", sku=EDIT_SKU)
        if line.at <= done.at
    ]
    start = done.at - float(done.event["seconds"])
    split = {
        "save_to_catalog_saved": saves[0] - saved if saves else None,
        "catalog_saved_to_pass_start": start - saves[0] if saves else None,
        "pass_kind": done.event.get("kind"),
        "pass_seconds": float(done.event["seconds"]),
        "save_to_last_listing_pushed": max(pushed) - saved if pushed else None,
        "save_to_pass_done": done.at - saved,
        "pass_done_to_seen": None if seen is None else seen - done.at,
        "catalog_saved_lines": len(saves),
        "sent": done.event.get("sent"),
    }
    return {"split": split}


def edits_phase(out: Path, count: int, idle_seconds: float, rng: random.Random) -> dict[str, Any]:
    """Default schedules and debounce: the idle cost first, then the edits."""
    config = config_copy(out / "edits", schedules="default")
    stopped: dict[str, Any] = {}
    with running(config, stopped) as daemon:
        url = sandbox_url(daemon)
        ready = daemon.ready()
        print(f"  first passes done after {ready:.1f} s; idle for {idle_seconds:g} s", flush=True)
        settle(SETTLE)
        idle = measure_idle(daemon, {"daemon": daemon.pid}, idle_seconds)
        markets = Markets(url, shops_of(config))
        try:
            edits = run_edits(daemon, markets, count, rng)
        finally:
            markets.close()
        after = proc_status(daemon.pid)
    idle["passes"] = store_passes(config, idle["window"])
    report_idle("defaults, sandbox in the daemon", idle)
    latencies = [e["latency"] for e in edits if e["latency"] is not None]
    splits = [e["split"] for e in edits if e.get("split")]
    split_summary = {
        name: summary([s[name] for s in splits if s.get(name) is not None])
        for name in (
            "save_to_catalog_saved",
            "catalog_saved_to_pass_start",
            "pass_seconds",
            "save_to_last_listing_pushed",
            "save_to_pass_done",
            "pass_done_to_seen",
        )
    }
    return {
        "config": str(config),
        "code_digest": daemon.code,
        "ready_seconds": ready,
        "idle": idle,
        "memory_after_edits": after,
        "edits": edits,
        "latency": summary(latencies),
        "timeouts": sum(1 for e in edits if e["latency"] is None),
        "wrong_direction": sum(1 for e in edits if e.get("direction_ok") is False),
        "split": split_summary,
        "stopped": stopped,
    }


# ------------------------------------------------------------------------------ idle
def report_idle(label: str, idle: Mapping[str, Any]) -> None:
    for name, p in idle["processes"].items():
        print(
            f"  idle, {label}: {name} {p['cpu_percent']:.2f} % CPU over "
            f"{p['wall_seconds']:.0f} s, RSS {p['rss_bytes_end'] / 2**20:.1f} MiB, "
            f"peak {p['hwm_bytes'] / 2**20:.1f} MiB, {p['threads']} threads"
            + (f"; {len(idle['passes'])} passes" if name == "daemon" else ""),
            flush=True,
        )


def idle_demo_phase(out: Path, seconds: float) -> dict[str, Any]:
    """config/demo.yaml's demo-pace schedules, the sandbox in the daemon."""
    config = config_copy(out / "idle-demo", schedules="demo")
    stopped: dict[str, Any] = {}
    with running(config, stopped) as daemon:
        sandbox_url(daemon)
        ready = daemon.ready()
        settle(SETTLE)
        idle = measure_idle(daemon, {"daemon": daemon.pid}, seconds)
    idle["passes"] = store_passes(config, idle["window"])
    report_idle("demo pace, sandbox in the daemon", idle)
    return {
        "config": str(config),
        "code_digest": daemon.code,
        "ready_seconds": ready,
        "idle": idle,
        "stopped": stopped,
    }


def idle_separate_phase(out: Path, seconds: float, schedules: str) -> dict[str, Any]:
    """The sandbox in a process of its own: the daemon's and the sandbox's costs apart."""
    folder = out / f"idle-separate-{schedules}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"sandbox-{schedules}.log").open("w", encoding="utf-8") as log:
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "syndicator", "sandbox", "--port", str(port),
             "--quota-factor", str(QUOTA_FACTOR)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/amazon/_sandbox/state", timeout=2).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or sandbox.poll() is not None:
                        raise SystemExit(f"the sandbox did not start; see {log.name}") from None
                    time.sleep(0.2)
            config = config_copy(folder, schedules=schedules, sandbox_url=base)
            stopped: dict[str, Any] = {}
            with running(config, stopped) as daemon:
                ready = daemon.ready()
                settle(SETTLE)
                idle = measure_idle(daemon, {"daemon": daemon.pid, "sandbox": sandbox.pid}, seconds)
                markets = Markets(base, shops_of(config))
                listed = {m: len(rows) for m, rows in markets.read().items()}
                markets.close()
        finally:
            sandbox.send_signal(signal.SIGTERM)
            try:
                sandbox.wait(timeout=15)
            except subprocess.TimeoutExpired:
                sandbox.kill()
                sandbox.wait(timeout=10)
    idle["passes"] = store_passes(config, idle["window"])
    report_idle(f"{schedules} schedules, sandbox apart", idle)
    return {
        "config": str(config),
        "code_digest": daemon.code,
        "ready_seconds": ready,
        "listings_on_the_sandbox": listed,
        "idle": idle,
        "stopped": stopped,
    }


def store_passes(config: Path, window: Sequence[float]) -> list[dict[str, Any]]:
    """The passes that ended within ``window`` (epoch seconds), from the store's ``passes``
    table (one row per channel of a pass): read once the daemon has stopped."""
    db = config.parent / "var" / "demo.db"
    rows: dict[str, dict[str, Any]] = {}
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        for run_id, coop, channel, kind, started, finished in conn.execute(
            "SELECT run_id, cooperative, channel, kind, started_at, finished_at FROM passes"
        ):
            end = datetime.fromisoformat(finished).replace(tzinfo=UTC).timestamp()
            if not window[0] <= end <= window[1]:
                continue
            begin = datetime.fromisoformat(started).replace(tzinfo=UTC).timestamp()
            row = rows.setdefault(
                run_id,
                {"cooperative": coop, "kind": kind, "channels": [], "seconds": end - begin},
            )
            row["channels"].append(channel)
    return sorted(rows.values(), key=lambda r: (r["cooperative"], r["seconds"]))


# ------------------------------------------------------------------------------ threads
def threads_phase(out: Path, seconds: float, profile: bool) -> dict[str, Any]:
    """The demo daemon (demo pace, sandbox inside) in a child process that measures its own
    threads: what each one costs idle, and each pass (see :func:`threads_stage`)."""
    folder = out / "threads"
    config = config_copy(folder, schedules="demo")
    args = [sys.executable, __file__, "--stage", "threads", "--config", str(config),
            "--idle", str(seconds)]  # fmt: skip
    if profile:
        args += ["--profile-to", str(out / "daemon_passes_profile.txt")]
    with (folder / "daemon.log").open("w", encoding="utf-8") as log:
        run = subprocess.run(
            args, cwd=folder, stdout=subprocess.PIPE, stderr=log, text=True, check=False
        )
    if run.returncode != 0:
        raise SystemExit(f"the threads stage failed; see {folder / 'daemon.log'}")
    result: dict[str, Any] = json.loads(run.stdout)
    result["code_digest"] = tree_digest()
    for row in result["threads"][:8]:
        print(f"  {row['cpu_percent']:5.2f} %  {row['name']}", flush=True)
    return result


def threads_stage(config_path: Path, seconds: float, profile_to: Path | None) -> int:
    """In this process: the daemon as ``syndicator run`` starts it; once its first passes
    are done, each thread's CPU over ``seconds`` (from /proc/self/task, named by
    ``threading``), and each pass's own CPU (``time.thread_time`` around ``run_pass``);
    with ``profile_to``, the passes under cProfile (which inflates their CPU)."""
    import cProfile
    import pstats

    from syndicator.common.logs import configure_logging
    from syndicator.config import load_config
    from syndicator.plugins import load_channel_types
    from syndicator.service import daemon as module

    config = load_config(config_path, load_channel_types())
    configure_logging(json=True, level="INFO", redact=config.secret_values())
    recording = threading.Event()
    passes: list[dict[str, Any]] = []
    profiles: dict[str, cProfile.Profile] = {}
    plain = module.Daemon.run_pass

    def run_pass(self: Any, cooperative: str, request: Any) -> Any:
        if not recording.is_set():
            return plain(self, cooperative, request)
        cpu, wall = time.thread_time(), time.monotonic()
        prof = None
        if profile_to is not None:
            prof = profiles.setdefault(threading.current_thread().name, cProfile.Profile())
            prof.enable()
        try:
            return plain(self, cooperative, request)
        finally:
            if prof is not None:
                prof.disable()
            passes.append(
                {
                    "cooperative": cooperative,
                    "kinds": sorted(request.kinds),
                    "cpu_seconds": time.thread_time() - cpu,
                    "seconds": time.monotonic() - wall,
                }
            )

    module.Daemon.run_pass = run_pass  # type: ignore[method-assign]
    daemon = module.Daemon(config)
    daemon.start()
    while len(daemon.last_pass) < len(config.cooperatives):
        time.sleep(0.2)
    settle(SETTLE)

    def tasks() -> dict[int, tuple[str, float]]:
        found = {}
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/self/task/{tid}/stat").read_text(encoding="ascii")
                comm = text[text.index("(") + 1 : text.rindex(")")]
                f = text[text.rindex(")") + 2 :].split()
                found[int(tid)] = (comm, (int(f[11]) + int(f[12])) / CLK_TCK)
        return found

    recording.set()
    before, start = tasks(), time.monotonic()
    time.sleep(seconds)
    after, wall = tasks(), time.monotonic() - start
    recording.clear()
    names = {t.native_id: t.name for t in threading.enumerate()}
    rows: list[dict[str, Any]] = []
    for tid, (comm, cpu) in after.items():
        used = cpu - before.get(tid, (comm, 0.0))[1]
        name = names.get(tid, f"({comm}, not a Python thread)")
        rows.append({"name": name, "cpu_seconds": used, "cpu_percent": 100 * used / wall})
    rows.sort(key=lambda r: -r["cpu_seconds"])
    daemon.stop()
    daemon.shutdown()
    if profile_to is not None and profiles:
        stats: pstats.Stats | None = None
        for prof in profiles.values():
            if stats is None:
                stats = pstats.Stats(prof)
            else:
                stats.add(prof)
        assert stats is not None
        with profile_to.open("w", encoding="utf-8") as f:
            stats.stream = f  # type: ignore[attr-defined]
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
    total = sum(r["cpu_seconds"] for r in rows)
    print(
        json.dumps(
            {
                "wall_seconds": wall,
                "cpu_percent": 100 * total / wall,
                "threads": rows,
                "passes": passes,
                "profile": None if profile_to is None else str(profile_to),
            }
        )
    )
    return 0


# ------------------------------------------------------------------------------ real quotas
def real_quota_phase(out: Path, count: int, drain: float, rng: random.Random) -> dict[str, Any]:
    """Orders every 10 s with the published quotas (sandbox ``quota_factor: 1``, which the
    connectors' own buckets follow): once Amazon's searchOrders burst is spent, edits."""
    config = config_copy(out / "real-quota", schedules={"orders": "10s"}, quota_factor=1.0)
    stopped: dict[str, Any] = {}
    with running(config, stopped) as daemon:
        url = sandbox_url(daemon)
        ready = daemon.ready(timeout=600)
        print(
            f"  first passes done after {ready:.0f} s; orders every 10 s for {drain:g} s",
            flush=True,
        )
        window_start = time.time()
        time.sleep(drain)
        markets = Markets(url, shops_of(config))
        try:
            edits = run_edits(daemon, markets, count, rng, timeout=600)
        finally:
            markets.close()
        window_end = time.time()
    passes = store_passes(config, [window_start, window_end])
    latencies = [e["latency"] for e in edits if e["latency"] is not None]
    return {
        "config": str(config),
        "code_digest": daemon.code,
        "ready_seconds": ready,
        "drain_seconds": drain,
        "edits": edits,
        "latency": summary(latencies),
        "timeouts": sum(1 for e in edits if e["latency"] is None),
        "passes": passes,
        "pass_seconds": summary([p["seconds"] for p in passes]),
        "stopped": stopped,
    }


# ------------------------------------------------------------------------------ sales
@dataclass
class Sale:
    coop: str
    sku: str
    market: str
    placed: float = 0.0  # epoch seconds, when the order's answer came
    before: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    seen: float | None = None
    own_dropped: bool | None = None
    after: dict[str, Any] = field(default_factory=dict)

    @property
    def latency(self) -> float | None:
        return None if self.seen is None else self.seen - self.placed


def pick_sales(
    markets: Markets,
    caps: Mapping[tuple[str, str], int | None],
    count: int,
    rng: random.Random,
) -> list[Sale]:
    """``count`` sales, each of its own SKU: listed once on each of the three shops of its
    cooperative, on sale, at least 2 everywhere, under the channel's max_quantity (else a
    sale would not show); placed on Etsy, Amazon and ANOU in turn, cooperatives in turn."""
    state = markets.read()
    coops = sorted({coop for coop, _ in markets.shops})
    candidates: dict[str, list[str]] = {}
    for coop in coops:
        skus = sorted({r["sku"] for r in markets.rows_of(state, coop)})
        good = []
        for sku in skus:
            q = markets.field(state, coop, sku, "quantity")
            if len(q) == len(MARKETS) and all(
                isinstance(q[m], int)
                and q[m] >= 2
                and (caps.get((coop, m)) is None or q[m] < int(caps[coop, m] or 0))
                for m in MARKETS
            ):
                good.append(sku)
        rng.shuffle(good)
        candidates[coop] = good
    order = ("etsy", "amazon", "anou")
    sales: list[Sale] = []
    for i in range(count):
        coop = coops[i % len(coops)]
        if not candidates[coop]:
            coop = next((c for c in coops if candidates[c]), "")
            if not coop:
                raise SystemExit(f"only {len(sales)} SKUs can be sold; ask for fewer sales")
        sales.append(Sale(coop, candidates[coop].pop(), order[i % len(order)]))
    return sales


def run_sales(
    daemon: Daemon, markets: Markets, sales: list[Sale], interval: float, rng: random.Random
) -> None:
    """Place the sales a fraction of the orders interval apart; poll until each shows."""
    timeout = 3 * interval + 60
    waiting = list(sales)
    outstanding: list[Sale] = []
    next_at = time.monotonic()
    while waiting or outstanding:
        round_start = time.monotonic()
        if waiting and round_start >= next_at:
            sale = waiting.pop(0)
            q = markets.field(markets.read(), sale.coop, sale.sku, "quantity")
            sale.before = dict(q)
            sale.expected = {m: q[m] - 1 for m in MARKETS if m != sale.market}
            markets.order(sale.coop, sale.market, sale.sku)
            sale.placed = time.time()
            outstanding.append(sale)
            next_at = round_start + interval * rng.uniform(0.37, 0.47)
        if outstanding:
            state = markets.read()
            now = time.time()
            for sale in list(outstanding):
                q = markets.field(state, sale.coop, sale.sku, "quantity")
                if sale.own_dropped is None and q.get(sale.market) == sale.before[sale.market] - 1:
                    sale.own_dropped = True
                if all(q.get(m) == v for m, v in sale.expected.items()):
                    sale.seen, sale.after = now, dict(q)
                elif now - sale.placed > timeout:
                    sale.after = dict(q)
                else:
                    continue
                outstanding.remove(sale)
                lat = "timeout" if sale.latency is None else f"{sale.latency:5.1f} s"
                print(
                    f"  sale {sales.index(sale) + 1:2d}/{len(sales)} "
                    f"({sale.coop}, {sale.sku} on {sale.market}): {lat}",
                    flush=True,
                )
        time.sleep(max(0.0, POLL - (time.monotonic() - round_start)))


def sale_split(daemon: Daemon, sale: Sale) -> dict[str, Any] | None:
    """The pass that carried the sale: the first of its cooperative that pulled an order
    line, started after the order and ended when (or after) the shops showed it."""
    if sale.seen is None:
        return None
    for line in daemon.after(sale.placed, event="pass_done", cooperative=sale.coop):
        start = line.at - float(line.event["seconds"])
        if start >= sale.placed and line.event.get("order_lines") and line.at >= sale.seen - 1:
            return {
                "wait_for_pass": start - sale.placed,
                "pass_seconds": float(line.event["seconds"]),
                "pass_kind": line.event.get("kind"),
                "order_lines": line.event.get("order_lines"),
                "sent": line.event.get("sent"),
            }
    return None


def sales_phase(out: Path, interval: int, count: int, rng: random.Random) -> dict[str, Any]:
    config = config_copy(out / f"sales-{interval}", schedules={"orders": f"{interval}s"})
    stopped: dict[str, Any] = {}
    with running(config, stopped) as daemon:
        url = sandbox_url(daemon)
        ready = daemon.ready()
        settle(3)
        markets = Markets(url, shops_of(config))
        try:
            sales = pick_sales(markets, caps_of(config), count, rng)
            run_sales(daemon, markets, sales, interval, rng)
        finally:
            markets.close()
    rows: list[dict[str, Any]] = []
    for sale in sales:
        rows.append(
            {
                "cooperative": sale.coop,
                "sku": sale.sku,
                "ordered_on": sale.market,
                "latency": sale.latency,
                "quantities_before": sale.before,
                "expected_elsewhere": sale.expected,
                "quantities_after": sale.after,
                "own_listing_dropped": sale.own_dropped,
                "split": sale_split(daemon, sale),
            }
        )
    latencies = [r["latency"] for r in rows if r["latency"] is not None]
    by_market = {
        m: summary(
            [r["latency"] for r in rows if r["ordered_on"] == m and r["latency"] is not None]
        )
        for m in MARKETS
    }
    splits = [r["split"] for r in rows if r["split"]]
    return {
        "config": str(config),
        "code_digest": daemon.code,
        "orders_every": interval,
        "ready_seconds": ready,
        "sales": rows,
        "latency": summary(latencies),
        "by_marketplace": by_market,
        "wait_for_pass": summary([s["wait_for_pass"] for s in splits]),
        "pass_seconds": summary([s["pass_seconds"] for s in splits]),
        "timeouts": sum(1 for r in rows if r["latency"] is None),
        "stopped": stopped,
    }


# ------------------------------------------------------------------------------ quotas
def order_quotas() -> dict[str, dict[str, Any]]:
    """The shortest orders interval each marketplace's published quota sustains, per shop
    (one API key or seller per shop), from connectors/limits.py: one call per pull when the
    changes fit one page."""
    from connectors.limits import QUOTAS

    out: dict[str, dict[str, Any]] = {}
    for market, operation, note in (
        ("amazon", "searchOrders", "one searchOrders call per pull (Orders 2026-01-01)"),
        ("amazon", "getOrders", "the v0 getOrders, for comparison"),
        ("etsy", "*", "one getShopReceipts per pull, from the key's shared bucket"),
        ("anou", "*", "one GET /orders per pull, from the key's shared bucket"),
    ):
        q = QUOTAS[market, operation]
        per_second = 1 / q.rate
        per_day = 86_400 / q.per_day if q.per_day else None
        floor = max(per_second, per_day or 0.0)
        row: dict[str, Any] = {
            "operation": operation,
            "rate_per_second": q.rate,
            "burst": q.burst,
            "per_day": q.per_day,
            "floor_seconds": floor,
            "note": note,
        }
        if per_day:
            row["floor_from_the_daily_limit"] = per_day
        # How long a 60 s or 10 s schedule can run on the burst before the bucket is empty.
        for every in (60, 10):
            drain = 1 / every - q.rate
            row[f"burst_lasts_at_{every}s"] = q.burst / drain if drain > 0 else None
        out[f"{market}/{operation}"] = row
    return out


# ------------------------------------------------------------------------------ main
def fmt(s: Mapping[str, float] | None, unit: str = "s") -> str:
    if not s:
        return "n/a"
    return (
        f"p50 {s['p50']:.2f} {unit}, p95 {s['p95']:.2f} {unit}, "
        f"min-max {s['min']:.2f}-{s['max']:.2f} {unit} (n={s['n']})"
    )


def goals(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    edits = result["phases"].get("edits")
    if edits and edits["latency"]:
        p95 = edits["latency"]["p95"]
        ok = p95 <= GOAL_EDIT_P95 and not edits["timeouts"]
        rows.append({"goal": "edit: p95 <= 5 s", "measured": p95, "met": ok})
        hwm = edits["memory_after_edits"]["VmHWM"]
        rows.append(
            {
                "goal": f"memory <= 150 MB after the {len(edits['edits'])} edits (VmHWM)",
                "measured": hwm,
                "met": hwm <= GOAL_MEMORY,
            }
        )
    sales = result["phases"].get("sales-60")
    if sales and sales["latency"]:
        worst = sales["latency"]["max"]
        ok = worst <= GOAL_SALE and not sales["timeouts"]
        rows.append({"goal": "sale, orders every 60 s: <= 62 s", "measured": worst, "met": ok})
    for name, phase in result["phases"].items():
        if "idle" not in phase:
            continue
        daemon = phase["idle"]["processes"]["daemon"]
        rows.append(
            {
                "goal": f"idle CPU <= 1 % ({name})",
                "measured": daemon["cpu_percent"],
                "met": daemon["cpu_percent"] <= GOAL_CPU,
            }
        )
        rows.append(
            {
                "goal": f"idle memory <= 150 MB ({name}; VmHWM)",
                "measured": daemon["hwm_bytes"],
                "met": daemon["hwm_bytes"] <= GOAL_MEMORY,
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (~6 min)")
    parser.add_argument("--edits", type=int, help="catalog edits (default 50; quick 10)")
    parser.add_argument("--sales", type=int, help="sales of each kind (default 10; quick 4)")
    parser.add_argument("--idle", type=float, help="idle window, s (default 60; quick 30)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="output dir")
    parser.add_argument("--seed", type=int, default=20261125, help="seed (pauses, SKUs)")
    parser.add_argument(
        "--only",
        action="append",
        choices=(
            "edits",
            "idle-demo",
            "idle-separate",
            "idle-separate-demo",
            "threads",
            "sales-60",
            "sales-10",
            "real-quota",
        ),
        help="run only this phase (repeatable); real-quota runs only when asked",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="the threads phase also profiles the passes (OUT/daemon/daemon_passes_profile.txt)",
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=240.0,
        help="real-quota: seconds of orders every 10 s before the edits (default 240)",
    )
    parser.add_argument("--stage", choices=("threads",), help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage == "threads":
        return threads_stage(args.config, args.idle or 60.0, args.profile_to)
    edits = args.edits if args.edits is not None else 10 if args.quick else 50
    sales = args.sales if args.sales is not None else 4 if args.quick else 10
    idle = args.idle if args.idle is not None else 30.0 if args.quick else 60.0
    out: Path = args.out.resolve()
    work = out / "daemon"
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    only = set(args.only or ())

    def wanted(name: str) -> bool:
        return name in only if only or name == "real-quota" else True

    command = list(argv if argv is not None else sys.argv[1:])
    tree = tree_digest()
    started = time.monotonic()
    result: dict[str, Any] = {
        "benchmark": "daemon: from a save or a sale to every shop; idle cost",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/bench_daemon.py", *command]),
        "machine": machine(),
        "code_digest_start": tree,
        "parameters": {
            "edits": edits,
            "sales": sales,
            "idle_seconds": idle,
            "seed": args.seed,
            "poll_seconds": POLL,
            "quick": args.quick,
        },
        "loadavg_1m_start": round(loadavg(), 2),
        "phases": {},
        "order_quotas": order_quotas(),
    }
    phases: dict[str, Any] = result["phases"]
    if wanted("edits"):
        print(f"edits: {edits} catalog edits, default settings ...", flush=True)
        phases["edits"] = edits_phase(work, edits, idle, rng)
        print(f"  edit latency: {fmt(phases['edits']['latency'])}", flush=True)
    if wanted("idle-demo"):
        print("idle, demo pace ...", flush=True)
        phases["idle-demo"] = idle_demo_phase(work, idle)
    for schedules, name in (("default", "idle-separate"), ("demo", "idle-separate-demo")):
        if wanted(name):
            print(
                f"idle, {schedules} schedules, the sandbox in a process of its own ...", flush=True
            )
            phases[name] = idle_separate_phase(work, idle, schedules)
    if wanted("threads"):
        print("idle, demo pace, each thread of the daemon measured from inside ...", flush=True)
        phases["threads"] = threads_phase(work, idle, args.profile)
    for interval in (60, 10):
        name = f"sales-{interval}"
        if wanted(name):
            print(f"{name}: {sales} sales, orders every {interval} s ...", flush=True)
            phases[name] = sales_phase(work, interval, sales, rng)
            print(f"  sale latency: {fmt(phases[name]['latency'])}", flush=True)
    if wanted("real-quota"):
        print("real-quota: orders every 10 s at the published quotas, then edits ...", flush=True)
        count = args.edits if args.edits is not None else 5
        phases["real-quota"] = real_quota_phase(work, count, args.drain, rng)
        print(f"  edit latency: {fmt(phases['real-quota']['latency'])}", flush=True)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["code_digest_end"] = tree_digest()
    result["loadavg_1m_end"] = round(loadavg(), 2)
    if result["code_digest_end"] != tree:
        result["warning"] = "syndicator/ or connectors/ changed during the run"
        print("WARNING: syndicator/ or connectors/ changed during the run", flush=True)
    result["goals"] = goals(result)
    path = out / "bench_daemon.json"
    path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print()
    for row in result["goals"]:
        value = row["measured"]
        shown = (
            f"{value / 1e6:.0f} MB ({value / 2**20:.1f} MiB)"
            if "memory" in row["goal"]
            else f"{value:.2f} %"
            if "CPU" in row["goal"]
            else f"{value:.2f} s"
        )
        print(f"  {row['goal']}: {shown} -> {'met' if row['met'] else 'NOT met'}")
    print(f"done in {result['seconds'] / 60:.1f} min; results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
