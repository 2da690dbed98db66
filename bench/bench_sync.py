"""Benchmark: one sync pass over a 100,000-SKU catalog: steady, 100 changed or 100 sold SKUs.

The goals (issue 5, "Performance"): a steady catalog of 100,000 SKUs with no change makes
**zero write calls** in a pass; with **100 changed SKUs exactly those are sent**; the pass's
own overhead (all but the channel calls) for 100,000 SKUs is **at most 2 s**.

**The marketplaces are replaced by a recorder.** Every channel keeps its type, settings and
credentials (the config is the demo-shaped one ``bench_plan.py`` writes), but its connector is
``recording_connector.RecordingConnector``: ``push`` records each change and confirms it at
once, ``pull_orders`` gives one empty page, there are no quota rules. The goal leaves the
channel calls out, and a real connector, even against the local sandbox, would spend most of
the pass in HTTP and in the sandbox itself, which is measured elsewhere. The recorder times
itself, so the overhead is the pass's wall time less the time spent inside it (~0).

Steps, all from the repository root::

    .venv/bin/python bench/bench_sync.py [--skus 100000] [--changed 100] [--runs 5]
                                         [--out bench/out] [--seed 20261125] [--profile]
                                         [--fresh]

1. **Catalog, config and store**, with ``bench_plan.py``'s own code: the seeded catalog, the
   config with channels amazon, etsy and anou, and a store in which every SKU is confirmed
   on every channel (``bench_plan.py --stage prepare``, in a process of its own). At 100,000
   SKUs this takes a minute or two, so it is kept in ``OUT/sync-cache/skus<N>-seed<S>/`` and
   used again by later runs with the same parameters (``--fresh`` makes it again). Each
   session first checks with a plan that the kept store still finds nothing to do (a change
   of Syndicator's version changes every input key); it is made again when not.
2. **The changed catalog**: the same file with the price of ``--changed`` products changed
   (rugs without variants, without an ``etsy_price``, in stock, spread over the file), and
   nothing else. Those SKUs are the ones every channel must be sent.
3. **The quiet store**: one steady pass on a copy of the prepared store leaves a quiet mark
   on every channel (syndicator/planning/marks.py) and a basis
   (syndicator/planning/basis.py); that store is kept for the quiet, changed and sold runs.
4. **Measure**, ``--runs`` times, each pass in a fresh process (``sync_worker.py``) and on a
   fresh copy of its starting store:

   - ``steady-first``: unchanged catalog, prepared store (no quiet mark): the full
     incremental plan; must make no write call;
   - ``steady-quiet``: unchanged catalog, quiet store: the catalog is not read; must make no
     write call and find every channel quiet;
   - ``changed``: changed catalog, quiet store (where a daemon is when the file is edited):
     every channel must be sent exactly the changed SKUs, each once;
   - ``sold``: unchanged catalog, quiet store with one piece of each of the same SKUs sold
     on Etsy (the ledger lines an orders pull writes): only sold SKUs may be sent.

   Medians and min-max of the pass's wall time (``sync_once`` alone), of the time inside the
   recorder and of the overhead (the difference); write calls; peak memory; the machine's
   load average (1 min) just before each pass, since the machine is shared.
5. One more pass of each kind with a timer on each step (``phases``), and with ``--profile``
   one of ``steady-first``, ``changed`` and ``sold`` under cProfile
   (``OUT/sync_profile_<kind>.txt``).

Results go to ``OUT/bench_sync.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
import pstats
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_plan import (
    CHANNELS,
    REPO,
    _counts,
    _own_peak_kib,
    _plan,
    _stage,
    fr_amount,
    machine,
    run_process,
    summary,
    tree_digest,
    write_catalog,
    write_config,
)

WORKER = Path(__file__).resolve().with_name("sync_worker.py")
GOAL_OVERHEAD_SECONDS = 2.0
KINDS = ("steady-first", "steady-quiet", "changed", "sold")
CACHE_VERSION = 5  # bump when what the cache holds changes (5: basis marks)


# ------------------------------------------------------------------------------ the changed catalog
def _fr_to_decimal(text: str) -> Decimal:
    """``4 305,50`` -> 4305.50 (as bench_plan.fr_amount writes it)."""
    return Decimal(text.replace(" ", "").replace(",", "."))


def write_changed_catalog(src: Path, dst: Path, n: int) -> list[str]:
    """Copy ``src`` to ``dst`` with the price of ``n`` products changed (x 1.25 + 100 MAD), and
    nothing else; return their SKUs. The products are rugs without variants and without an
    ``etsy_price``, in stock, evenly spread over the file: each channel must reprice them all
    (a fixed Etsy price would hide the change on Etsy). Streams, so this process stays small."""
    with src.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        col = {name: i for i, name in enumerate(next(reader))}
        eligible = [
            row[col["sku"]]
            for row in reader
            if row[col["category"]] == "rugs"
            and not row[col["parent_sku"]]
            and row[col["stock"]] not in ("", "0")
            and not row[col["etsy_price"]]
        ]
    if len(eligible) < n:
        raise SystemExit(f"only {len(eligible)} products qualify for a change; use more --skus")
    step = len(eligible) / n
    chosen = {eligible[int(i * step + step / 2)] for i in range(n)}
    changed = 0
    with (
        src.open(encoding="utf-8-sig", newline="") as f,
        dst.open("w", encoding="utf-8-sig", newline="") as g,
    ):
        writer = csv.writer(g, delimiter=";", lineterminator="\r\n")
        price = col["price"]
        for row in csv.reader(f, delimiter=";"):
            if row[0] in chosen:
                row[price] = fr_amount(_fr_to_decimal(row[price]) * Decimal("1.25") + 100)
                changed += 1
            writer.writerow(row)
    if changed != n:
        raise SystemExit(f"changed {changed} rows, expected {n}")
    return sorted(chosen)


# ------------------------------------------------------------------------------ the cache
def record_sales(db: Path, skus: Sequence[str]) -> None:
    """One sale of one piece of each SKU, on Etsy, in the store ``db``: the ledger lines an
    orders pull at the start of the pass would write (stdlib sqlite3, as the store writes
    them: times as naive UTC text)."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO stock_ledger (cooperative, sku, channel, order_id, line_id, kind, "
            "quantity, delta, occurred_at, recorded_at) VALUES (?, ?, 'etsy', ?, '1', 'sale', "
            "1, -1, ?, ?)",
            [("bench-coop", sku, f"bench-{i}", now, now) for i, sku in enumerate(skus)],
        )


