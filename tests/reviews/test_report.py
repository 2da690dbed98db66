"""The satisfaction report and its chart: the rate and its Wilson interval against values
worked out by hand, what is kept out of the rate, months in UTC, the command's JSON and
table, the PNG; and reviews left by the demo's simulated buyers, through real passes."""

from __future__ import annotations

import itertools
import json
import random
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from matplotlib.container import ErrorbarContainer
from sqlalchemy import insert, select
from typer.testing import CliRunner

from sandbox.demo import start
from syndicator.cli import app
from syndicator.config import load_config
from syndicator.domain.reviews import Review
from syndicator.plugins import load_channel_types
from syndicator.reviews.chart import MAX_SERIES, satisfaction_figure, write_chart
from syndicator.reviews.records import record_reviews
from syndicator.reviews.report import (
    SELLER_FEEDBACK_REASON,
    Z_95,
    GroupBy,
    Ratings,
    ReviewReport,
    satisfaction_report,
    wilson_interval,
)
from syndicator.store import Store
from syndicator.store.reviews import ReviewFilter, month_of
from syndicator.store.schema import reviews
from syndicator.sync.reconcile import sync_once
from tests.conftest import REPO
from tests.reviews.kit import FEEDBACK, JAN, NOW, PRODUCT, add, rendered, report, stars


# --------------------------------------------------------------------------- the world
def raw(store: Store, channel: str, rating: int | None, review_id: str) -> None:
    """A product review written past the store's checks (a rating the review store would
    refuse), to show that the report never counts one."""
    with store.write() as conn:
        conn.execute(
            insert(reviews).values(
                cooperative="atlas-rugs",
                channel=channel,
                review_id=review_id,
                sku="ATL-BNO-001",
                rating=rating,
                source_kind="product_review",
                complete_sample=True,
                created_at=JAN,
                created_month=month_of(JAN),
                updated_at=JAN,
                recorded_at=NOW,
            )
        )


def group(r: ReviewReport, label: str) -> Ratings:
    (found,) = [g.ratings for g in r.groups if g.label == label]
    return found


# --------------------------------------------------------------------------- the statistics
def test_the_wilson_interval_of_8_of_10_worked_out_by_hand() -> None:
    # p = 8/10 = 0.8, z = 1.959964, z² = 3.841459, z²/n = 0.384146, 1 + z²/n = 1.384146
    # centre = (p + z²/2n) / (1 + z²/n) = (0.8 + 0.192073) / 1.384146 = 0.716740
    # half   = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)
    #        = 1.416010 · sqrt(0.016 + 0.009604) = 1.416010 · 0.160011 = 0.226578
    # interval = [0.716740 - 0.226578, 0.716740 + 0.226578] = [0.490162, 0.943318]
    i = wilson_interval(8, 10)
    assert i is not None
    assert (round(i.low, 4), round(i.high, 4)) == (0.4902, 0.9433)
    assert i.low == pytest.approx(0.490162, abs=1e-6)
    assert i.high == pytest.approx(0.943318, abs=1e-6)


def test_the_wilson_interval_of_50_of_100_is_symmetric_around_a_half() -> None:
    # p = 0.5: centre = (0.5 + 0.019207) / 1.038415 = 0.5 exactly;
    # half = 1.959964 / 1.038415 · sqrt(0.0025 + 0.0000960) = 1.887458 · 0.050951 = 0.096168
    i = wilson_interval(50, 100)
    assert i is not None
    assert (round(i.low, 4), round(i.high, 4)) == (0.4038, 0.5962)
    assert i.low + i.high == pytest.approx(1.0)


def test_the_interval_at_0_and_100_percent_has_its_exact_end() -> None:
    # All satisfied (12 of 12): low = n / (n + z²) = 12 / 15.841459 = 0.757506, high = 1.
    # None satisfied (0 of 7): low = 0, high = z² / (n + z²) = 3.841459 / 10.841459 = 0.354330.
    every = wilson_interval(12, 12)
    none = wilson_interval(0, 7)
    assert every is not None and none is not None
    assert (round(every.low, 4), every.high) == (0.7575, 1.0)
    assert every.low == pytest.approx(12 / (12 + Z_95**2))
    assert (none.low, round(none.high, 4)) == (0.0, 0.3543)
    assert none.high == pytest.approx(Z_95**2 / (7 + Z_95**2))


