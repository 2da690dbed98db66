"""Benchmark: the satisfaction report over 1,000,000 stored reviews.

The goal (from issue 7): ``syndicator reviews report`` over 1,000,000 stored reviews takes
at most 5 s.

Steps, all from the repository root::

    .venv/bin/python bench/bench_reviews.py [--reviews 1000000] [--runs 5]
                                            [--out bench/out/reviews] [--seed 20261125] [--fresh]

1. Write a daemon config (``bench_plan.py``'s, with ``store: {url: sqlite:///state.db}``).
2. Fill its SQLite store with ``--reviews`` seeded reviews, in a process of its own, as a
   store of before migration 0008 holds them: the schema through Alembic up to 0007, then
   one bulk insert with the standard library's :mod:`sqlite3` (``executemany`` in one
   transaction), the times written as SQLAlchemy writes them. What they are like: see
   :func:`_reviews`. Then open it with :class:`~syndicator.store.Store`, which migrates it
   to the newest schema (0008 fills ``created_month`` and builds the report's indexes): that
   upgrade is timed, and the size of the table and of each index recorded. The store is kept
   in ``OUT/`` and used again while its parameters are the same (``--fresh``: fill it
   again).
3. Measure, ``--runs`` times and each time in a fresh process: :func:`satisfaction_report`
   for every ``--by`` (the work alone: the clock starts after the imports, the config and
   the store are loaded), then the command as a user runs it, whole process (start-up,
   imports and printing included): ``syndicator reviews report --config ... --by B``, for
   every ``--by``, with ``--json`` and without (the table, written to a pipe: 80 columns),
   and ``--chart`` (with the table). Each run checks its figures against the counts made
   while the reviews were written (the JSON in full, the table's "all" line).

Results go to ``OUT/bench_reviews.json`` (machine, code digest, every run) and a table on
stdout: medians, min and max.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_plan import REPO, machine, run_process, summary, tree_digest, write_config

GOAL_SECONDS = 5.0
CACHE_VERSION = 3  # bump when what the generated store holds changes
BEFORE_MONTHS = "0007"  # the schema the reviews are written at, then migrated from
BYS = ("channel", "cooperative", "sku", "month", "language")
COOPERATIVES = ("atlas-rugs", "zellige-fes", "tiwizi-argan", "dar-tadlakt", "rif-vannerie")
CHANNELS = ("amazon", "etsy", "anou")  # amazon: seller feedback (1 to 3 stars only)
CHANNEL_WEIGHTS = (15, 55, 30)
SKUS_PER_COOPERATIVE = 2000
MONTHS = 36  # reviews spread over the 36 months up to FIRST + 36
FIRST = datetime(2023, 12, 1, tzinfo=UTC)
LANGUAGES = ("fr", "en", "ar", "es", "de", "other")
LANGUAGE_WEIGHTS = (40, 30, 15, 6, 5, 4)
RATINGS = (5, 4, 3, 2, 1)
RATING_WEIGHTS = (52, 24, 10, 7, 7)
TEXTS = {
    "fr": ("Magnifique, conforme aux photos.", "Très belle qualité, livraison rapide.",
           "Couleurs un peu différentes de la photo mais bel objet.", "Déçue : arrivé abîmé."),
    "en": ("Beautiful, exactly as pictured.", "Lovely quality, fast shipping.",
           "Colours a little off from the photo, still nice.", "Arrived damaged, sadly."),
    "ar": ("رائع ومطابق للصور.", "جودة ممتازة وتوصيل سريع.", "الألوان مختلفة قليلا.",
           "وصل متضررا للأسف."),
    "es": ("Precioso, igual que en las fotos.", "Buena calidad, envío rápido."),
    "de": ("Wunderschön, genau wie abgebildet.", "Gute Qualität, schneller Versand."),
    "other": ("Bellissimo!", "Mooi kleed, snelle levering."),
}  # fmt: skip
COLUMNS = (
    "cooperative", "channel", "review_id", "sku", "rating", "text", "language",
    "language_source", "source_kind", "complete_sample", "order_ref", "buyer_ref", "created_at",
    "updated_at", "recorded_at",
)  # fmt: skip


# ------------------------------------------------------------------------------ the store
def _when(moment: datetime) -> str:
    """A UTC time as SQLAlchemy's SQLite DateTime stores it (what UTCDateTime reads back)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _reviews(count: int, seed: int, facts: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """``count`` seeded reviews, as rows of :data:`COLUMNS`, counting into ``facts`` what
    the report must find.

    5 cooperatives of 2,000 SKUs each; channels amazon (15 %: seller feedback, only 1 to 3
    stars, as Amazon's report; no SKU), etsy (55 %) and anou (30 %) (product reviews, rated
    5 to 1 with weights 52/24/10/7/7); 36 months from 2023-12, UTC, more reviews in recent
    months; languages fr, en, ar, es, de, other, and 3 % unknown (too short to tell); 2 % of
    product reviews without a SKU (a listing not matched); texts of 15 to 60 characters in
    the review's language. Every row is one the review store would write (a rating of 1 to
    5, ``updated_at`` set, seller feedback marked as an incomplete sample).
    """
    rng = random.Random(seed)
    seconds = int((FIRST.replace(year=FIRST.year + MONTHS // 12) - FIRST).total_seconds())
    recorded = _when(datetime(2026, 11, 25, tzinfo=UTC))
    n = satisfied = no_sku = feedback = 0
    for i in range(count):
        coop = COOPERATIVES[rng.randrange(len(COOPERATIVES))]
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        # sqrt: later months hold more reviews, as a shop that grows has
        created = FIRST + timedelta(seconds=int(seconds * rng.random() ** 0.5))
        sku: str | None = f"{coop[:3].upper()}-{rng.randrange(SKUS_PER_COOPERATIVE):05d}"
        if channel == "amazon":
            kind, sku, rating = "seller_feedback", None, rng.choice((1, 2, 3))
            feedback += 1
        else:
            kind = "product_review"
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            n += 1
            satisfied += rating >= 4
            if rng.random() < 0.02:
                sku = None
                no_sku += 1
        texts = TEXTS[language]
        text = texts[rng.randrange(len(texts))]
        known = rng.random() >= 0.03
        when = _when(created)
        yield (
            coop,
            channel,
            f"{channel}-{i:08d}",
            sku,
            rating,
            text if known else "Ok",
            language if known else None,
            "channel" if known else None,
            kind,
            kind != "seller_feedback",
            f"ORD-{i:08d}",
            f"b:{rng.getrandbits(96):024x}",
            when,
            when,
            recorded,
        )
    facts.update(n=n, satisfied=satisfied, unrated=0, no_sku=no_sku, feedback=feedback)


def fill_store(config_path: Path, count: int, seed: int) -> dict[str, Any]:
    """Create the store's schema up to :data:`BEFORE_MONTHS`, bulk-insert ``count`` reviews,
    then open it as the daemon would, which migrates it to the newest schema (timed)."""
    from alembic import command

    from syndicator.config import load_config
    from syndicator.plugins import load_channel_types
    from syndicator.store import Store
    from syndicator.store.db import migrations_config

    config = load_config(config_path, load_channel_types())
    database = Path(config.database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    old = Store(config.database_url, migrate=False)
    cfg = migrations_config()
    with old.write() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, BEFORE_MONTHS)
    old.close()
    facts: dict[str, Any] = {}
    start = time.perf_counter()
    db = sqlite3.connect(database, isolation_level=None)
    try:
        # A fresh file nobody else has open: no journal, no fsync, a large page cache for
        # the indexes; the store's own mode (WAL) is put back afterwards.
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("BEGIN")
        db.executemany(
            f"INSERT INTO reviews ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            _reviews(count, seed, facts),
        )
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")  # no ANALYZE: the store never runs one
    finally:
        db.close()
    inserted = time.perf_counter() - start
    before = database.stat().st_size
    start = time.perf_counter()
    Store(config.database_url).close()  # migrates: 0008 and whatever came after
    migrated = time.perf_counter() - start
    return {
        "reviews": count,
        "insert_seconds": inserted,
        "database_bytes_before_migration": before,
        "migration_seconds": migrated,
        "database_bytes": database.stat().st_size,
        "sizes": _sizes(database),
        "expected": facts,
    }


def _sizes(database: Path) -> dict[str, int]:
    """Bytes in use by the reviews table and each of its indexes, and free in the file."""
    db = sqlite3.connect(database)
    try:
        sizes = dict(
            db.execute(
                "SELECT name, sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM "
                "sqlite_master WHERE tbl_name = 'reviews') GROUP BY name"
            ).fetchall()
        )
        (free,) = db.execute("PRAGMA freelist_count").fetchone()
        (page,) = db.execute("PRAGMA page_size").fetchone()
    finally:
        db.close()
    return {**sizes, "free": free * page}


# ------------------------------------------------------------------------------ measuring
def measure_report(config_path: Path, by: str, expected: dict[str, Any]) -> dict[str, Any]:
    """The report's own work (imports, config and store opened before the clock starts),
    checked against what was written."""
    from plan_worker import _code_digest, _peak_rss_kib, _vmhwm_kib

    from syndicator.config import load_config
    from syndicator.plugins import load_channel_types
    from syndicator.reviews.report import GroupBy, satisfaction_report
    from syndicator.store import Store

    config = load_config(config_path, load_channel_types())
    store = Store(config.database_url)
    start = time.perf_counter()
    with store.read() as conn:
        report = satisfaction_report(conn, GroupBy(by))
    seconds = time.perf_counter() - start
    store.close()
    _check(report.to_json(), expected)
    return {
        "seconds": seconds,
        "groups": len(report.groups),
        "group_months": sum(len(g.months) for g in report.groups),
        "maxrss_kib": _peak_rss_kib(),
        "vmhwm_kib": _vmhwm_kib(),
        "code": _code_digest(),
    }


def _check(report: dict[str, Any], expected: dict[str, Any]) -> None:
    overall = report["overall"]
    got = {
        "n": overall["n"],
        "satisfied": overall["satisfied"],
        "unrated": overall["unrated"],
        "feedback": report["excluded"]["seller_feedback"],
    }
    want = {k: expected[k] for k in got}
    if got != want:
        raise SystemExit(f"the report found {got}, the store holds {want}")
    if report["by"] == "sku" and report["ungrouped"]["n"] != expected["no_sku"]:
        raise SystemExit(f"{report['ungrouped']['n']} rated reviews without a SKU, not {expected}")


def _cli() -> str:
    script = Path(sys.executable).with_name("syndicator")
    if not script.exists():
        raise SystemExit(f"the syndicator command is not installed next to {sys.executable}")
    return str(script)


def _worker(args: Sequence[str], scratch: Path) -> tuple[Any, dict[str, Any]]:
    run = run_process([sys.executable, str(Path(__file__).resolve()), *args], scratch)
    if run.returncode != 0:
        raise SystemExit(f"{args[0]} {args[1]} failed ({run.returncode}):\n{run.stderr}")
    return run, json.loads(run.stdout)


def _commands(config_path: Path, chart: Path) -> dict[str, list[str]]:
    """Every form of the command: each --by as JSON and as the table, and the chart."""
    cli = [_cli(), "reviews", "report", "--config", str(config_path)]
    commands = {}
    for by in BYS:
        commands[f"cli_json_{by}"] = [*cli, "--by", by, "--json"]
        commands[f"cli_table_{by}"] = [*cli, "--by", by]
    commands["cli_chart_channel"] = [*cli, "--chart", str(chart)]
    return commands


def _check_table(text: str, expected: dict[str, Any]) -> None:
    """The table's "all" line holds every rated review and the 4 and 5 star ones."""
    (all_line,) = [line for line in text.splitlines() if line.startswith(" all ")]
    numbers = [cell.strip() for cell in all_line.split("│")[1:3]]
    if numbers != [str(expected["n"]), str(expected["satisfied"])]:
        raise SystemExit(f"the table's 'all' line says {numbers}, the store holds {expected}")


