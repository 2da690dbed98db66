"""One bad row never stops anything: generated catalogs, CSV and YAML, through the checks and
the plan.

Hypothesis writes catalogs as members do and as they should not: prices and stocks in every
spelling (French, English, Arabic digits, huge, tiny, negative zero, NaN, exponents), SKUs
good and bad, titles in Arabic, French, English and Tamazight with commas, quotes, semicolons
and line breaks, variants, one shop's changes, YAML written in flow style with or without
quotes. For every one: reading and checking it raises nothing but "the file cannot be read";
every product the checks accept is planned on every channel without an exception, at the
steepest price rules a config holds; and the counts a pass then records fit the store.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syndicator.catalog import Catalog, load_catalog
from syndicator.common.problems import Unreadable
from syndicator.config import Config, load_config
from syndicator.planning.plan import make_plan
from syndicator.plugins import ChannelType
from syndicator.store import Store
from syndicator.sync.reconcile import record_plan
from tests.conftest import JPEG

TODAY = date(2026, 11, 25)
# The steepest rules a config holds: the largest margin, a fee just under 100 %, rates and
# roundings of every kind.
CONFIG = """
store: {{url: "sqlite:///{folder}/state.db"}}
exchange_rates:
  - {{date: 2026-11-02, USD: 0.1082, EUR: 0.0934}}