def test_no_rating_no_rate_and_no_interval() -> None:
    assert wilson_interval(0, 0) is None
    empty = Ratings()
    assert (empty.n, empty.rate, empty.interval, empty.mean) == (0, None, None, None)
    assert empty.to_json() == {
        "n": 0,
        "satisfied": 0,
        "rate": None,
        "low": None,
        "high": None,
        "mean_rating": None,
        "reviews": 0,
        "ratings": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
        "unrated": 0,
        "out_of_range": 0,
    }
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


# --------------------------------------------------------------------------- the report
def test_rate_mean_and_interval_of_a_channel_worked_out_by_hand(store: Store) -> None:
    # etsy: 1 × 1★, 1 × 3★, 3 × 4★, 5 × 5★ -> n = 10, satisfied = 3 + 5 = 8, rate 0.8,
    # mean = (1 + 3 + 12 + 25) / 10 = 4.1, interval [0.4902, 0.9433] (see above).
    add(store, "etsy", stars(1, 0, 1, 3, 5))
    etsy = group(report(store), "etsy")
    assert (etsy.n, etsy.satisfied, etsy.rate, etsy.mean) == (10, 8, 0.8, pytest.approx(4.1))
    assert etsy.to_json(counts=False) == {
        "n": 10,
        "satisfied": 8,
        "rate": 0.8,
        "low": 0.4902,
        "high": 0.9433,
        "mean_rating": 4.1,
    }


def test_all_five_stars_and_all_one_star(store: Store) -> None:
    add(store, "etsy", stars(0, 0, 0, 0, 12))
    add(store, "anou", stars(7, 0, 0, 0, 0))
    r = report(store)
    etsy, anou = group(r, "etsy"), group(r, "anou")
    # 12 of 12: rate 1, mean 5, interval [0.7575, 1]; 0 of 7: rate 0, mean 1, [0, 0.3543]
    assert etsy.to_json(counts=False) == {
        "n": 12, "satisfied": 12, "rate": 1.0, "low": 0.7575, "high": 1.0, "mean_rating": 5.0,
    }  # fmt: skip
    assert anou.to_json(counts=False) == {
        "n": 7, "satisfied": 0, "rate": 0.0, "low": 0.0, "high": 0.3543, "mean_rating": 1.0,
    }  # fmt: skip
    # all: 12 of 19 -> 0.6316, mean (12·5 + 7·1) / 19 = 3.5263
    assert r.overall.to_json(counts=False)["rate"] == 0.6316
    assert r.overall.to_json(counts=False)["mean_rating"] == 3.53


def test_a_group_with_no_rated_review_has_no_rate_and_says_so(store: Store) -> None:
    add(store, "etsy", stars(0, 0, 1, 1, 0))
    raw(store, "anou", None, "no-stars-1")  # no rating: left out of every figure
    raw(store, "anou", 9, "nine-stars")  # out of 1..5: likewise
    r = report(store)
    anou = group(r, "anou")
    assert (anou.n, anou.rate, anou.interval, anou.mean) == (0, None, None, None)
    assert (anou.unrated, anou.out_of_range) == (1, 1)
    assert r.overall.n == 2 and r.overall.rate == 0.5
    data = r.to_json()
    (anou_json,) = [g for g in data["groups"] if g["group"] == "anou"]
    assert (anou_json["rate"], anou_json["low"], anou_json["high"]) == (None, None, None)
    assert data["excluded"] == {
        "unrated": 1,
        "out_of_range": 1,
        "seller_feedback": 0,
        "incomplete_product_reviews": 0,
        "other_kinds": {},
    }
    text = rendered(r)
    assert "none rated" in text
    assert "1 product review(s) without a rating are in no rate." in text
    assert "1 product review(s) rated outside 1 to 5 are in no rate." in text