def measure(
    config_path: Path, runs: int, expected: dict[str, Any], scratch: Path, chart: Path
) -> tuple[dict[str, list[float]], list[str], dict[str, Any]]:
    """Every kind of run in turn, ``runs`` times, each in a fresh process."""
    commands = _commands(config_path, chart)
    series: dict[str, list[float]] = {}
    codes: list[str] = []
    shape: dict[str, Any] = {}
    facts = json.dumps(expected)
    for i in range(runs):
        for by in BYS:
            run, result = _worker(["--measure", by, str(config_path), facts], scratch)
            series.setdefault(f"report_{by}_seconds", []).append(result["seconds"])
            series.setdefault(f"report_{by}_process_seconds", []).append(run.wall_seconds)
            series.setdefault(f"report_{by}_vmhwm_kib", []).append(result["vmhwm_kib"])
            codes.append(result["code"])
            shape[by] = {"groups": result["groups"], "group_months": result["group_months"]}
        for name, cmd in commands.items():
            run = run_process(cmd, scratch)
            if run.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stderr}")
            if name.startswith("cli_json"):
                _check(json.loads(run.stdout), expected)
            else:
                _check_table(run.stdout, expected)
            series.setdefault(f"{name}_seconds", []).append(run.wall_seconds)
            series.setdefault(f"{name}_maxrss_kib", []).append(run.maxrss_kib)
        print(
            f"  run {i + 1}/{runs}: "
            + ", ".join(f"{by} {series[f'report_{by}_seconds'][-1]:.2f} s" for by in BYS)
            + "; the command: "
            + ", ".join(f"{name[4:]} {series[f'{name}_seconds'][-1]:.2f} s" for name in commands),
            flush=True,
        )
    return series, codes, shape


