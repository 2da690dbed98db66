"""The measured work of ``bench_plan.py``, run in a fresh interpreter for each measurement.

Kept apart from ``bench_plan.py`` so that a measuring process imports nothing it does not
need: the baseline imports only :mod:`csv`, and the full job imports Syndicator *before* its
clock starts. Each mode prints one JSON object on stdout::

    python bench/plan_worker.py baseline CATALOG.csv
    python bench/plan_worker.py plan CONFIG.yaml EXPECTED_CHANGED_OPS
    python bench/plan_worker.py profile CONFIG.yaml EXPECTED_CHANGED_OPS STATS_FILE
    python bench/plan_worker.py phases CONFIG.yaml EXPECTED_CHANGED_OPS

``seconds`` is the wall time of the work alone (``time.perf_counter`` around it: interpreter
start-up and imports are left out); ``maxrss_kib`` is the peak resident memory of the whole
process, read with ``getrusage(RUSAGE_SELF)`` at its end (KiB on Linux); ``vmhwm_kib`` is
VmHWM from /proc/self/status, the same peak counting only this process's own memory (Linux
carries a parent's ru_maxrss over into its children).
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from typing import Any


def _peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _vmhwm_kib() -> int | None:
    """This process's own peak RSS since exec (Linux); ru_maxrss also counts the parent's."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _code_digest() -> str:
    """A digest of the Syndicator and connector modules this process ran (the measured code)."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(sys.modules):
        file = getattr(sys.modules[name], "__file__", None)
        if name.split(".")[0] in ("syndicator", "connectors") and file:
            digest.update(name.encode())
            with open(file, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:16]


def baseline(path: str) -> dict[str, Any]:
    """Read every row of the CSV with the standard library and count them; nothing else."""
    start = time.perf_counter()
    rows = 0
    with open(path, newline="", encoding="utf-8-sig") as f:
        for _row in csv.reader(f, delimiter=";"):
            rows += 1
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": rows,
        "maxrss_kib": _peak_rss_kib(),
        "vmhwm_kib": _vmhwm_kib(),
        "code": _code_digest(),
    }


def full(config_path: str, expected: int, stats_file: str | None = None) -> dict[str, Any]:
    """Load the config, open the store and plan every channel, as ``syndicator plan`` does.

    With ``stats_file`` the work runs under cProfile and the stats are dumped there (the
    time measured is then inflated by the profiler and is not a result).
    """
    import cProfile
    from datetime import UTC, datetime
    from pathlib import Path

    from syndicator.config import load_config
    from syndicator.planning.operations import Action
    from syndicator.planning.plan import make_plan
    from syndicator.plugins import load_channel_types
    from syndicator.store import Store

    def work() -> tuple[int, int]:
        config = load_config(Path(config_path), load_channel_types())
        store = Store(config.database_url)
        try:
            report = make_plan(config, store, today=datetime.now(UTC).date())
        finally:
            store.close()
        ops = changed = 0
        for op in report.ops():
            ops += 1
            changed += op.action is not Action.UNCHANGED
        return ops, changed

    profiler = cProfile.Profile() if stats_file else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    ops, changed = work()
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - start
    if profiler is not None and stats_file:
        profiler.dump_stats(stats_file)
    if changed != expected:
        raise SystemExit(f"expected {expected} changed op(s), the plan has {changed}")
    return {
        "seconds": seconds,
        "ops": ops,
        "changed": changed,
        "maxrss_kib": _peak_rss_kib(),
        "vmhwm_kib": _vmhwm_kib(),
        "code": _code_digest(),
    }


def phases(config_path: str, expected: int) -> dict[str, Any]:
    """The full job once, with a timer on each of its steps and on the garbage collector.

    The steps are timed by wrapping the functions ``make_plan`` calls (in this process only;
    nothing is changed on disk), which costs two clock reads per call. ``rss_mib`` is the
    resident memory right after each step (VmRSS), to show what holds the memory.
    """
    import gc
    from collections.abc import Callable
    from datetime import UTC, datetime
    from pathlib import Path

    from gc_clock import GcClock

    import syndicator.catalog.loader as loader_module
    import syndicator.planning.plan as plan_module
    import syndicator.planning.selector as selector_module
    import syndicator.planning.sources as sources_module
    from syndicator.catalog.rules import CatalogBuilder
    from syndicator.config import load_config
    from syndicator.planning.operations import Action
    from syndicator.planning.projection import Projector
    from syndicator.plugins import load_channel_types
    from syndicator.store import Store

    seconds: dict[str, float] = {}
    calls: dict[str, int] = {}
    rss: list[tuple[str, float]] = []

    def rss_now(label: str) -> None:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss.append((label, int(line.split()[1]) / 1024))

    def timed(name: str, fn: Callable[..., Any], snapshot: bool = False) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
                calls[name] = calls.get(name, 0) + 1
                if snapshot:
                    rss_now(f"after {name} #{calls[name]}")

        return wrapper

    loader_module.read_csv_rows = timed("read_catalog: read_csv_rows", loader_module.read_csv_rows)
    build = timed("CatalogBuilder.build", CatalogBuilder.build)
    CatalogBuilder.build = build  # type: ignore[method-assign]
    s = selector_module
    read = sources_module.read_catalog
    sources_module.read_catalog = timed("read_catalog (all)", read, True)  # type: ignore[assignment]
    s.split_unchanged = timed("split_unchanged", s.split_unchanged)
    s.confirmed_unit_keys = timed("confirmed_unit_keys", s.confirmed_unit_keys)
    s.stock_count_values = timed("stock_count_values", s.stock_count_values)
    plan_module.load_stock_counts = timed("load_stock_counts", plan_module.load_stock_counts)
    s.ledger_sums = timed("ledger_sums", s.ledger_sums)
    plan_module.stock_views = timed("stock_views", plan_module.stock_views)
    Projector.project = timed("Projector.project", Projector.project)  # type: ignore[method-assign]
    plan_module.load_listings = timed("load_listings", plan_module.load_listings)
    plan_module.plan_channel = timed("plan_channel", plan_module.plan_channel, True)

    before = [s["collections"] for s in gc.get_stats()]
    start = time.perf_counter()
    with GcClock() as gc_clock:
        config = timed(
            "load_config", lambda: load_config(Path(config_path), load_channel_types())
        )()
        store = timed("Store (open, migrations check)", Store)(config.database_url)
        try:
            report = timed("make_plan (all)", plan_module.make_plan)(
                config, store, today=datetime.now(UTC).date()
            )
        finally:
            store.close()
        changed = sum(op.action is not Action.UNCHANGED for op in report.ops())
        total = time.perf_counter() - start
    collections = [s["collections"] - b for s, b in zip(gc.get_stats(), before, strict=True)]
    if changed != expected:
        raise SystemExit(f"expected {expected} changed op(s), the plan has {changed}")
    result = {
        "seconds": total,
        "steps": {k: {"seconds": v, "calls": calls[k]} for k, v in seconds.items()},
        "gc_seconds": gc_clock.seconds,
        "gc_collections_by_generation": collections,
        "rss_mib": rss,
        "maxrss_kib": _peak_rss_kib(),
        "vmhwm_kib": _vmhwm_kib(),
        "code": _code_digest(),
    }
    result["gc_objects_tracked_at_end"] = len(gc.get_objects())
    return result


def main(argv: list[str]) -> int:
    """Dispatch on the mode; print the result as one JSON line."""
    if len(argv) == 2 and argv[0] == "baseline":
        result = baseline(argv[1])
    elif len(argv) == 3 and argv[0] == "plan":
        result = full(argv[1], int(argv[2]))
    elif len(argv) == 3 and argv[0] == "phases":
        result = phases(argv[1], int(argv[2]))
    elif len(argv) == 4 and argv[0] == "profile":
        result = full(argv[1], int(argv[2]), argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