def test_seller_feedback_is_counted_apart_and_never_in_a_rate(store: Store) -> None:
    add(store, "etsy", stars(0, 0, 0, 1, 3))
    # Amazon's feedback report: only 1 to 3 stars, an incomplete sample, no SKU.
    add(store, "amazon", stars(2, 1, 1), source=FEEDBACK, complete_sample=False, sku=None)
    # A product review from a source holding only some ratings: apart as well.
    add(store, "anou", [5, 5], complete_sample=False, prefix="partial")
    r = report(store)
    assert [g.label for g in r.groups] == ["etsy"]
    assert (r.overall.n, r.overall.rate) == (4, 1.0)  # 4 of 4: the feedback changes nothing
    apart = {(a.channel, a.source_kind): a for a in r.apart}
    feedback = apart["amazon", "seller_feedback"]
    assert feedback.ratings.stars == (2, 1, 1, 0, 0) and not feedback.complete_sample
    assert feedback.reason == SELLER_FEEDBACK_REASON
    assert apart["anou", "product_review"].ratings.stars == (0, 0, 0, 0, 2)
    data = r.to_json()
    assert data["excluded"]["seller_feedback"] == 4
    assert data["excluded"]["incomplete_product_reviews"] == 2
    (shown,) = [a for a in data["apart"] if a["channel"] == "amazon"]
    assert shown["ratings"] == {"1": 2, "2": 1, "3": 1, "4": 0, "5": 0}
    assert "rate" not in shown and shown["reason"].startswith("Seller feedback rates the seller")
    text = rendered(r)
    assert "Kept apart, in no rate" in text and "seller feedback" in text
    assert "holds only 1 to 3 star feedback" in text


def test_months_are_calendar_months_in_utc_across_a_year_boundary(store: Store) -> None:
    new_year = datetime(2026, 1, 1, tzinfo=UTC)
    add(store, "etsy", [5], at=new_year - timedelta(seconds=1), prefix="eve")  # 2025-12
    add(store, "etsy", [1, 4], at=new_year, prefix="day")  # 2026-01
    # 00:30 in Paris on New Year's Day is still 2025 in UTC.
    paris = timezone(timedelta(hours=1))
    add(store, "anou", [2], at=datetime(2026, 1, 1, 0, 30, tzinfo=paris), prefix="paris")
    add(store, "anou", [4], at=datetime(2027, 1, 1, tzinfo=UTC), prefix="next")  # a year on
    r = report(store)
    assert [(m.month, m.ratings.n, m.ratings.satisfied) for m in r.months] == [
        ("2025-12", 2, 1),
        ("2026-01", 2, 1),
        ("2027-01", 1, 1),
    ]
    etsy = {m.month: m.ratings.stars for m in next(g for g in r.groups if g.label == "etsy").months}
    assert etsy == {"2025-12": (0, 0, 0, 0, 1), "2026-01": (1, 0, 0, 1, 0)}
    by_month = report(store, GroupBy.MONTH)
    assert [g.label for g in by_month.groups] == ["2025-12", "2026-01", "2027-01"]
    assert by_month.groups[0].ratings.rate == 0.5


def test_reviews_without_a_sku_are_in_all_but_in_no_sku_group(store: Store) -> None:
    add(store, "etsy", [5, 4], sku="ATL-BNO-001")
    add(store, "etsy", [3], sku="ATL-CSH-008", prefix="cushion")
    add(store, "etsy", [1, 2], sku=None, prefix="unmatched")
    add(store, "etsy", [5], sku="ATL-BNO-001", cooperative="zellige-fes", prefix="same-sku")
    r = report(store, GroupBy.SKU)
    assert [(g.key, g.ratings.n) for g in r.groups] == [
        (("atlas-rugs", "ATL-BNO-001"), 2),
        (("atlas-rugs", "ATL-CSH-008"), 1),
        (("zellige-fes", "ATL-BNO-001"), 1),  # another cooperative's product
    ]
    assert r.ungrouped.n == 2 and r.overall.n == 6
    assert sum(g.ratings.n for g in r.groups) + r.ungrouped.n == r.overall.n
    data = r.to_json()
    assert data["groups"][0]["key"] == {"cooperative": "atlas-rugs", "sku": "ATL-BNO-001"}
    assert data["ungrouped"]["n"] == 2 and data["ungrouped"]["reason"].startswith("no SKU")
    assert "2 rated product review(s) have no SKU" in rendered(r)


