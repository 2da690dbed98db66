"""Benchmark: load, validate and plan a large CSV catalog in which one SKU changed.

The goal (from the issue): planning a 100,000-SKU CSV catalog with one changed SKU takes at
most 5 times as long as merely reading the same file with Python's :mod:`csv` module, and
peaks at no more than 1 GiB of memory.

Steps, all from the repository root::

    .venv/bin/python bench/bench_plan.py [--skus 100000] [--runs 5] [--out bench/out]
                                         [--seed 20261125] [--profile] [--without-input-keys]

1. Write a seeded, deterministic catalog as French Excel saves "CSV UTF-8": BOM, ``;``
   between cells, CRLF line ends, decimal commas (``1 250,50``), Arabic, French and English
   text; about 10 % of the products have 2 or 3 variants. ``--skus`` counts sellable SKUs
   (products without variants plus variants).
2. Write a daemon config beside it: one cooperative, channels amazon, etsy and anou shaped
   like config/demo.yaml, and ``store: {url: sqlite:///state.db}``.
3. Bring the store to "everything already confirmed": plan once, save for every projected
   SKU the listing state the channel would have confirmed (with its input key, unless
   ``--without-input-keys``), and the stock counts; check that a second plan finds nothing
   to do. These steps run in processes of their own (see :func:`_stage`).
4. Change the price of one product in the file and check that the plan is now exactly one
   reprice per channel for that SKU, everything else unchanged.
5. Measure, ``--runs`` times, each in a fresh process (bench/plan_worker.py): the baseline
   (``csv.reader`` over the file, counting rows), the full job (load config, open the store,
   ``make_plan`` for every channel, count the changed ops), and the ``syndicator plan
   --config ... --json`` command as a user runs it. Medians, min and max are reported, with
   the ratio median(full) / median(baseline).

Results go to ``OUT/bench_plan.json`` (machine-readable) and a table on stdout. With
``--profile``, one more run of the full job under cProfile writes ``OUT/profile.txt`` (top 25
by cumulative and by own time), and one more is timed step by step, with the share of the
garbage collector and the memory after each big step.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import pstats
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().with_name("plan_worker.py")
GOAL_RATIO = 5.0
GOAL_PEAK_KIB = 1024 * 1024  # 1 GiB
COOPERATIVE = "bench-coop"
CHANNELS = ("amazon", "etsy", "anou")

COLUMNS = (
    "sku", "parent_sku", "title_ar", "title_fr", "title_en", "description_fr",
    "description_en", "category", "materials", "tags", "price", "stock", "images", "who_made",
    "when_made", "weight_kg", "length_cm", "width_cm", "height_cm", "hs_code", "region",
    "artisan", "option_taille", "etsy_price",
)  # fmt: skip


# ------------------------------------------------------------------------------ vocabulary
@dataclass(frozen=True, slots=True)
class Kind:
    """One category of the catalog and what its products look like."""

    category: str
    prefix: str
    fr: str
    en: str
    ar: str
    price_mad: tuple[int, int]
    weight_kg: tuple[float, float]
    size_cm: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    hs_code: str
    materials: tuple[str, ...]
    one_of_a_kind: float  # share of products with stock 1


KINDS = (
    Kind("rugs", "TAP", "Tapis", "rug", "زربية", (800, 15000), (3.0, 25.0),
         ((120, 400), (80, 300), (1, 3)), "5701.10", ("laine", "laine | coton", "laine | henné"),
         0.7),
    Kind("cushions", "COU", "Coussin", "cushion", "وسادة", (150, 650), (0.4, 1.5),
         ((40, 70), (40, 70), (10, 20)), "9404.90", ("laine | coton", "coton", "cuir | coton"),
         0.2),
    Kind("poufs", "POF", "Pouf", "pouf", "بوف", (350, 1400), (1.0, 4.0),
         ((45, 60), (45, 60), (25, 40)), "9401.80", ("cuir", "cuir | coton", "laine"), 0.3),
    Kind("blankets", "COV", "Couverture", "blanket", "بطانية", (450, 2600), (1.0, 3.5),
         ((150, 260), (100, 220), (1, 2)), "6301.20", ("laine", "laine | soie de cactus"), 0.4),
)  # fmt: skip
KIND_WEIGHTS = (55, 20, 10, 15)

STYLES = (  # (fr, en, ar)
    ("Beni Ouarain", "Beni Ourain", "بني ورين"),
    ("Azilal", "Azilal", "أزيلال"),
    ("Boucherouite", "Boucherouite", "بوشرويط"),
    ("kilim", "kilim", "كليم"),
    ("Boujaad", "Boujad", "بوجعد"),
    ("Taznakht", "Taznakht", "تازناخت"),
    ("Zanafi", "Zanafi", "زنافي"),
    ("Hanbel", "Hanbel", "حنبل"),
    ("Glaoui", "Glaoui", "كلاوي"),
    ("Akhnif", "Akhnif", "أخنيف"),
)
COLOURS = (
    ("écru", "ivory", "عاجي"),
    ("safran", "saffron", "زعفراني"),
    ("indigo", "indigo", "نيلي"),
    ("rouge garance", "madder red", "أحمر فوي"),
    ("noir et blanc", "black and white", "أبيض وأسود"),
    ("vert menthe", "mint green", "أخضر نعناعي"),
    ("ocre", "ochre", "مغرة"),
    ("rose poudré", "dusty pink", "وردي فاتح"),
    ("bleu Majorelle", "Majorelle blue", "أزرق ماجوريل"),
    ("gris perle", "pearl grey", "رمادي لؤلؤي"),
)
FINISHES = (
    ("tissé à la main", "hand-woven", "منسوجة يدويا"),
    ("noué main", "hand-knotted", "معقودة يدويا"),
    ("teinture naturelle", "natural dyes", "بصباغة طبيعية"),
    ("pièce unique", "one of a kind", "قطعة فريدة"),
)
REGIONS = ("Moyen Atlas", "Haut Atlas", "Rif", "Souss", "Tafilalet", "Anti-Atlas", "Haouz")
ARTISANS = (
    "Fatima Aït Lahcen", "Khadija Oubella", "Aïcha Benali", "Itto Amazigh", "Zahra El Idrissi",
    "Malika Ouhammou", "Rkia Bouzid", "Hasna Aït Baha", "Touda Lamrani", "Mina Ousaid",
)  # fmt: skip
TAGS = (
    "berbère", "fait main", "artisanat marocain", "laine naturelle", "décoration bohème",
    "tapis marocain", "coopérative", "commerce équitable", "handmade", "moroccan rug",
    "boho decor", "fair trade", "atlas", "vintage", "amazigh",
)  # fmt: skip
SENTENCES_FR = (
    "Tissé à la main par les femmes de la coopérative ({region}).",
    "Laine de mouton lavée, cardée et filée à la main ; teintures végétales.",
    "Chaque pièce est unique : les motifs {style} varient d'un tissage à l'autre.",
    "Dimensions : {length} x {width} cm, épaisseur {height} cm.",
    "Entretien : aspirer sans brosse rotative, nettoyage à sec uniquement.",
    "Livré roulé, dans un emballage protégé, avec le nom de l'artisane.",
    "Les motifs se transmettent de mère en fille depuis des générations.",
    "La couleur {colour} vient de plantes cueillies près du village.",
)
SENTENCES_EN = (
    "Hand-woven by the women of the cooperative in the {region}.",
    "Sheep's wool washed, carded and spun by hand; plant dyes.",
    "Every piece is unique: the {style} patterns vary from one weaving to the next.",
    "Size: {length} x {width} cm, {height} cm thick.",
    "Care: vacuum without a rotating brush, dry-clean only.",
    "Shipped rolled, well packed, with the name of the weaver.",
    "The patterns are handed down from mother to daughter.",
    "The {colour} colour comes from plants gathered near the village.",
)
SIZES = ("petit", "moyen", "grand")


# ------------------------------------------------------------------------------ the catalog
@dataclass(frozen=True, slots=True)
class CatalogFacts:
    """What the generated catalog holds, and the one SKU the benchmark changes."""

    path: str
    bytes: int
    rows: int  # data rows, without the header
    products: int
    products_with_variants: int
    skus: int
    changed_sku: str
    price_before: str
    price_after: str


def fr_amount(value: Decimal) -> str:
    """A MAD amount as French Excel writes it: ``1 250,50``, ``450``."""
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = divmod(int(value * 100), 100)
    grouped = f"{whole:,}".replace(",", " ")
    return grouped if cents == 0 else f"{grouped},{cents:02d}"


def fr_decimal(value: float, places: int = 1) -> str:
    """A measure with a decimal comma: ``12,5``."""
    return f"{value:.{places}f}".replace(".", ",").removesuffix(",0")


def _description(rng: random.Random, sentences: Sequence[str], values: dict[str, object]) -> str:
    """100 to 300 characters of sentences; now and then two paragraphs, as Excel keeps them."""
    target = rng.randint(100, 300)
    order = list(sentences)
    rng.shuffle(order)
    text = ""
    for sentence in order:
        candidate = f"{text} {sentence.format(**values)}".strip()
        if len(candidate) > target and len(text) >= 100:
            break
        text = candidate
    if len(text) > 300:
        text = text[:300].rsplit(" ", 1)[0]
    if rng.random() < 0.05 and ". " in text:
        text = text.replace(". ", ".\n", 1)
    return text


def _catalog_rows(skus: int, seed: int, reprice: bool) -> Iterator[tuple[list[str], str | None]]:
    """Yield (row, price-change marker) for each data row; see :func:`write_catalog`.

    The marker is ``"before:after"`` on the row of the product chosen to be repriced (the
    first rug without variants and without an etsy_price past the middle of the file).
    """
    rng = random.Random(seed)
    remaining = skus
    index = 0
    chosen = False
    while remaining > 0:
        index += 1
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        style = STYLES[rng.randrange(len(STYLES))]
        colour = COLOURS[rng.randrange(len(COLOURS))]
        finish = FINISHES[rng.randrange(len(FINISHES))]
        region = REGIONS[rng.randrange(len(REGIONS))]
        sku = f"ATL-{kind.prefix}-{index:06d}"
        (l_lo, l_hi), (w_lo, w_hi), (h_lo, h_hi) = kind.size_cm
        length, width = rng.randint(l_lo, l_hi), rng.randint(w_lo, w_hi)
        height = rng.randint(h_lo, h_hi)
        values = {
            "region": region, "style": style[0], "colour": colour[0], "length": length,
            "width": width, "height": height,
        }  # fmt: skip
        values_en = values | {"style": style[1], "colour": colour[1]}
        price = Decimal(rng.randint(*kind.price_mad))
        if rng.random() < 0.3:
            price += Decimal("0.50")
        n_variants = rng.choice((2, 3)) if rng.random() < 0.10 else 0
        if n_variants:
            n_variants = min(n_variants, remaining)
        stock = 1 if rng.random() < kind.one_of_a_kind else rng.randint(0, 30)
        etsy_price = ""
        if not n_variants and rng.random() < 0.05:
            etsy_price = fr_amount(Decimal(rng.randint(40, 900)) + Decimal("0.90"))
        images = " | ".join(
            f"https://cdn.example.org/atlas/{sku.lower()}-{n}.jpg"
            for n in range(1, rng.randint(1, 3) + 1)
        )
        tags = " | ".join(rng.sample(TAGS, rng.randint(3, 8)))
        marker = None
        price_text = fr_amount(price)
        if (
            not chosen
            and index * 2 >= skus
            and kind.category == "rugs"
            and not n_variants
            and not etsy_price
        ):
            chosen = True
            new_price = fr_amount(price * Decimal("1.25") + Decimal(100))
            marker = f"{sku}:{price_text}:{new_price}"
            if reprice:
                price_text = new_price
        row = [
            sku,
            "",
            f"{kind.ar} {style[2]} {colour[2]} {finish[2]} رقم {index}",
            f"{kind.fr} {style[0]} {colour[0]}, {finish[0]} - modèle {index}",
            f"{style[1]} {kind.en} in {colour[1]}, {finish[1]} - model {index}",
            _description(rng, SENTENCES_FR, values),
            _description(rng, SENTENCES_EN, values_en),
            kind.category,
            rng.choice(kind.materials),
            tags,
            price_text,
            "" if n_variants else str(stock),
            images,
            "collective",
            "2025",
            fr_decimal(rng.uniform(*kind.weight_kg)),
            str(length),
            str(width),
            str(height),
            kind.hs_code,
            region,
            ARTISANS[rng.randrange(len(ARTISANS))],
            "",
            etsy_price,
        ]
        yield row, marker
        remaining -= max(n_variants, 1)
        for size in SIZES[:n_variants]:
            variant = [""] * len(COLUMNS)
            variant[0], variant[1] = f"{sku}-{size[0].upper()}", sku
            variant[COLUMNS.index("option_taille")] = size
            variant[COLUMNS.index("stock")] = str(rng.randint(0, 12))
            if rng.random() < 0.5:
                factor = {"petit": Decimal("0.7"), "moyen": Decimal(1), "grand": Decimal("1.6")}
                variant[COLUMNS.index("price")] = fr_amount(price * factor[size])
            yield variant, None


def write_catalog(path: Path, skus: int, seed: int, *, reprice: bool = False) -> CatalogFacts:
    """Write the catalog CSV as French Excel's "CSV UTF-8" (BOM, ``;``, CRLF).

    The same ``seed`` always gives the same file; ``reprice`` writes it with the chosen
    product's price changed, and nothing else.
    """
    rows = products = 0
    parents: set[str] = set()
    marker: str | None = None
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row, mark in _catalog_rows(skus, seed, reprice):
            writer.writerow(row)
            rows += 1
            if row[1]:
                parents.add(row[1])
            else:
                products += 1
            marker = marker or mark
    if marker is None:
        raise SystemExit("no product qualifies for the price change; use more --skus")
    changed, before, after = marker.split(":")
    return CatalogFacts(
        path=str(path),
        bytes=path.stat().st_size,
        rows=rows,
        products=products,
        products_with_variants=len(parents),
        skus=skus,
        changed_sku=changed,
        price_before=before,
        price_after=after,
    )


# ------------------------------------------------------------------------------ the config
def write_config(out: Path, catalog: Path, catalog_bytes: int) -> Path:
    """A daemon config shaped like config/demo.yaml, for one cooperative and this catalog."""
    mib = 1024 * 1024
    config: dict[str, Any] = {
        "store": {"url": "sqlite:///state.db"},
        "exchange_rates": [
            {"date": date(2026, 10, 1), "USD": "0.1079", "EUR": "0.0929", "GBP": "0.0808"},
            {"date": date(2026, 11, 2), "USD": "0.1082", "EUR": "0.0934", "GBP": "0.0812"},
            # The same rates again, dated today, so that the rates are never stale.
            {"date": datetime.now(UTC).date(), "USD": "0.1082", "EUR": "0.0934", "GBP": "0.0812"},
        ],
        "cooperatives": [
            {
                "id": COOPERATIVE,
                "name": "Coopérative de référence — تعاونية مرجعية",
                "catalog": catalog.name,
                "channels": [
                    {
                        "id": "amazon",
                        "type": "amazon",
                        "currency": "USD",
                        "languages": ["en", "fr"],
                        "pricing": {
                            "fee_percent": 15,
                            "fee_fixed": 0,
                            "margin_percent": 5,
                            "rounding": "ends_99",
                            "floor": 25,
                        },
                        "stock": {"buffer": 0, "max_quantity": 20},
                        "categories": {
                            "rugs": "RUG",
                            "cushions": "HOME",
                            "blankets": "HOME",
                            "poufs": "HOME",
                        },
                        "schedule": {"orders": "5m", "reviews": "24h", "readback": "24h"},
                        "settings": {
                            "seller_id": "A2SANDBOXBENCH",
                            "marketplace_id": "ATVPDKIKX0DER",
                            "region": "NA",
                        },
                        "credentials": {
                            "refresh_token": {"env": "BENCH_AMAZON_REFRESH_TOKEN"},
                            "client_id": {"env": "BENCH_AMAZON_CLIENT_ID"},
                            "client_secret": {"env": "BENCH_AMAZON_CLIENT_SECRET"},
                        },
                    },
                    {
                        "id": "etsy",
                        "type": "etsy",
                        "currency": "USD",
                        "languages": ["en", "fr"],
                        "pricing": {
                            "fee_percent": 9.5,
                            "fee_fixed": 0.45,
                            "margin_percent": 5,
                            "rounding": "ends_99",
                            "floor": 20,
                        },
                        "stock": {"buffer": 0},
                        "categories": {
                            "rugs": "1036",
                            "cushions": "1057",
                            "blankets": "1053",
                            "poufs": "1061",
                        },
                        "settings": {"shop_id": 41000009, "shipping_profile_id": 2100009},
                        "credentials": {
                            "keystring": {"env": "BENCH_ETSY_KEYSTRING"},
                            "shared_secret": {"env": "BENCH_ETSY_SHARED_SECRET"},
                            "refresh_token": {"env": "BENCH_ETSY_REFRESH_TOKEN"},
                        },
                    },
                    {
                        "id": "anou",
                        "type": "anou",
                        "currency": "MAD",
                        "languages": ["fr", "en", "ar"],
                        "pricing": {"fee_percent": 10, "rounding": "whole"},
                        "stock": {"buffer": 1},
                        "settings": {"base_url": "https://anou.example.org/api/v1"},
                        "credentials": {"api_key": {"env": "BENCH_ANOU_API_KEY"}},
                    },
                ],
            }
        ],
    }
    if catalog_bytes > 64 * mib:  # the default limit; a larger file needs it raised
        config["limits"] = {"max_catalog_mb": -(-catalog_bytes // mib) + 1}
    path = out / "config.yaml"
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(
        "# Written by bench/bench_plan.py: the benchmark's cooperative and its three channels.\n"
        + text,
        encoding="utf-8",
    )
    return path


# ------------------------------------------------------------------------------ the store
def _today() -> date:
    return datetime.now(UTC).date()


def _plan(config_path: Path) -> Any:
    """The plan of every channel now, in this process (setup and checks only)."""
    from syndicator.config import load_config
    from syndicator.planning.plan import make_plan
    from syndicator.plugins import load_channel_types
    from syndicator.store import Store

    config = load_config(config_path, load_channel_types())
    store = Store(config.database_url)
    try:
        return make_plan(config, store, today=_today())
    finally:
        store.close()


def _counts(report: Any) -> dict[str, int]:
    """Actions and how many SKUs get each, over every channel (the SKUs left out unchecked
    because nothing changed count as unchanged)."""
    counts: dict[str, int] = {}
    for coop in report.cooperatives:
        for chplan in coop.channels:
            for action, n in chplan.counts().items():
                if n:
                    counts[str(action)] = counts.get(str(action), 0) + n
    return counts


def prepare_store(config_path: Path, skus: int, input_keys: bool = True) -> dict[str, Any]:
    """Plan once, save every projected SKU as confirmed by its channel, then check that a
    second plan has nothing to do. Returns the setup's timings and op counts.

    ``input_keys``: record each projection's input key, as a sync records a confirmed
    listing (:func:`syndicator.planning.operations.confirmed_state`), so that a plan can skip
    the units whose inputs have not changed. Without them (a store written before input keys
    existed) every unit is projected and compared again: the slow path.
    """
    from syndicator.config import load_config
    from syndicator.domain.listings import ListingState
    from syndicator.planning.availability import new_counts
    from syndicator.planning.operations import Action
    from syndicator.plugins import load_channel_types
    from syndicator.store import Store
    from syndicator.store.ledger import save_stock_counts
    from syndicator.store.listings import save_listings

    for suffix in ("", "-wal", "-shm"):
        (config_path.parent / f"state.db{suffix}").unlink(missing_ok=True)

    start = time.perf_counter()
    report = _plan(config_path)
    first_plan = time.perf_counter() - start
    problems = report.problems()
    if problems:
        shown = "\n".join(str(p) for p in problems[:10])
        raise SystemExit(f"the generated catalog has {len(problems)} problem(s):\n{shown}")
    (cplan,) = report.cooperatives
    assert cplan.catalog is not None
    units = list(cplan.catalog.units())
    if len(units) != skus:
        raise SystemExit(f"the catalog has {len(units)} SKUs, not {skus}")
    first_counts = _counts(report)

    config = load_config(config_path, load_channel_types())
    store = Store(config.database_url)
    now = datetime.now(UTC)
    start = time.perf_counter()
    try:
        for chplan in cplan.channels:
            states = [
                ListingState(
                    op.sku,
                    status="active",
                    parent_sku=op.parent_sku,
                    remote_id=f"R-{op.sku}",
                    fingerprint=p.fingerprint,
                    price=p.price.amount,
                    currency=p.price.currency,
                    quantity=p.quantity,
                    language=p.language,
                    input_key=p.input_key if input_keys else None,
                )
                for op in chplan.ops
                if (p := op.projection) is not None
            ]
            with store.write() as conn:
                save_listings(conn, COOPERATIVE, chplan.channel.id, states, now)
        with store.write() as conn:
            save_stock_counts(conn, COOPERATIVE, new_counts(units, {}, cplan.catalog.modified_at))
    finally:
        store.close()
    save_seconds = time.perf_counter() - start
    del report, cplan, units

    second = _plan(config_path)
    second_counts = _counts(second)
    if set(second_counts) != {str(Action.UNCHANGED)}:
        raise SystemExit(
            f"after saving the confirmed state, the plan is not empty: {second_counts}"
        )
    return {
        "first_plan_seconds": first_plan,
        "first_plan_ops": first_counts,
        "save_state_seconds": save_seconds,
        "confirmed_plan_ops": second_counts,
    }


def check_change(config_path: Path, sku: str) -> dict[str, int]:
    """The plan after the price change: exactly one reprice per channel for ``sku``."""
    from syndicator.planning.operations import Action

    report = _plan(config_path)
    changed = [op for op in report.ops() if op.action is not Action.UNCHANGED]
    got = sorted((op.channel, op.sku, str(op.action), op.changes) for op in changed)
    want = sorted((ch, sku, str(Action.REPRICE), ("price",)) for ch in CHANNELS)
    if got != want:
        raise SystemExit(f"after changing the price of {sku}, expected {want}, the plan has {got}")
    return _counts(report)


# ------------------------------------------------------------------------------ measuring
@dataclass(frozen=True, slots=True)
class ProcessRun:
    """One fresh process: its wall time from fork to exit, its peak memory and its output."""

    wall_seconds: float
    maxrss_kib: int
    returncode: int
    stdout: str
    stderr: str


def run_process(cmd: Sequence[str], scratch: Path) -> ProcessRun:
    """Run ``cmd`` from the repository root; its peak memory comes from wait4().

    That peak is the child's ``ru_maxrss``, which is never below this process's own peak at
    the fork (see :func:`_stage`).
    """
    out_file, err_file = scratch / "stdout.txt", scratch / "stderr.txt"
    with out_file.open("wb") as out, err_file.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ProcessRun(
        wall,
        usage.ru_maxrss,
        proc.returncode,
        out_file.read_text(encoding="utf-8"),
        err_file.read_text(encoding="utf-8"),
    )


def _worker(args: Sequence[str], scratch: Path) -> tuple[ProcessRun, dict[str, Any]]:
    run = run_process([sys.executable, str(WORKER), *args], scratch)
    if run.returncode != 0:
        raise SystemExit(f"worker {args[0]} failed ({run.returncode}):\n{run.stderr}")
    return run, json.loads(run.stdout)


def _stage(args: Sequence[str], scratch: Path) -> dict[str, Any]:
    """Run a setup step of this script in its own process, so that this one stays small.

    Linux hands a process's peak RSS (``ru_maxrss``) down through fork and exec: a child of a
    process that once held the whole plan would report that peak as its own. Keeping the
    orchestrating process small keeps the measured processes' numbers their own.
    """
    run = run_process([sys.executable, str(Path(__file__).resolve()), *args], scratch)
    if run.returncode != 0:
        raise SystemExit(f"setup step {args[1]} failed ({run.returncode}):\n{run.stderr}")
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def _cli() -> str:
    script = Path(sys.executable).with_name("syndicator")
    if not script.exists():
        raise SystemExit(f"the syndicator command is not installed next to {sys.executable}")
    return str(script)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(
    config_path: Path, catalog: Path, runs: int, expected: int, scratch: Path, codes: list[str]
) -> dict[str, list[float]]:
    """Run baseline, full job and CLI in turn, ``runs`` times, each in a fresh process.

    ``codes`` receives the digest of the code each full job ran, to tell if it changed.
    """
    series: dict[str, list[float]] = {
        name: []
        for name in (
            "baseline_seconds", "baseline_process_seconds", "baseline_maxrss_kib",
            "baseline_vmhwm_kib", "plan_seconds", "plan_process_seconds", "plan_maxrss_kib",
            "plan_vmhwm_kib", "cli_seconds", "cli_maxrss_kib",
        )
    }  # fmt: skip
    cli = [_cli(), "plan", "--config", str(config_path), "--json"]
    for i in range(runs):
        run, result = _worker(["baseline", str(catalog)], scratch)
        series["baseline_seconds"].append(result["seconds"])
        series["baseline_process_seconds"].append(run.wall_seconds)
        series["baseline_maxrss_kib"].append(result["maxrss_kib"])
        series["baseline_vmhwm_kib"].append(result["vmhwm_kib"])

        run, result = _worker(["plan", str(config_path), str(expected)], scratch)
        series["plan_seconds"].append(result["seconds"])
        series["plan_process_seconds"].append(run.wall_seconds)
        series["plan_maxrss_kib"].append(result["maxrss_kib"])
        series["plan_vmhwm_kib"].append(result["vmhwm_kib"])
        codes.append(result["code"])

        run = run_process(cli, scratch)
        if run.returncode != 0:
            raise SystemExit(f"syndicator plan failed ({run.returncode}):\n{run.stderr[-2000:]}")
        if len(json.loads(run.stdout)) != expected:
            raise SystemExit(f"syndicator plan --json did not list {expected} op(s)")
        series["cli_seconds"].append(run.wall_seconds)
        series["cli_maxrss_kib"].append(run.maxrss_kib)
        print(
            f"  run {i + 1}/{runs}: csv.reader {series['baseline_seconds'][-1]:.3f} s, "
            f"plan {series['plan_seconds'][-1]:.3f} s, "
            f"syndicator plan {series['cli_seconds'][-1]:.3f} s",
            flush=True,
        )
    return series


def profile(config_path: Path, expected: int, out: Path, scratch: Path) -> str:
    """One run of the full job under cProfile; the top 25 by cumulative time, as text."""
    stats_file = out / "profile.pstats"
    _worker(["profile", str(config_path), str(expected), str(stats_file)], scratch)
    report = out / "profile.txt"
    with report.open("w", encoding="utf-8") as f:
        stats = pstats.Stats(str(stats_file), stream=f)
        stats.strip_dirs().sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(25)
    return report.read_text(encoding="utf-8")


def phases(config_path: Path, expected: int, scratch: Path) -> dict[str, Any]:
    """One run of the full job with a timer on each step and on the garbage collector."""
    return _worker(["phases", str(config_path), str(expected)], scratch)[1]


def phases_text(result: dict[str, Any]) -> str:
    """The steps of one full run, their share of it, and the memory after the big ones."""
    total = result["seconds"]
    lines = [f"one full run, timed step by step: {total:.2f} s in all"]
    for name, step in result["steps"].items():
        lines.append(
            f"  {name:<40}{step['seconds']:8.2f} s  {100 * step['seconds'] / total:5.1f} %"
            f"  ({step['calls']} call(s))"
        )
    gcs = result["gc_seconds"]
    lines.append(
        f"  {'garbage collector (inside the above)':<40}{gcs:8.2f} s  "
        f"{100 * gcs / total:5.1f} %  (collections by generation: "
        f"{result['gc_collections_by_generation']}; "
        f"{result['gc_objects_tracked_at_end']:,} objects tracked at the end)"
    )
    for label, mib in result["rss_mib"]:
        lines.append(f"  RSS {label:<36}{mib:8.1f} MiB")
    lines.append(f"  peak (VmHWM){result['vmhwm_kib'] / 1024:35.1f} MiB")
    return "\n".join(lines)


def tree_digest() -> str:
    """A digest of every source under syndicator/, to notice edits made during a run."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "syndicator").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def machine() -> dict[str, Any]:
    """CPU model (from /proc/cpuinfo), core count, Python and OS."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.platform(),
    }


# ------------------------------------------------------------------------------ report
def _table(series: dict[str, list[float]], runs: int) -> str:
    """The results as a plain-text table: medians, min – max, peak memory (medians)."""

    def secs(name: str) -> str:
        s = summary(series[name])
        return f"{s['median']:8.3f} s  {s['min']:7.3f} – {s['max']:7.3f} s"

    def mib(name: str) -> str:
        return f"{summary(series[name])['median'] / 1024:8.1f} MiB" if name in series else ""

    head = f"{'what (' + str(runs) + ' runs)':<45}{'median':>10}  {'min – max':>19}"
    lines = [
        f"{head}  {'ru_maxrss':>12}  {'VmHWM':>12}",
        f"{'csv.reader over the file (work only)':<45}{secs('baseline_seconds')}  "
        f"{mib('baseline_maxrss_kib')}  {mib('baseline_vmhwm_kib')}",
        f"{'  same, whole process':<45}{secs('baseline_process_seconds')}",
        f"{'config + store + make_plan (work only)':<45}{secs('plan_seconds')}  "
        f"{mib('plan_maxrss_kib')}  {mib('plan_vmhwm_kib')}",
        f"{'  same, whole process':<45}{secs('plan_process_seconds')}",
        f"{'syndicator plan --config ... --json':<45}{secs('cli_seconds')}  "
        f"{mib('cli_maxrss_kib')}",
    ]
    return "\n".join(lines)


def _own_peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_stage(args: argparse.Namespace) -> int:
    """A setup step, in a process of its own; prints its result as JSON."""
    config_path = args.out.resolve() / "config.yaml"
    if args.stage == "prepare":
        result: dict[str, Any] = prepare_store(config_path, args.skus, args.input_keys)
    else:
        result = check_change(config_path, args.changed_sku)
    print(json.dumps(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, prepare, check, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=100_000, help="SKUs in the catalog")
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each kind")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="output dir")
    parser.add_argument("--seed", type=int, default=20261125, help="seed of the catalog")
    parser.add_argument("--profile", action="store_true", help="also profile one full run")
    parser.add_argument(
        "--without-input-keys",
        dest="input_keys",
        action="store_false",
        help="store the confirmed listings without input keys, so that every unit is "
        "projected again (as with a store written before input keys existed)",
    )
    parser.add_argument("--stage", choices=("prepare", "check"), help=argparse.SUPPRESS)
    parser.add_argument("--changed-sku", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        return run_stage(args)
    if args.skus < 10 or args.runs < 1:
        parser.error("use at least --skus 10 and --runs 1")

    tree = tree_digest()
    out: Path = args.out.resolve()
    scratch = out / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    catalog = out / "catalog.csv"
    common = ["--out", str(out), "--skus", str(args.skus)]
    if not args.input_keys:
        common.append("--without-input-keys")

    print(f"writing a {args.skus:,}-SKU catalog to {catalog} ...", flush=True)
    start = time.perf_counter()
    facts = write_catalog(catalog, args.skus, args.seed)
    generate_seconds = time.perf_counter() - start
    config_path = write_config(out, catalog, facts.bytes)
    print(
        f"  {facts.rows:,} rows, {facts.products:,} products "
        f"({facts.products_with_variants:,} with variants), {facts.bytes / 2**20:.1f} MiB, "
        f"in {generate_seconds:.1f} s",
        flush=True,
    )

    keys = "with" if args.input_keys else "without"
    print(f"bringing the store to 'everything confirmed' ({keys} input keys) ...", flush=True)
    setup = _stage(["--stage", "prepare", *common], scratch)
    print(
        f"  first plan {setup['first_plan_seconds']:.1f} s {setup['first_plan_ops']}; "
        f"state saved in {setup['save_state_seconds']:.1f} s; "
        f"then {setup['confirmed_plan_ops']}",
        flush=True,
    )

    changed = write_catalog(catalog, args.skus, args.seed, reprice=True)
    print(
        f"changed the price of {changed.changed_sku}: {changed.price_before} -> "
        f"{changed.price_after} MAD",
        flush=True,
    )
    after_counts = _stage(
        ["--stage", "check", "--changed-sku", changed.changed_sku, *common], scratch
    )
    print(f"  plan now: {after_counts}", flush=True)
    expected = len(CHANNELS)

    print(f"measuring, {args.runs} run(s) of each, each in a fresh process ...", flush=True)
    own_peak = _own_peak_kib()
    codes: list[str] = []
    series = measure(config_path, catalog, args.runs, expected, scratch, codes)
    ratio = (
        summary(series["plan_seconds"])["median"] / summary(series["baseline_seconds"])["median"]
    )
    peak = max(series["plan_maxrss_kib"])

    profile_text = steps = None
    if args.profile:
        print("profiling one run, then timing the steps of another ...", flush=True)
        profile_text = profile(config_path, expected, out, scratch)
        steps = phases(config_path, expected, scratch)
        codes.append(steps["code"])

    result: dict[str, Any] = {
        "benchmark": "plan: CSV catalog, one changed SKU",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/bench_plan.py", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "code_digest": sorted(set(codes)),
        "parameters": {
            "skus": args.skus,
            "runs": args.runs,
            "seed": args.seed,
            "input_keys": args.input_keys,
        },
        "catalog": asdict(changed) | {"generate_seconds": generate_seconds},
        "setup": setup | {"changed_plan_ops": after_counts},
        "notes": {
            "seconds": "time.perf_counter() around the work inside the process; interpreter "
            "start-up and imports excluded",
            "process_seconds": "fork to exit of the whole process, start-up included",
            "maxrss_kib": "getrusage(RUSAGE_SELF).ru_maxrss at the end of the process (KiB); "
            "Linux carries the parent's peak over at fork, so it is at least "
            "orchestrator_maxrss_kib",
            "vmhwm_kib": "VmHWM of /proc/self/status at the end: the peak of this process's "
            "own memory since exec",
        },
        "orchestrator_maxrss_kib": own_peak,
        "runs": series,
        "summary": {name: summary(values) for name, values in series.items()},
        "ratio_plan_to_csv_reader": ratio,
        "ratio_of_minimums": min(series["plan_seconds"]) / min(series["baseline_seconds"]),
        "ratio_cli_to_csv_reader_process": summary(series["cli_seconds"])["median"]
        / summary(series["baseline_process_seconds"])["median"],
        "goals": {
            "ratio_at_most": GOAL_RATIO,
            "ratio_met": ratio <= GOAL_RATIO,
            "peak_kib_at_most": GOAL_PEAK_KIB,
            "peak_kib_max": peak,
            "peak_met": peak <= GOAL_PEAK_KIB,
        },
        "profile": str(out / "profile.txt") if profile_text is not None else None,
        "steps": steps,
    }
    if len(set(codes)) > 1 or tree_digest() != tree:
        result["warning"] = "the syndicator sources changed during the run"
        print("WARNING: the syndicator sources changed during the run; run it again", flush=True)
    (out / "bench_plan.json").write_text(json.dumps(result, indent=2), encoding="utf-8")

    print()
    print(_table(series, args.runs))
    print()
    print(
        f"ratio median(plan) / median(csv.reader): {ratio:.1f} "
        f"(goal <= {GOAL_RATIO:g}: {'met' if ratio <= GOAL_RATIO else 'NOT met'}); "
        f"ratio of the fastest runs: {result['ratio_of_minimums']:.1f}"
    )
    print(
        f"peak memory of the plan: {peak / 1024:.1f} MiB "
        f"(goal <= 1 GiB: {'met' if peak <= GOAL_PEAK_KIB else 'NOT met'})"
    )
    print(
        f"(this orchestrating process peaked at {own_peak / 1024:.1f} MiB: a floor under ru_maxrss)"
    )
    print(f"results: {out / 'bench_plan.json'}")
    if profile_text is not None and steps is not None:
        print()
        print(profile_text)
        print(phases_text(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