def _copy_store(src_dir: Path, src_name: str, dst_dir: Path) -> None:
    """The SQLite store ``src_dir/src_name`` (and its WAL, if any) as ``dst_dir/state.db``."""
    for suffix in ("", "-wal", "-shm"):
        (dst_dir / f"state.db{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal"):
        src = src_dir / f"{src_name}{suffix}"
        if src.exists():
            shutil.copyfile(src, dst_dir / f"state.db{suffix}")


def _link(src: Path, dst: Path) -> None:
    """A hard link (same bytes, same mtime, same folder for the config's relative paths)."""
    dst.unlink(missing_ok=True)
    try:
        dst.hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)


def verify_store(cache: Path) -> dict[str, int]:
    """Stage, in its own process: plan the steady catalog against the kept store; the counts
    of actions (all "unchanged" when the store is still good)."""
    return _counts(_plan(cache / "config.yaml"))


def prepare(cache: Path, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Make the catalog, config and confirmed store in ``cache`` with bench_plan's code."""
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    print(f"writing a {args.skus:,}-SKU catalog to {cache} ...", flush=True)
    start = time.perf_counter()
    facts = write_catalog(cache / "catalog.csv", args.skus, args.seed)
    write_config(cache, cache / "catalog.csv", facts.bytes)
    print(
        f"  {facts.rows:,} rows, {facts.products:,} products, {facts.bytes / 2**20:.1f} MiB, "
        f"in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    print("bringing the store to 'everything confirmed' (bench_plan.py --stage prepare) ...")
    start = time.perf_counter()
    setup = _stage(["--stage", "prepare", "--out", str(cache), "--skus", str(args.skus)], scratch)
    setup["prepare_seconds"] = time.perf_counter() - start
    print(
        f"  first plan {setup['first_plan_seconds']:.1f} s, state saved in "
        f"{setup['save_state_seconds']:.1f} s; {setup['prepare_seconds']:.0f} s in all",
        flush=True,
    )
    info = {
        "cache_version": CACHE_VERSION,
        "skus": args.skus,
        "seed": args.seed,
        "catalog": {
            "rows": facts.rows,
            "products": facts.products,
            "products_with_variants": facts.products_with_variants,
            "bytes": facts.bytes,
        },
        "setup": setup,
        "prepared_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "prepared_with_tree": tree_digest(),
    }
    (cache / "ready.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def cached(cache: Path, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """The kept catalog, config and store when they fit ``args`` and the store still plans
    nothing; made again otherwise."""
    ready = cache / "ready.json"
    if not args.fresh and ready.exists() and (cache / "state.db").exists():
        info: dict[str, Any] = json.loads(ready.read_text(encoding="utf-8"))
        if info.get("cache_version") == CACHE_VERSION and (info["skus"], info["seed"]) == (
            args.skus,
            args.seed,
        ):
            print(f"checking the kept store in {cache} (prepared {info['prepared_at']}) ...")
            counts = _stage_self(["--stage", "verify", "--cache", str(cache)], scratch)
            if set(counts) == {"unchanged"}:
                print(f"  still good: {counts}", flush=True)
                info["reused"] = True
                return info
            print(f"  out of date ({counts}): making it again", flush=True)
    info = prepare(cache, args, scratch)
    info["reused"] = False
    return info


def _stage_self(args: Sequence[str], scratch: Path) -> Any:
    run = run_process([sys.executable, str(Path(__file__).resolve()), *args], scratch)
    if run.returncode != 0:
        raise SystemExit(f"setup step {args[1]} failed ({run.returncode}):\n{run.stderr}")
    return json.loads(run.stdout)


# ------------------------------------------------------------------------------ measuring
class Runs:
    """Where each pass runs: a folder per kind with the config and catalog linked in, and a
    fresh copy of its starting store each time."""

    def __init__(self, out: Path, cache: Path, changed_catalog: Path, scratch: Path) -> None:
        self.root = out / "sync-runs"
        self.cache = cache
        self.scratch = scratch
        self.catalogs = {
            "steady-first": cache / "catalog.csv",
            "steady-quiet": cache / "catalog.csv",
            "changed": changed_catalog,
            "sold": cache / "catalog.csv",
        }
        # The changed pass starts where a daemon is when the file changes: quiet marks set.
        self.stores = {
            "steady-first": "state.db",
            "steady-quiet": "state-quiet.db",
            "changed": "state-quiet.db",
            "sold": "state-quiet.db",  # with a sale of each of ``sold`` (record_sales)
        }
        self.sold: list[str] = []
        self.load = float("nan")

    def folder(self, kind: str) -> Path:
        run = self.root / kind
        run.mkdir(parents=True, exist_ok=True)
        _link(self.cache / "config.yaml", run / "config.yaml")
        _link(self.catalogs[kind], run / "catalog.csv")
        _copy_store(self.cache, self.stores[kind], run)
        if kind == "sold":
            record_sales(run / "state.db", self.sold)
        return run

    def worker(self, mode: str, kind: str, *extra: str) -> tuple[float, dict[str, Any]]:
        """One pass of ``kind`` in a fresh process: its wall time (whole process), its result."""
        run = self.folder(kind)
        expect = self.cache / f"expect-{kind}.json"
        cmd = [sys.executable, str(WORKER), mode, kind, str(run / "config.yaml"), str(expect)]
        self.load = loadavg()
        proc = run_process([*cmd, *extra], self.scratch)
        if proc.returncode != 0:
            raise SystemExit(f"{mode} {kind} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(proc.stdout)
        return proc.wall_seconds, result

    def keep_quiet_store(self) -> None:
        """The store the last steady-first pass left (quiet marks set), for the quiet runs."""
        for suffix in ("", "-wal"):
            src = self.root / "steady-first" / f"state.db{suffix}"
            dst = self.cache / f"state-quiet.db{suffix}"
            dst.unlink(missing_ok=True)
            if src.exists():
                shutil.copyfile(src, dst)


def loadavg() -> float:
    """The machine's load average over the last minute (other work competing for the CPU)."""
    try:
        return float(Path("/proc/loadavg").read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


SERIES = ("seconds", "channel_seconds", "overhead_seconds", "process_seconds", "setup_seconds")


def measure(runs: Runs, n: int, codes: list[str]) -> dict[str, dict[str, list[Any]]]:
    """``n`` passes of each kind, interleaved, each in a fresh process on a fresh store."""
    series: dict[str, dict[str, list[Any]]] = {
        kind: {name: [] for name in (*SERIES, "write_calls", "changes_sent", "maxrss_kib",
                                     "vmhwm_kib", "loadavg_1m")}
        for kind in KINDS
    }  # fmt: skip
    for i in range(n):
        line = []
        for kind in KINDS:
            wall, result = runs.worker("pass", kind)
            s = series[kind]
            for name in SERIES:
                s[name].append(wall if name == "process_seconds" else result[name])
            for name in ("write_calls", "changes_sent", "maxrss_kib", "vmhwm_kib"):
                s[name].append(result[name])
            s["loadavg_1m"].append(runs.load)
            codes.append(result["code"])
            line.append(f"{kind} {result['seconds']:.3f} s ({result['write_calls']} writes)")
        print(f"  run {i + 1}/{n}: " + ", ".join(line) + f"; load {runs.load}", flush=True)
    return series


def profile(runs: Runs, kind: str, out: Path) -> str:
    """One pass of ``kind`` under cProfile; top 30 by cumulative and by own time, as text."""
    stats_file = out / f"sync_profile_{kind}.pstats"
    runs.worker("profile", kind, str(stats_file))
    report = out / f"sync_profile_{kind}.txt"
    with report.open("w", encoding="utf-8") as f:
        stats = pstats.Stats(str(stats_file), stream=f)
        stats.strip_dirs().sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
    return report.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ report
def _table(series: dict[str, dict[str, list[Any]]], n: int) -> str:
    def secs(values: list[float]) -> str:
        s = summary(values)
        return f"{s['median']:8.3f} s {s['min']:7.3f} – {s['max']:7.3f}"

    lines = [
        f"{'pass (' + str(n) + ' runs)':<14}{'sync_once: median':>19} {'min – max':>15}"
        f"{'overhead':>11}{'in recorder':>13}{'process':>10}{'writes':>8}{'sent':>6}"
        f"{'VmHWM':>11}{'load':>6}"
    ]
    for kind in KINDS:
        s = series[kind]
        lines.append(
            f"{kind:<14}{secs(s['seconds']):>35}"
            f"{statistics.median(s['overhead_seconds']):9.3f} s"
            f"{statistics.median(s['channel_seconds']) * 1000:9.2f} ms"
            f"{statistics.median(s['process_seconds']):8.2f} s"
            f"{max(s['write_calls']):8d}{max(s['changes_sent']):6d}"
            f"{max(s['vmhwm_kib']) / 1024:7.0f} MiB"
            f"{statistics.median(s['loadavg_1m']):6.1f}"
        )
    return "\n".join(lines)


def steps_text(kind: str, result: dict[str, Any]) -> str:
    total = result["seconds"]
    lines = [
        f"{kind}: one pass timed step by step, {total:.3f} s in all "
        f"(load average {result['loadavg_1m']} before it)"
    ]
    for label, step in result["steps"].items():
        lines.append(
            f"  {label:<58}{step['seconds']:8.3f} s {100 * step['seconds'] / total:5.1f} %"
            f"  ({step['calls']} call(s))"
        )
    for method, rec in result["recorder"].items():
        lines.append(
            f"  {'recorder: ' + method:<58}{rec['seconds']:8.4f} s        ({rec['calls']} call(s))"
        )
    lines.append(f"  {'garbage collector (inside the above)':<58}{result['gc_seconds']:8.3f} s")
    return "\n".join(lines)


def run_stage(args: argparse.Namespace) -> int:
    if args.stage == "verify":
        print(json.dumps(verify_store(args.cache)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=100_000, help="SKUs in the catalog")
    parser.add_argument("--changed", type=int, default=100, help="products changed")
    parser.add_argument("--runs", type=int, default=5, help="measured passes of each kind")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="output dir")
    parser.add_argument("--seed", type=int, default=20261125, help="seed of the catalog")
    parser.add_argument("--profile", action="store_true", help="also profile two passes")
    parser.add_argument("--fresh", action="store_true", help="prepare the store again")
    parser.add_argument("--stage", choices=("verify",), help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return run_stage(args)
    if args.skus < 100 or args.runs < 1 or args.changed < 1:
        parser.error("use at least --skus 100, --runs 1 and --changed 1")

    tree = tree_digest()
    out: Path = args.out.resolve()
    scratch = out / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    cache = out / "sync-cache" / f"skus{args.skus}-seed{args.seed}"
    started = time.perf_counter()
    info = cached(cache, args, scratch)

    changed_catalog = cache / f"changed-{args.changed}.csv"
    changed_skus = write_changed_catalog(cache / "catalog.csv", changed_catalog, args.changed)
    print(f"changed the price of {len(changed_skus)} products: {changed_skus[:3]} ...")
    for kind in KINDS:
        skus = changed_skus if kind in ("changed", "sold") else []
        expect = {"channels": len(CHANNELS), "changed_skus": skus}
        (cache / f"expect-{kind}.json").write_text(json.dumps(expect), encoding="utf-8")

    runs = Runs(out, cache, changed_catalog, scratch)
    runs.sold = changed_skus  # rugs in stock, spread over the file: sold once each
    print("one steady pass to leave the quiet marks (and check nothing is sent) ...", flush=True)
    _, first = runs.worker("pass", "steady-first")
    runs.keep_quiet_store()
    print(f"  {first['seconds']:.2f} s, {first['write_calls']} write calls", flush=True)

    print(f"measuring, {args.runs} pass(es) of each kind, each in a fresh process ...")
    own_peak = _own_peak_kib()
    codes: list[str] = [first["code"]]
    series = measure(runs, args.runs, codes)

    print("one more pass of each kind, timed step by step ...", flush=True)
    steps = {}
    for kind in KINDS:
        steps[kind] = runs.worker("phases", kind)[1]
        steps[kind]["loadavg_1m"] = runs.load
        codes.append(steps[kind]["code"])
    profiles = {}
    if args.profile:
        print("profiling a steady-first, a changed and a sold pass ...", flush=True)
        for kind in ("steady-first", "changed", "sold"):
            profiles[kind] = profile(runs, kind, out)

    summaries = {
        kind: {name: summary(values) for name, values in s.items()} for kind, s in series.items()
    }
    steady_writes = sum(sum(series[k]["write_calls"]) for k in ("steady-first", "steady-quiet"))
    overhead = {k: summaries[k]["overhead_seconds"]["median"] for k in KINDS}
    result: dict[str, Any] = {
        "benchmark": "sync pass: steady catalog and changed SKUs, channels replaced by a recorder",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/bench_sync.py", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "code_digest": sorted(set(codes)),
        "parameters": {
            "skus": args.skus,
            "changed": args.changed,
            "runs": args.runs,
            "seed": args.seed,
            "batch_size": "config default",
        },
        "cache": {"folder": str(cache), **info},
        "changed_skus": changed_skus,
        "notes": {
            "seconds": "time.perf_counter() around sync_once() in the worker: interpreter "
            "start-up, imports, load_config and opening the store excluded (setup_seconds)",
            "channel_seconds": "time spent inside the recording connector (push, pull_orders)",
            "overhead_seconds": "seconds - channel_seconds: the pass's own work",
            "process_seconds": "fork to exit of the worker process, start-up included",
            "write_calls": "push() calls the pass made (each one batch of changes)",
            "maxrss_kib / vmhwm_kib": "as in bench_plan.json",
        },
        "orchestrator_maxrss_kib": own_peak,
        "first_steady_pass": first,
        "runs": series,
        "summary": summaries,
        "steps": steps,
        "goals": {
            "steady_zero_writes": {"write_calls": steady_writes, "met": steady_writes == 0},
            "changed_exactly_sent": {
                "met": True,
                "how": "asserted on every changed pass: each channel was pushed exactly the "
                "changed SKUs, once each",
            },
            "overhead_at_most_seconds": GOAL_OVERHEAD_SECONDS,
            "overhead_median_seconds": overhead,
            "overhead_met": {k: v <= GOAL_OVERHEAD_SECONDS for k, v in overhead.items()},
        },
        "profiles": {k: str(out / f"sync_profile_{k}.txt") for k in profiles},
        "total_seconds": time.perf_counter() - started,
    }
    if len(set(codes)) > 1 or tree_digest() != tree:
        result["warning"] = "the syndicator sources changed during the run"
        print("WARNING: the syndicator sources changed during the run; run it again", flush=True)
    (out / "bench_sync.json").write_text(json.dumps(result, indent=2), encoding="utf-8")

    print()
    print(_table(series, args.runs))
    print()
    print(
        f"steady passes: {steady_writes} write call(s) (goal 0: "
        f"{'met' if steady_writes == 0 else 'NOT met'}); changed passes: exactly the "
        f"{args.changed} changed SKUs sent to each channel (asserted: met)"
    )
    for kind in KINDS:
        met = overhead[kind] <= GOAL_OVERHEAD_SECONDS
        print(
            f"overhead of a {kind} pass: {overhead[kind]:.3f} s "
            f"(goal <= {GOAL_OVERHEAD_SECONDS:g} s: {'met' if met else 'NOT met'})"
        )
    print(f"results: {out / 'bench_sync.json'} ({result['total_seconds']:.0f} s in all)")
    print()
    for kind in KINDS:
        print(steps_text(kind, steps[kind]))
    for text in profiles.values():
        print()
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