def test_by_cooperative_and_by_language(store: Store) -> None:
    add(store, "etsy", [5, 4, 1], language="fr")
    add(store, "etsy", [5], language="ar", cooperative="zellige-fes", prefix="ar")
    add(store, "anou", [2], language=None, prefix="short")  # "Ok": no language known
    coops = report(store, GroupBy.COOPERATIVE)
    assert [(g.label, g.ratings.n) for g in coops.groups] == [("atlas-rugs", 4), ("zellige-fes", 1)]
    languages = report(store, GroupBy.LANGUAGE)
    assert [(g.label, g.ratings.n) for g in languages.groups] == [("ar", 1), ("fr", 3)]
    assert languages.ungrouped.n == 1 and languages.overall.n == 5


def test_filters_by_time_cooperative_and_channel(store: Store) -> None:
    add(store, "etsy", [5], at=JAN, prefix="jan")
    add(store, "etsy", [1], at=JAN + timedelta(days=40), prefix="feb")
    add(store, "anou", [4], at=JAN, cooperative="zellige-fes")
    later = report(store, where=ReviewFilter(since=JAN + timedelta(days=1)))
    assert [(g.label, g.ratings.n, g.ratings.rate) for g in later.groups] == [("etsy", 1, 0.0)]
    only = report(store, where=ReviewFilter(cooperative="zellige-fes"))
    assert [g.label for g in only.groups] == ["anou"]
    assert report(store, where=ReviewFilter(channel="anou")).overall.n == 1


# --------------------------------------------------------------------------- against every review
def varied_reviews(store: Store, count: int = 600, seed: int = 7) -> list[tuple[str, str, Review]]:
    """``count`` seeded reviews written through the review store, and what was written: two
    cooperatives; Etsy and ANOU product reviews (a few from a partial source, some without a
    SKU or a language), Amazon seller feedback of 1 to 3 stars; over 14 months, many in the
    last and first hour of a month, each given in one of four time zones."""
    rng = random.Random(seed)
    zones = [timezone(timedelta(hours=h)) for h in (-5, 0, 1, 9)]
    written: list[tuple[str, str, Review]] = []
    for i in range(count):
        cooperative = rng.choice(["atlas-rugs", "zellige-fes"])
        channel = rng.choice(["etsy", "anou", "amazon"])
        year, month = divmod(2024 * 12 + 11 + rng.randrange(14), 12)
        start = datetime(year, month + 1, 1, tzinfo=UTC)
        edge = rng.choice(["first hour", "last hour", "anywhere"])
        if edge == "first hour":
            at = start + timedelta(seconds=rng.randrange(3600))
        elif edge == "last hour":
            at = start - timedelta(seconds=1 + rng.randrange(3600))
        else:
            at = start + timedelta(seconds=rng.randrange(27 * 86_400))
        feedback = channel == "amazon"
        written.append(
            (
                cooperative,
                channel,
                Review(
                    review_id=f"{channel}-{i}",
                    source=FEEDBACK if feedback else PRODUCT,
                    rating=rng.randint(1, 3) if feedback else rng.randint(1, 5),
                    text=None,
                    language=rng.choice(["fr", "en", "ar", None]),
                    created_at=at.astimezone(rng.choice(zones)),
                    sku=None if feedback else rng.choice(["ATL-BNO-001", "ZF-طاولة-1", None]),
                    complete_sample=not feedback and rng.random() > 0.05,
                ),
            )
        )
    # and one exactly at each time a filter below starts or stops at
    for i, at in enumerate(f.since or f.until for f in FILTERS if f.since or f.until):
        assert at is not None
        written.append(("atlas-rugs", "etsy", Review(f"edge-{i}", PRODUCT, 4, None, "fr", at)))
    with store.write() as conn:
        for (cooperative, channel), page in itertools.groupby(
            sorted(written, key=lambda w: w[:2]), key=lambda w: w[:2]
        ):
            page_reviews = [r for _, _, r in page]
            assert not record_reviews(conn, cooperative, channel, page_reviews, {}, NOW).skipped
    return written