cooperatives:
  - id: atlas
    catalog: {catalog}
    channels:
      - id: amazon
        type: amazon
        currency: USD
        languages: [en, fr]
        pricing: {{fee_percent: 99.99, fee_fixed: 1000, margin_percent: 1000, rounding: ends_99}}
        categories: {{rugs: RUG, cushions: HOME}}
        settings: {{seller_id: S1, marketplace_id: ATVPDKIKX0DER}}
        credentials:
          refresh_token: {{env: A_RT}}
          client_id: {{env: A_ID}}
          client_secret: {{env: A_SECRET}}
      - id: etsy
        type: etsy
        currency: EUR
        languages: [fr, en]
        pricing: {{fee_percent: 9.5, fee_fixed: 0.45, rounding: ends_90, floor: 100000}}
        categories: {{rugs: "1036", cushions: "1057"}}
        settings: {{shop_id: 1}}
        credentials:
          keystring: {{env: E_K}}
          shared_secret: {{env: E_S}}
          refresh_token: {{env: E_RT}}
      - id: anou
        type: anou
        currency: MAD
        languages: [fr, ar, en, zgh]
        pricing: {{fee_percent: 10, rounding: step_5}}
        stock: {{buffer: 1}}
        settings: {{base_url: https://anou.example.org/api}}
        credentials:
          api_key: {{env: ANOU_KEY}}
"""
CHANNELS = ("amazon", "etsy", "anou")

# ------------------------------------------------------------------------- what members write
ODD_NUMBERS = [
    "0",
    "-0",
    "-1",
    "0.0000001",
    "0,01",
    "1e30",
    "10^30",
    "NaN",
    "Infinity",
    "-Infinity",
    "1,250",
    "1 250,50",
    "1.250,50",
    "1,250.50",
    "١٢٥٠",
    "۱۲۵۰٫۵",
    "999999.99",
    "999 999,99",
    "1000000",
    "",
    " ",
    "12 dh",
    "3,0",
    "2,5",
    "+7",
    "٣",
]
# Beyond every bound: today's pricing and store overflow on these (issue 14).
HUGE = [
    "1000000000000000000000000000",
    "1" + "0" * 30,
    "1 000 000 000 000 000 000 000 000 000 000",
    "9" * 70,
    "9" * 5000,
]
TEXTS = [
    "زربية بني ورين من الصوف الطبيعي",
    "Tapis Beni Ouarain en laine naturelle",
    "Almonds, argan oil and honey.",
    "Coussin « berbère » ; 40×40",
    'Rug 5" wide',
    "ⵜⴰⵣⵔⴱⵉⵜ ⵏ ⵓⵟⵍⵙ",
    "Huile d'argan, 250 ml",
    "line one\nline two",
    "24,90",
    "- not a list",
    "#1 rug: the best",
    "null",
    "yes",
]


def usually(good: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly what a member means to write, sometimes what goes wrong: so that most rows
    are accepted and go on to the plan, and every kind of mistake still comes up."""
    return st.sampled_from(range(10)).flatmap(lambda n: good if n < 7 else odd)


def amount() -> st.SearchStrategy[str]:
    plain = st.decimals(min_value=1, max_value=999_999, places=2, allow_nan=False)
    return usually(
        st.one_of(
            plain.map(str),
            plain.map(lambda d: f"{d:,}".replace(",", " ").replace(".", ",")),
            st.integers(0, 50).map(str),
        ),
        st.one_of(
            st.sampled_from(ODD_NUMBERS), st.sampled_from(HUGE), st.integers(-5, 10**31).map(str)
        ),
    )


def count() -> st.SearchStrategy[str]:
    return usually(st.integers(0, 30).map(str), st.one_of(st.sampled_from(HUGE), amount()))


def text() -> st.SearchStrategy[str]:
    alphabet = st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\t,;:\"'#{}[]"
    )
    return usually(st.sampled_from(TEXTS), st.text(alphabet, max_size=40))


def sku() -> st.SearchStrategy[str]:
    return usually(
        st.from_regex(r"[A-Z]{2,3}-[0-9]{1,3}(/[A-Z])?", fullmatch=True),
        st.sampled_from(["", "TAPIS BLEU", "R" * 41, "R-1", "é-1"]),
    )


@st.composite
def unit(draw: st.DrawFn, variant: bool) -> dict[str, str]:
    fields: dict[str, str] = {"sku": draw(sku()), "stock": draw(count())}
    if draw(st.booleans()) or not variant:
        fields["price"] = draw(amount())
    if variant:
        fields["option_size"] = draw(text())
    else:
        languages = st.lists(
            st.sampled_from(["fr", "ar", "en", "zgh"]),
            min_size=int(draw(usually(st.just("1"), st.just("0")))),
            max_size=3,
            unique=True,
        )
        for lang in draw(languages):
            fields[f"title_{lang}"] = draw(text())
        fields["category"] = draw(usually(st.just("rugs"), st.sampled_from(["", "other"])))
        images = usually(st.just("images/rug.jpg"), st.sampled_from(["", "images/none.jpg"]))
        fields["images"] = draw(images)
    if draw(st.booleans()):
        fields["etsy_price"] = draw(amount())
    if draw(st.booleans()):
        fields["anou_stock_buffer"] = draw(count())
    if draw(st.booleans()):
        enabled = usually(st.sampled_from(["non", "oui"]), st.sampled_from(["peut-être", ""]))
        fields["amazon_enabled"] = draw(enabled)
    if not variant and draw(st.booleans()):
        fields["etsy_title_en"] = draw(text())
    return fields


@st.composite
def products(draw: st.DrawFn) -> list[tuple[dict[str, str], list[dict[str, str]]]]:
    count = draw(st.integers(1, 4))
    return [
        (draw(unit(False)), draw(st.lists(unit(True), max_size=2 if i % 2 else 0)))
        for i in range(count)
    ]


# ------------------------------------------------------------------------- the two formats
COLUMNS = [
    "sku",
    "parent_sku",
    "title_ar",
    "title_fr",
    "title_en",
    "title_zgh",
    "category",
    "price",
    "stock",
    "images",
    "option_size",
    "etsy_price",
    "anou_stock_buffer",
    "amazon_enabled",
    "etsy_title_en",
]


def as_csv(items: list[tuple[dict[str, str], list[dict[str, str]]]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for product, variants in items:
        writer.writerow([product.get(c, "") for c in COLUMNS])
        for v in variants:
            row = dict(v, parent_sku=product["sku"])
            writer.writerow([row.get(c, "") for c in COLUMNS])
    return out.getvalue()


_PLAIN = re.compile(r"[\w][\w ,.'/-]*\Z")


def scalar(value: str, plain: bool) -> str:
    """A YAML scalar: plain when asked and it could be (commas included, which is the
    point), else double-quoted."""
    if plain and _PLAIN.match(value) and value == value.strip():
        return value
    return json.dumps(value, ensure_ascii=False)


def as_yaml(items: list[tuple[dict[str, str], list[dict[str, str]]]], plain: bool) -> str:
    def flow(mapping: dict[str, str]) -> str:
        return "{" + ", ".join(f"{k}: {scalar(v, plain)}" for k, v in mapping.items()) + "}"

    def body(fields: dict[str, str], indent: str) -> Iterator[str]:
        titles = {k[6:]: v for k, v in fields.items() if k.startswith("title_")}
        shop: dict[str, dict[str, str]] = {}
        for key, value in fields.items():
            if key.startswith("title_") or key == "option_size":
                continue
            channel, _, rest = key.partition("_")
            if channel in CHANNELS:
                if rest.startswith("title_"):
                    shop.setdefault(channel, {})["title"] = flow({rest[6:]: value})
                else:
                    shop.setdefault(channel, {})[rest] = scalar(value, plain)
            elif key == "images":
                yield f"{indent}images: [{scalar(value, plain)}]"
            else:
                yield f"{indent}{key}: {scalar(value, plain)}"
        if titles:
            yield f"{indent}title: {flow(titles)}"
        if "option_size" in fields:
            yield f"{indent}options: {flow({'size': fields['option_size']})}"
        if shop:
            yield f"{indent}channels:"
            for channel, values in shop.items():
                inner = ", ".join(f"{k}: {v}" for k, v in values.items())
                yield f"{indent}  {channel}: {{{inner}}}"

    lines = ["cooperative: atlas", "currency: MAD", "products:"]
    for product, variants in items:
        first, *rest = body(product, "    ")
        lines += ["  - " + first.strip(), *rest]
        if variants:
            lines.append("    variants:")
            for v in variants:
                vfirst, *vrest = body(v, "        ")
                lines += ["      - " + vfirst.strip(), *vrest]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------- the world
@dataclass
class World:
    folder: Path
    config: Config
    store: Store
    catalog: Path


def make_world(folder: Path, name: str, channel_types: dict[str, ChannelType]) -> World:
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "rug.jpg").write_bytes(JPEG)
    config_path = folder / "syndicator.yaml"
    text = CONFIG.format(folder=folder.as_posix(), catalog=name)
    config_path.write_text(textwrap.dedent(text), encoding="utf-8")
    config = load_config(config_path, channel_types)
    return World(folder, config, Store(config.database_url), folder / name)


@pytest.fixture
def worlds(tmp_path: Path, channel_types: dict[str, ChannelType]) -> Iterator[dict[str, World]]:
    """A cooperative with a CSV catalog and one with a YAML catalog, each with its store."""
    made = {
        "csv": make_world(tmp_path / "csv", "catalog.csv", channel_types),
        "yaml": make_world(tmp_path / "yaml", "catalog.yaml", channel_types),
    }
    yield made
    for world in made.values():
        world.store.close()


def check_and_plan(world: World, text: str, *, examples: bool = True) -> Catalog | None:
    """What the property says for one file: the checks raise nothing but Unreadable, and
    every accepted unit is planned on every channel, and recorded, without an exception.
    ``examples``: called from a hypothesis test (what it saw is counted)."""
    note = event if examples else (lambda _: None)
    world.catalog.write_text(text, encoding="utf-8")
    try:
        catalog = load_catalog(world.catalog, channels=CHANNELS, display=world.catalog.name)
    except Unreadable:
        catalog = None
    report = make_plan(world.config, world.store, today=TODAY, incremental=False)
    (cplan,) = report.cooperatives
    if catalog is None:
        note("unreadable")
        assert cplan.unreadable is not None
        return None
    assert cplan.catalog is not None
    accepted = {u.sku for u in catalog.units()}
    note("some units accepted" if accepted else "no unit accepted")
    note("some held" if catalog.held else "none held")
    assert {u.sku for u in cplan.catalog.units()} == accepted
    for channel in CHANNELS:
        planned = {op.sku for op in report.ops() if op.channel == channel}
        disabled = {
            u.sku for u in catalog.units() if any(c.enabled is False for c in u.override(channel))
        }
        assert accepted - disabled <= planned, channel
    record_plan(world.store, cplan, datetime.now(UTC))
    return catalog


Items = list[tuple[dict[str, str], list[dict[str, str]]]]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=products(), delimiter=st.sampled_from([";", ",", "\t"]))
def test_generated_csv_catalogs_are_checked_and_planned_without_an_exception(
    worlds: dict[str, World], items: Items, delimiter: str
) -> None:
    check_and_plan(worlds["csv"], as_csv(items, delimiter))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=products(), plain=st.booleans())
