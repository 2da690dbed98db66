"""The measured work of ``bench_sync.py``: one sync pass, in a fresh interpreter each time.

Kept apart from ``bench_sync.py`` for the same reasons as ``plan_worker.py``: a measuring
process imports what it needs before its clock starts, and holds nothing else. The channels
keep their types, settings and credentials, but every channel type's connector is the
bench's recorder (``recording_connector.py``): the pass's own work is measured, not the
marketplaces'. Each mode prints one JSON object on stdout::

    python bench/sync_worker.py pass KIND CONFIG.yaml EXPECT.json
    python bench/sync_worker.py phases KIND CONFIG.yaml EXPECT.json
    python bench/sync_worker.py profile KIND CONFIG.yaml EXPECT.json STATS_FILE

``KIND`` says what the pass must find, and the worker fails (exit 1) when it does not:

- ``steady-first``: an unchanged catalog and store, no quiet mark yet: no write call, no
  channel quiet;
- ``steady-quiet``: the same after a pass that left quiet marks: no write call, every
  channel quiet (the catalog not read);
- ``changed``: the SKUs listed under ``changed_skus`` in EXPECT.json changed: on every
  channel, exactly those SKUs are pushed, each once;
- ``sold``: the catalog unchanged, one piece of each of those SKUs sold since the quiet
  pass (ledger lines in the store): no other SKU is pushed, none twice.

``seconds`` is the wall time of ``sync_once`` alone (``time.perf_counter`` around it; the
interpreter's start-up, imports, ``load_config`` and opening the store are left out and
reported apart as ``setup_seconds``). ``channel_seconds`` is the time spent inside the
recorder (the "channel calls"), and ``overhead_seconds`` the difference. Memory as in
``plan_worker.py``: ``maxrss_kib`` (getrusage) and ``vmhwm_kib`` (/proc/self/status).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from plan_worker import _code_digest, _peak_rss_kib, _vmhwm_kib

KINDS = ("steady-first", "steady-quiet", "changed", "sold")


def recording_types() -> Mapping[str, Any]:
    """The installed channel types, each with its connector replaced by the recorder (its
    settings model, credentials and rules kept, so the config is checked as usual)."""
    import recording_connector

    from syndicator.plugins import load_channel_types

    return {
        name: replace(ctype, connector=recording_connector.TARGET)
        for name, ctype in load_channel_types().items()
    }


def _set_credentials(config: Any) -> None:
    """Give every ``{env: NAME}`` credential of the config a dummy value: the recorder uses
    none, but the pass resolves them as it would for a real connector."""
    for coop in config.cooperatives:
        for ch in coop.channels:
            for ref in ch.credentials.values():
                if ref.env:
                    os.environ.setdefault(ref.env, "bench-not-a-secret")


def _open(config_path: str) -> tuple[Any, Any, float]:
    """Config (with the recorder's channel types) and store; the seconds they took."""
    from syndicator.config import load_config
    from syndicator.store import Store

    types = recording_types()
    start = time.perf_counter()
    config = load_config(Path(config_path), types)
    _set_credentials(config)
    store = Store(config.database_url)
    return config, store, time.perf_counter() - start


def _check(kind: str, expect: dict[str, Any], report: Any) -> dict[str, Any]:
    """What the pass sent, by channel; SystemExit when it is not what ``kind`` calls for."""
    import recording_connector as rec

    problems: list[str] = []
    if not report.ok or report.unreadable:
        problems.append(f"the pass did not end ok: unreadable {report.unreadable}")
    channels = {run.channel: run for run in report.channels}
    pushed: dict[str, dict[str, Any]] = {}
    for ch, run in channels.items():
        changes = rec.PUSHED.get(ch, [])
        skus = [c.sku for c in changes]
        pushed[ch] = {
            "changes": len(changes),
            "actions": dict(Counter(str(c.action) for c in changes)),
            "done": dict(run.done),
            "failed": dict(run.failed),
            "quiet": run.quiet,
            "stopped": run.stopped,
        }
        if run.failed or run.stopped:
            problems.append(f"{ch}: failed {dict(run.failed)}, stopped {run.stopped}")
        if kind == "changed":
            want = set(expect["changed_skus"])
            if set(skus) != want or len(skus) != len(want):
                extra = sorted(set(skus) - want)[:5]
                missing = sorted(want - set(skus))[:5]
                problems.append(
                    f"{ch}: pushed {len(skus)} change(s) for {len(set(skus))} SKU(s), expected "
                    f"exactly the {len(want)} changed; extra {extra}, missing {missing}"
                )
            if run.quiet:
                problems.append(f"{ch}: quiet, though its catalog changed")
        elif kind == "sold":
            sold = set(expect["changed_skus"])
            if not set(skus) <= sold or len(skus) != len(set(skus)):
                extra = sorted(set(skus) - sold)[:5]
                problems.append(f"{ch}: pushed SKUs not sold, or twice: {extra}, {len(skus)}")
            if run.quiet:
                problems.append(f"{ch}: quiet, though SKUs were sold")
        elif kind == "steady-quiet" and not run.quiet:
            problems.append(f"{ch}: not quiet (the pass planned it)")
        elif kind == "steady-first" and run.quiet:
            problems.append(f"{ch}: quiet already (the store had a quiet mark)")
    writes = rec.CALLS.get("push", 0)
    if kind in ("steady-first", "steady-quiet") and writes:
        problems.append(f"{writes} write call(s) on a steady catalog: {pushed}")
    if len(channels) != int(expect["channels"]):
        problems.append(f"{len(channels)} channel(s) in the report, not {expect['channels']}")
    if problems:
        raise SystemExit(f"{kind}: " + "; ".join(problems))
    return {
        "write_calls": writes,
        "changes_sent": sum(len(v) for v in rec.PUSHED.values()),
        "calls": dict(rec.CALLS),
        "channels": pushed,
    }


def one_pass(
    kind: str, config_path: str, expect_path: str, stats_file: str | None = None
) -> dict[str, Any]:
    """One ``sync_once`` over the config's cooperative, as ``syndicator sync --once`` runs
    it (no read-back, no reviews). With ``stats_file``, under cProfile (its time inflated)."""
    import cProfile

    import recording_connector as rec

    from syndicator.sync.reconcile import sync_once

    expect = json.loads(Path(expect_path).read_text(encoding="utf-8"))
    config, store, setup = _open(config_path)
    rec.reset()
    profiler = cProfile.Profile() if stats_file else None
    try:
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = sync_once(config, store, readback=False, reviews=False)
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - start
    finally:
        store.close()
    if profiler is not None and stats_file:
        profiler.dump_stats(stats_file)
    channel_seconds = sum(rec.SECONDS.values())
    return {
        "kind": kind,
        "seconds": seconds,
        "channel_seconds": channel_seconds,
        "overhead_seconds": seconds - channel_seconds,
        "setup_seconds": setup,
        **_check(kind, expect, report),
        "maxrss_kib": _peak_rss_kib(),
        "vmhwm_kib": _vmhwm_kib(),
        "code": _code_digest(),
    }


# ------------------------------------------------------------------------------ phases
class _Timers:
    """Wall time and calls of functions wrapped in this process (nothing changes on disk);
    two clock reads per call."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        fn: Callable[..., Any] = getattr(owner, attr)
        self.seconds.setdefault(label, 0.0)
        self.calls.setdefault(label, 0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        setattr(owner, attr, timed)


def phases(kind: str, config_path: str, expect_path: str) -> dict[str, Any]:
    """One pass with a timer on each of its steps (labels: ``pass:`` the pass's own steps,
    ``plan:`` inside make_plan, ``store:`` store calls inside the steps above)."""
    import recording_connector as rec
    from gc_clock import GcClock

    import syndicator.planning.marks as marks_module
    import syndicator.planning.plan as plan_module
    import syndicator.planning.selector as selector_module
    import syndicator.planning.sources as sources_module
    import syndicator.sync.reconcile as sync_module
    from syndicator.catalog.loader import CatalogRows
    from syndicator.planning.projection import Projector

    timers = _Timers()
    p = sync_module._Pass
    for owner, attr, label in (
        (p, "pull_orders", "pass: orders pull (connectors opened here)"),
        (sync_module, "open_connector", "  pass: open_connector"),
        (sync_module, "record_orders", "  store: record_orders"),
        (sync_module, "make_plan", "pass: make_plan (all)"),
        (selector_module.Selector, "start", "  plan: quiet check, basis check (all)"),
        (selector_module, "digest_of", "    plan: digest of the catalog file"),
        (selector_module, "cooperative_part", "    store: marks.cooperative_part"),
        (selector_module, "listing_part", "    store: marks.listing_part"),
        (selector_module, "load_basis", "    store: load_basis"),
        (sources_module, "scan_catalog", "  plan: scan_catalog (against the basis)"),
        (selector_module, "split_known", "  plan: split_known"),
        (sources_module, "read_catalog", "  plan: read_catalog"),
        (selector_module, "ledger_sums", "  plan: ledger_sums"),
        (selector_module, "confirmed_unit_keys", "  plan: confirmed_unit_keys"),
        (selector_module, "stock_count_values", "  plan: stock_count_values"),
        (selector_module, "split_unchanged", "  plan: split_unchanged"),
        (CatalogRows, "build", "  plan: build the changed products (rules)"),
        (plan_module, "load_stock_counts", "  plan: load_stock_counts"),
        (plan_module, "stock_views", "  plan: stock_views"),
        (plan_module, "load_listings", "  plan: load_listings"),
        (plan_module, "listed_count", "  plan: listed_count"),
        (plan_module, "listed_skus", "  plan: listed_skus"),
        (Projector, "project", "  plan: Projector.project"),
        (plan_module, "plan_channel", "  plan: plan_channel"),
        (sync_module, "record_plan", "pass: record_plan (stock counts, oversells)"),
        (p, "execute", "pass: execute (all, channel calls included)"),
        (sync_module, "listed_count", "  store: listed_count"),
        (sync_module, "load_listings", "  store: load_listings"),
        (sync_module, "listing_attempts", "  store: listing_attempts"),
        (sync_module, "mark_pending", "  store: mark_pending"),
        (sync_module, "mark_unsure", "  store: mark_unsure"),
        (p, "_save", "  pass: _save (outcomes, listing states, journal)"),
        (sync_module, "save_listings", "    store: save_listings"),
        (sync_module, "reset_attempts", "    store: reset_attempts"),
        (sync_module, "write_journal", "    store: write_journal"),
        (sync_module, "resolve_alerts", "pass: resolve_alerts"),
        (p, "mark", "pass: mark (quiet marks, basis, basis marks)"),
        (marks_module, "save_basis", "  store: save_basis"),
        (p, "record", "pass: record (passes rows)"),
    ):
        timers.wrap(owner, attr, label)

    with GcClock() as gc_clock:
        result = one_pass(kind, config_path, expect_path)
    result["steps"] = {
        label: {"seconds": timers.seconds[label], "calls": timers.calls[label]}
        for label in timers.seconds
        if timers.calls[label]
    }
    result["recorder"] = {
        method: {"seconds": rec.SECONDS[method], "calls": rec.CALLS[method]}
        for method in rec.SECONDS
    }
    result["gc_seconds"] = gc_clock.seconds
    return result


def main(argv: list[str]) -> int:
    """Dispatch on the mode; print the result as one JSON line."""
    if len(argv) >= 4 and argv[1] not in KINDS:
        print(f"KIND is one of {', '.join(KINDS)}", file=sys.stderr)
        return 2
    if len(argv) == 4 and argv[0] == "pass":
        result = one_pass(argv[1], argv[2], argv[3])
    elif len(argv) == 4 and argv[0] == "phases":
        result = phases(argv[1], argv[2], argv[3])
    elif len(argv) == 5 and argv[0] == "profile":
        result = one_pass(argv[1], argv[2], argv[3], argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