def _table(series: dict[str, list[float]], runs: int) -> str:
    lines = [f"{'what (' + str(runs) + ' runs)':<56}{'median':>9}  {'min – max':>17}"]

    def row(label: str, name: str) -> None:
        s = summary(series[name])
        lines.append(f"{label:<56}{s['median']:7.2f} s  {s['min']:6.2f} – {s['max']:6.2f} s")

    for by in BYS:
        row(f"satisfaction_report(by={by}) (work only)", f"report_{by}_seconds")
    lines.append("syndicator reviews report (whole process):")
    for by in BYS:
        row(f"  --by {by} --json", f"cli_json_{by}_seconds")
        row(f"  --by {by} (the table)", f"cli_table_{by}_seconds")
    row("  --chart PATH.png (by channel: the table and the chart)", "cli_chart_channel_seconds")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Fill, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=1_000_000, help="reviews in the store")
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each kind")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "out" / "reviews", help="output dir"
    )
    parser.add_argument("--seed", type=int, default=20261125, help="seed of the reviews")
    parser.add_argument("--fresh", action="store_true", help="fill the store again")
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        by, config, facts = args.measure
        print(json.dumps(measure_report(Path(config), by, json.loads(facts))))
        return 0
    out: Path = args.out.resolve()
    config_path = out / "config.yaml"
    if args.fill:
        print(json.dumps(fill_store(config_path, args.reviews, args.seed)))
        return 0
    if args.reviews < 100 or args.runs < 1:
        parser.error("use at least --reviews 100 and --runs 1")

    tree = tree_digest()
    scratch = out / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    write_config(out, out / "catalog.csv", 0)  # the report reads no catalog
    params = {"reviews": args.reviews, "seed": args.seed, "version": CACHE_VERSION}
    cache = out / "store.json"
    filled = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else None
    if args.fresh or filled is None or filled["parameters"] != params:
        print(f"filling the store with {args.reviews:,} reviews ...", flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--fill", *_common(args)]
        run = run_process(cmd, scratch)
        if run.returncode != 0:
            raise SystemExit(f"filling the store failed ({run.returncode}):\n{run.stderr}")
        filled = {"parameters": params, **json.loads(run.stdout)}
        cache.write_text(json.dumps(filled, indent=2), encoding="utf-8")
    print(
        f"  {filled['reviews']:,} reviews, inserted at {BEFORE_MONTHS} in "
        f"{filled['insert_seconds']:.1f} s ({filled['database_bytes_before_migration'] / 2**20:.0f}"
        f" MiB), migrated in {filled['migration_seconds']:.1f} s "
        f"({filled['database_bytes'] / 2**20:.0f} MiB); {filled['expected']}",
        flush=True,
    )
    print(
        "  in use: "
        + ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in filled["sizes"].items()),
        flush=True,
    )

    print(f"measuring, {args.runs} run(s) of each, each in a fresh process ...", flush=True)
    chart = out / "satisfaction.png"
    series, codes, shape = measure(config_path, args.runs, filled["expected"], scratch, chart)
    whole = {
        name.removesuffix("_seconds"): summary(values)["median"]
        for name, values in series.items()
        if name.startswith("cli_") and name.endswith("_seconds")
    }
    slowest_form = max(whole, key=whole.__getitem__)
    slowest = max(summary(series[f"report_{by}_seconds"])["median"] for by in BYS)
    result: dict[str, Any] = {
        "benchmark": "reviews report: 1,000,000 reviews",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/bench_reviews.py", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "code_digest": sorted(set(codes)),
        "parameters": {"reviews": args.reviews, "runs": args.runs, "seed": args.seed},
        "store": filled,
        "shape": shape,
        "chart_bytes": chart.stat().st_size,
        "notes": {
            "seconds": "time.perf_counter() around satisfaction_report in one read "
            "transaction; start-up, imports, config and store opening excluded",
            "process_seconds / cli_*_seconds": "fork to exit of the whole process",
            "cache": "the store file stays in the OS page cache between runs (warm)",
        },
        "runs": series,
        "summary": {name: summary(values) for name, values in series.items()},
        "goals": {
            "seconds_at_most": GOAL_SECONDS,
            "whole_process_medians": whole,
            "slowest_form": slowest_form,
            "slowest_report_median": slowest,
            "met": max(whole.values()) <= GOAL_SECONDS,
        },
    }
    if len(set(codes)) > 1 or tree_digest() != tree:
        result["warning"] = "the syndicator sources changed during the run"
        print("WARNING: the syndicator sources changed during the run; run it again", flush=True)
    (out / "bench_reviews.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print()
    print(_table(series, args.runs))
    print()
    print(
        f"the slowest form of the command (whole process): {slowest_form} "
        f"{whole[slowest_form]:.2f} s; the slowest --by (work only): {slowest:.2f} s "
        f"(goal <= {GOAL_SECONDS:g} s for every form: "
        f"{'met' if result['goals']['met'] else 'NOT met'}); chart {chart} "
        f"({result['chart_bytes'] / 1024:.0f} KiB)"
    )
    print(f"results: {out / 'bench_reviews.json'}")
    return 0


def _common(args: argparse.Namespace) -> list[str]:
    out = str(args.out.resolve())
    return ["--out", out, "--reviews", str(args.reviews), "--seed", str(args.seed)]


if __name__ == "__main__":
    sys.exit(main())