def test_generated_yaml_catalogs_are_checked_and_planned_without_an_exception(
    worlds: dict[str, World], items: Items, plain: bool
) -> None:
    check_and_plan(worlds["yaml"], as_yaml(items, plain))


def test_the_largest_accepted_values_are_planned_and_recorded(
    worlds: dict[str, World],
) -> None:
    items: Items = [
        (
            {
                "sku": "MAX-1",
                "title_fr": "Tapis",
                "category": "rugs",
                "price": "999 999,99",
                "stock": "999999",
                "images": "images/rug.jpg",
                "etsy_price": "999999.99",
                "anou_stock_buffer": "999999",
            },
            [],
        ),
        (
            {"sku": "HUGE-2", "title_fr": "Tapis", "category": "rugs", "price": "1" + "0" * 27},
            [],
        ),
        (
            {"sku": "HUGE-3", "title_fr": "Tapis", "category": "rugs", "price": "450"},
            [{"sku": "HUGE-3-S", "option_size": "S", "stock": "1" + "0" * 30}],
        ),
    ]
    for name, text in (("csv", as_csv(items, ";")), ("yaml", as_yaml(items, True))):
        catalog = check_and_plan(worlds[name], text, examples=False)
        assert catalog is not None
        assert [u.sku for u in catalog.units()] == ["MAX-1"], name
        assert set(catalog.held) == {"HUGE-2", "HUGE-3", "HUGE-3-S"}, name