def counted_by_hand(
    written: list[tuple[str, str, Review]], by: GroupBy, where: ReviewFilter
) -> dict[str, Any]:
    """What the report must find, counted review by review in Python."""
    groups: dict[Any, dict[str, list[int]]] = {}
    apart: dict[tuple[str, str, str, bool], list[int]] = {}
    for cooperative, channel, r in written:
        at = r.created_at.astimezone(UTC)
        if (
            (where.since is not None and at < where.since)
            or (where.until is not None and at >= where.until)
            or where.cooperative not in (None, cooperative)
            or where.channel not in (None, channel)
        ):
            continue
        if r.source is not PRODUCT or not r.complete_sample:
            key = (cooperative, channel, str(r.source), r.complete_sample)
            apart.setdefault(key, [0] * 5)[r.rating - 1] += 1
            continue
        month = f"{at.year:04d}-{at.month:02d}"
        group = {
            GroupBy.CHANNEL: (channel,),
            GroupBy.COOPERATIVE: (cooperative,),
            GroupBy.SKU: (cooperative, r.sku) if r.sku else None,
            GroupBy.MONTH: (month,),
            GroupBy.LANGUAGE: (r.language,) if r.language else None,
        }[by]
        groups.setdefault(group, {}).setdefault(month, [0] * 5)[r.rating - 1] += 1
    ungrouped = groups.pop(None, {})
    return {
        "groups": {key: {m: tuple(s) for m, s in months.items()} for key, months in groups.items()},
        "ungrouped": tuple(map(sum, zip(*ungrouped.values(), strict=True))) or (0,) * 5,
        "apart": {key: tuple(stars) for key, stars in apart.items()},
    }


def found(r: ReviewReport) -> dict[str, Any]:
    return {
        "groups": {g.key: {m.month: m.ratings.stars for m in g.months} for g in r.groups},
        "ungrouped": r.ungrouped.stars,
        "apart": {
            (a.cooperative, a.channel, a.source_kind, a.complete_sample): a.ratings.stars
            for a in r.apart
        },
    }


FILTERS = [
    ReviewFilter(),
    # mid-month and in a month's last hour: only some of the boundary month's reviews count
    ReviewFilter(since=datetime(2025, 3, 14, 12, 0, tzinfo=UTC)),
    ReviewFilter(since=datetime(2025, 6, 1, 0, 20, tzinfo=timezone(timedelta(hours=1)))),
    ReviewFilter(until=datetime(2025, 9, 30, 23, 30, tzinfo=UTC)),
    ReviewFilter(cooperative="zellige-fes"),
    ReviewFilter(channel="anou"),
    ReviewFilter(since=datetime(2025, 2, 1, tzinfo=UTC), cooperative="atlas-rugs", channel="etsy"),
]


@pytest.mark.parametrize("by", list(GroupBy))
def test_every_figure_agrees_with_counting_each_review_by_hand(store: Store, by: GroupBy) -> None:
    written = varied_reviews(store)
    for where in FILTERS:
        r = report(store, by, where)
        expected = counted_by_hand(written, by, where)
        assert found(r) == expected, where
        assert [g.key for g in r.groups] == sorted(expected["groups"])  # in order, months too
        assert all(list(g.months) == sorted(g.months, key=lambda m: m.month) for g in r.groups)
        assert r.overall.n == sum(g.ratings.n for g in r.groups) + r.ungrouped.n
        for g in r.groups:  # a group's figures are its months' added up
            months = [m.ratings.stars for m in g.months]
            assert g.ratings.stars == tuple(map(sum, zip(*months, strict=True)))


def test_the_json_written_piece_by_piece_is_the_reports_json(store: Store) -> None:
    assert "".join(report(store).iter_json()) == json.dumps(report(store).to_json())
    varied_reviews(store, count=200)
    raw(store, "anou", None, "no-stars-1")  # a month whose only review has no rating
    for by in GroupBy:
        for where in FILTERS[:3]:
            r = report(store, by, where)
            text = "".join(r.iter_json())
            assert text == json.dumps(r.to_json(), ensure_ascii=False)
            if by is GroupBy.SKU:
                assert '"sku": "ZF-طاولة-1"' in text  # written as it is


# --------------------------------------------------------------------------- people and scripts
def demo_config(root: Path) -> Path:
    """The bundled config and catalogs copied into ``root``."""
    shutil.copytree(REPO / "config", root / "config", ignore=shutil.ignore_patterns("var"))
    return root / "config" / "demo.yaml"


def test_the_command_prints_json_and_a_table(store: Store, tmp_path: Path) -> None:
    add(store, "etsy", stars(1, 0, 1, 3, 5))
    add(store, "amazon", [1, 3], source=FEEDBACK, complete_sample=False, sku=None)
    config = demo_config(tmp_path)
    env = {"SYNDICATOR_DATABASE_URL": str(store.url), "COLUMNS": "120"}
    runner = CliRunner()
    base = ["reviews", "report", "--config", str(config)]

    result = runner.invoke(app, [*base, "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "channel"
    (etsy,) = data["groups"]
    assert (etsy["group"], etsy["n"], etsy["rate"], etsy["low"], etsy["high"]) == (
        "etsy", 10, 0.8, 0.4902, 0.9433,
    )  # fmt: skip
    assert etsy["months"] == [
        {"month": "2026-01", "n": 10, "satisfied": 8, "rate": 0.8, "low": 0.4902,
         "high": 0.9433, "mean_rating": 4.1},
    ]  # fmt: skip
    assert data["excluded"]["seller_feedback"] == 2
    assert data["definition"]["z"] == Z_95

    table = runner.invoke(app, base, env=env)
    assert table.exit_code == 0, table.output
    for said in ("Satisfaction by channel", "80.0 %", "49.0 – 94.3 %", "4.10", "Trend by month"):
        assert said in table.stdout, said
    assert "seller feedback" in table.stdout and "atlas-rugs/amazon" in table.stdout

    later = runner.invoke(app, [*base, "--since", "2026-06-01", "--by", "sku"], env=env)
    assert later.exit_code == 0 and "No review in the store (since 2026-06-01" in later.stdout
    wrong = runner.invoke(app, [*base, "--by", "colour"], env=env)
    assert wrong.exit_code == 2 and "--by takes channel, cooperative, sku" in wrong.stderr
    bad_date = runner.invoke(app, [*base, "--since", "last week"], env=env)
    assert bad_date.exit_code == 2
    unknown = runner.invoke(app, [*base, "--cooperative", "atlas-rug"], env=env)
    assert unknown.exit_code == 2 and "no cooperative 'atlas-rug' in the config" in unknown.stderr
    shop = runner.invoke(app, [*base, "--cooperative", "atlas-rugs", "--channel", "anou"], env=env)
    assert shop.exit_code == 0
    assert "No review in the store (cooperative atlas-rugs, channel anou)" in shop.stdout


# --------------------------------------------------------------------------- the chart
def series_labels(fig: Any) -> list[str]:
    (ax,) = fig.axes
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_chart_has_a_line_with_intervals_per_channel(store: Store, tmp_path: Path) -> None:
    add(store, "etsy", stars(1, 0, 1, 3, 5))
    add(store, "etsy", [5, 4], at=JAN + timedelta(days=62), prefix="march")  # February empty
    add(store, "anou", [4, 2], prefix="anou")
    add(store, "amazon", [1], source=FEEDBACK, complete_sample=False, sku=None)
    r = report(store)
    fig = satisfaction_figure(r)
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2  # anou and etsy; seller feedback is no series
    assert series_labels(fig) == ["anou (n=2)", "etsy (n=12)"]
    assert ax.get_ylim() == (0, 100)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01", "2026-02", "2026-03"]
    assert fig.get_suptitle().startswith("Satisfaction by month and channel")
    assert ax.get_ylabel() and ax.get_xlabel() == "month (UTC)"
    assert "95 % Wilson intervals" in ax.get_title(loc="left")
    assert "1 seller feedback are in no rate" in ax.get_title(loc="left")
    assert {t.get_text() for t in ax.texts} >= {"10", "2"}  # each point's n

    path = write_chart(r, tmp_path / "out" / "satisfaction.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert 5_000 < len(data) < 250_000


def test_the_chart_shows_the_largest_groups_or_one_line_by_month(store: Store) -> None:
    for i in range(MAX_SERIES + 2):
        add(store, "etsy", [5] * (i + 1), sku=f"SKU-{i}", prefix=f"s{i}")
    by_sku = report(store, GroupBy.SKU)
    fig = satisfaction_figure(by_sku)
    assert len(fig.axes[0].containers) == MAX_SERIES
    assert series_labels(fig)[0] == "atlas-rugs/SKU-2 (n=3)"  # SKU-0 and -1: the smallest
    assert f"The {MAX_SERIES} largest of {MAX_SERIES + 2} groups" in fig.axes[0].get_title(
        loc="left"
    )
    by_month = satisfaction_figure(report(store, GroupBy.MONTH))
    assert series_labels(by_month) == ["all (n=36)"]


def test_an_empty_store_still_makes_a_chart_that_says_so(store: Store, tmp_path: Path) -> None:
    r = report(store)
    fig = satisfaction_figure(r)
    assert len(fig.axes[0].containers) == 0
    assert any(t.get_text() == "no rated product review" for t in fig.axes[0].texts)
    assert write_chart(r, tmp_path / "empty.png").read_bytes().startswith(b"\x89PNG")
    assert "No review in the store." in rendered(r)


# --------------------------------------------------------------------------- the demo's buyers
def test_reviews_of_the_demos_buyers_show_in_the_report_and_the_chart(tmp_path: Path) -> None:
    """The demo sandbox in this process, its buyers ordering and reviewing when told to (their
    own thread is off), real passes pulling the reviews, then the report and the chart."""
    path = demo_config(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "sandbox:\n  enabled: true\n",
            "sandbox:\n  enabled: true\n  buyers: {enabled: false, seed: 11}\n",
        ),
        encoding="utf-8",
    )
    demo = start(load_config(path, load_channel_types()))
    store = Store(demo.config.database_url)
    try:
        sync_once(demo.config, store)  # list the catalogs, so that buyers can order
        product_reviews = []
        for channel in ("etsy", "anou"):
            shop = demo.shop("zellige-fes", channel)
            for _ in range(3):
                assert demo.buyers.order(shop=shop) is not None
                reviewed = demo.buyers.review(shop=shop)
                assert reviewed is not None and reviewed.rating is not None
                product_reviews.append(reviewed)
        amazon = demo.shop("zellige-fes", "amazon")
        feedback = []
        for _ in range(12):  # until one rates 1 to 3 stars: Amazon's report shows only those
            assert demo.buyers.order(shop=amazon) is not None
            left = demo.buyers.review(shop=amazon)
            assert left is not None and left.rating is not None
            feedback.append(left.rating)
            if left.rating <= 3:
                break
        assert min(feedback) <= 3
        sync_once(demo.config, store, cooperative="zellige-fes", reviews=True)

        with store.read() as conn:
            r = satisfaction_report(conn, GroupBy.CHANNEL, ReviewFilter(cooperative="zellige-fes"))
            stored = conn.execute(
                select(reviews.c.channel, reviews.c.rating, reviews.c.created_at)
            ).all()
    finally:
        store.close()
        demo.stop()

    assert len(stored) == len(product_reviews) + sum(1 for s in feedback if s <= 3)
    for channel in ("etsy", "anou"):
        given = [a.rating for a in product_reviews if a.shop.channel == channel]
        figures = group(r, channel)
        assert figures.n == 3
        assert figures.satisfied == sum(1 for s in given if s is not None and s >= 4)
        assert figures.mean == pytest.approx(sum(s for s in given if s is not None) / 3)
    assert [g.label for g in r.groups] == ["anou", "etsy"]  # Amazon's feedback is no group
    (apart,) = r.apart
    assert (apart.channel, apart.source_kind) == ("amazon", "seller_feedback")
    assert apart.ratings.reviews == sum(1 for s in feedback if s <= 3)  # 4 and 5: not reported
    months = {at.strftime("%Y-%m") for channel, _, at in stored if channel != "amazon"}
    assert [m.month for m in r.months] == sorted(months)  # the month each buyer wrote in

    fig = satisfaction_figure(r)
    assert series_labels(fig) == ["anou (n=3)", "etsy (n=3)"]
    assert len(fig.axes[0].containers) == 2


def test_the_report_leaves_the_connections_sort_threads_as_they_were(store: Store) -> None:
    add(store, "etsy", [5, 4])
    with store.read() as conn:
        before = conn.exec_driver_sql("PRAGMA threads").scalar()
        assert satisfaction_report(conn).overall.n == 2
        assert conn.exec_driver_sql("PRAGMA threads").scalar() == before
