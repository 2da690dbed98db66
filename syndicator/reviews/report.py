"""The satisfaction report: how buyers rate the products of each group, and how sure that is.

docs/reviews.md ("The satisfaction report") defines every figure for the analytics team; in
short:

- a group's **satisfaction rate** is the share of 4 and 5 star ratings among its *rated
  product reviews* (``source_kind`` product_review, from a source that holds every rating,
  rated 1 to 5), given with that count ``n`` and a 95 % Wilson score interval
  (:func:`wilson_interval`);
- its **mean rating** is over the same reviews;
- its **trend** is the same figures per calendar month (UTC) of ``created_at``;
- **seller feedback** is counted by rating, apart, and never mixed into the rate: it rates
  the seller rather than a product, and Amazon's report of it holds only 1 to 3 star
  feedback, so mixed in it would pull every rate down whatever buyers think. Product
  reviews from a source holding only some ratings (``complete_sample`` false) are kept
  apart the same way.

The database does the counting: one ``GROUP BY`` over the product reviews (counts of each
rating per group and month, so the rate, the mean and the interval all follow) and one over
every other kind, in portable SQLAlchemy Core. The month is the stored ``created_month``
(the review store writes it with ``created_at``), and each query reads a covering index in
the order of its ``GROUP BY`` (``ix_reviews_report_shop``, ``ix_reviews_report_sku``), so
that SQLite, which has no hash aggregation, counts without sorting. Figures are floats
(statistics, not money), kept at full precision and rounded only when shown
(:data:`DECIMALS`).

A report by SKU has hundreds of thousands of group-months: they stay as the database counted
them until asked for (:attr:`GroupFigures.months`), the JSON is written group by group
(:meth:`ReviewReport.iter_json`) and the figures table is drawn without a layout per cell.
"""

from __future__ import annotations

import gc
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Literal

from rich.box import HEAVY_HEAD
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection, and_, func, not_, select
from sqlalchemy.sql import ColumnElement

from syndicator.domain.reviews import ReviewSource
from syndicator.reviews.store import ReviewFilter, utc_month
from syndicator.store.schema import reviews

__all__ = [
    "DECIMALS",
    "PRODUCT_REVIEW",
    "SATISFIED_FROM",
    "SELLER_FEEDBACK",
    "SELLER_FEEDBACK_REASON",
    "Z_95",
    "Apart",
    "GroupBy",
    "GroupFigures",
    "Interval",
    "MonthFigures",
    "Ratings",
    "ReviewReport",
    "interval_text",
    "largest_groups",
    "percent",
    "render_report",
    "satisfaction_report",
    "utc_month",
    "wilson_interval",
]

Z_95: Final = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
SATISFIED_FROM: Final = 4  # 4 and 5 stars count as satisfied
STARS: Final = (1, 2, 3, 4, 5)
# Digits kept when a figure is shown: proportions (rate, interval) in JSON, the same as a
# percentage in the table, and the mean rating. Python's round() (to nearest, ties to even).
DECIMALS: Final = {"proportion": 4, "percent": 1, "mean": 2}
SELLER_FEEDBACK_REASON: Final = (
    "Seller feedback rates the seller, not a product, and Amazon's seller feedback report "
    "holds only 1 to 3 star feedback: mixed into the satisfaction rate it would pull it down "
    "whatever buyers think of the products. It is counted here by rating and nowhere else."
)
INCOMPLETE_REASON: Final = (
    "This source holds only some of the ratings (complete_sample false): its share of 4 and "
    "5 stars says nothing of all the buyers. It is counted here by rating and nowhere else."
)
PRODUCT_REVIEW: Final = str(ReviewSource.PRODUCT_REVIEW)
SELLER_FEEDBACK: Final = str(ReviewSource.SELLER_FEEDBACK)


class GroupBy(StrEnum):
    """What the report puts side by side (``--by``)."""

    CHANNEL = "channel"  # the channel id of the config, across cooperatives
    COOPERATIVE = "cooperative"
    SKU = "sku"  # (cooperative, SKU): the same SKU in two cooperatives is two products
    MONTH = "month"  # calendar month, UTC
    LANGUAGE = "language"  # the review's language (the channel's, or detected)


# The columns that make a group's key, for each --by (month: none, the month is the group).
_KEY_NAMES: Final[Mapping[GroupBy, tuple[str, ...]]] = {
    GroupBy.CHANNEL: ("channel",),
    GroupBy.COOPERATIVE: ("cooperative",),
    GroupBy.SKU: ("cooperative", "sku"),
    GroupBy.MONTH: (),
    GroupBy.LANGUAGE: ("language",),
}
# Why a rated product review can be in no group (its key is missing): said in the report.
_NO_KEY: Final[Mapping[GroupBy, str]] = {
    GroupBy.SKU: "no SKU (the channel's listing could not be matched to a catalog SKU)",
    GroupBy.LANGUAGE: "no language known (too short to tell, or not detected with confidence)",
}


# ------------------------------------------------------------------------- the statistics
@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval for a proportion, both ends within [0, 1]."""

    low: float
    high: float


def wilson_interval(satisfied: int, n: int, z: float = Z_95) -> Interval | None:
    """The Wilson score interval of ``satisfied`` successes out of ``n`` (95 % by default).

    Unlike the textbook p ± z·sqrt(p(1-p)/n), it stays within [0, 1] and does not shrink to
    nothing at 0 % or 100 %, which matters for the small groups and months a report has.
    With p = satisfied / n::

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)

    None when ``n`` is 0: no rating, no interval.
    """
    if n < 0 or not 0 <= satisfied <= n:
        raise ValueError(f"need 0 <= satisfied <= n, got {satisfied} of {n}")
    if n == 0:
        return None
    p = satisfied / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # At 0 % the low end is 0 and at 100 % the high end is 1, exactly (floats say 3e-17).
    low = 0.0 if satisfied == 0 else max(0.0, centre - half)
    high = 1.0 if satisfied == n else min(1.0, centre + half)
    return Interval(low, high)


@dataclass(frozen=True, slots=True)
class Ratings:
    """How many reviews gave each number of stars, and how many had no usable rating.

    Every figure of the report follows from these counts: ``n``, the rate, its interval and
    the mean rating, all over the reviews rated 1 to 5 only.
    """

    stars: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # reviews rated 1, 2 ... 5
    unrated: int = 0  # no rating at all
    out_of_range: int = 0  # rated outside 1 to 5 (the review store refuses those: a safeguard)

    @property
    def n(self) -> int:
        """Rated reviews (1 to 5 stars): the reviews every figure is over."""
        return sum(self.stars)

    @property
    def counts(self) -> tuple[int, ...]:
        """As the database counts them: reviews, those with a rating, then 1 ... 5 stars."""
        return (self.reviews, self.n + self.out_of_range, *self.stars)

    @property
    def reviews(self) -> int:
        """Every review counted, rated or not."""
        return self.n + self.unrated + self.out_of_range

    @property
    def satisfied(self) -> int:
        """Reviews rated 4 or 5 stars."""
        return sum(self.stars[SATISFIED_FROM - 1 :])

    @property
    def rate(self) -> float | None:
        """The share of 4 and 5 stars among the rated reviews; None when none is rated."""
        return self.satisfied / self.n if self.n else None

    @property
    def interval(self) -> Interval | None:
        """The 95 % Wilson score interval of the rate; None when none is rated."""
        return wilson_interval(self.satisfied, self.n)

    @property
    def mean(self) -> float | None:
        """The mean number of stars of the rated reviews; None when none is rated."""
        s1, s2, s3, s4, s5 = self.stars
        n = s1 + s2 + s3 + s4 + s5
        return (s1 + 2 * s2 + 3 * s3 + 4 * s4 + 5 * s5) / n if n else None

    def counts_json(self) -> dict[str, Any]:
        """The counts alone (for seller feedback, where a rate would mean nothing)."""
        return {
            "reviews": self.reviews,
            "ratings": {str(s): c for s, c in zip(STARS, self.stars, strict=True)},
            "unrated": self.unrated,
            "out_of_range": self.out_of_range,
        }

    def to_json(self, *, counts: bool = True) -> dict[str, Any]:
        """The figures, rounded as :data:`DECIMALS` says, and (``counts``) the counts they
        come from, so that a script can work them out again exactly. Rate, interval and
        mean are null when no review is rated."""
        n, satisfied = self.n, self.satisfied
        figures: dict[str, Any] = {"n": n, "satisfied": satisfied}
        interval = wilson_interval(satisfied, n)
        if interval is None:
            figures |= {"rate": None, "low": None, "high": None, "mean_rating": None}
        else:
            digits = DECIMALS["proportion"]
            figures["rate"] = round(satisfied / n, digits)
            figures["low"] = round(interval.low, digits)
            figures["high"] = round(interval.high, digits)
            figures["mean_rating"] = _round(self.mean, DECIMALS["mean"])
        return figures | self.counts_json() if counts else figures


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------------- the report
# One group-month's counts as the database gives them: reviews, those with a rating, then
# those with 1 ... 5 stars (the order of :func:`_counting` and of :attr:`Ratings.counts`).
Counts = Sequence[int]


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """The figures of one calendar month (UTC), ``YYYY-MM``."""

    month: str
    ratings: Ratings

    def to_json(self) -> dict[str, Any]:
        """The month and its figures, without the counts by rating (a report by SKU has a
        few hundred thousand of these)."""
        return {"month": self.month, **self.ratings.to_json(counts=False)}


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """One group of the report (one channel, one SKU ...): its figures and its trend.

    The trend is kept as the database counted it (``monthly``) and made into
    :class:`MonthFigures` only when asked for (:attr:`months`): a report by SKU has a few
    hundred thousand group-months, most of them only ever written out as JSON.
    """

    key: tuple[str, ...]  # the values of the report's key columns (the month, for --by month)
    ratings: Ratings
    monthly: tuple[tuple[str, Counts], ...]  # (month, counts), oldest first; months with reviews

    @property
    def label(self) -> str:
        return "/".join(self.key)

    @property
    def months(self) -> tuple[MonthFigures, ...]:
        """The trend: the figures of each month with product reviews, oldest first."""
        return tuple(MonthFigures(month, _ratings(counts)) for month, counts in self.monthly)


@dataclass(frozen=True, slots=True)
class Apart:
    """Reviews of one shop kept out of every rate, counted by rating only, and why: seller
    feedback, and product reviews from a source that holds only some of the ratings."""

    cooperative: str
    channel: str
    source_kind: str
    complete_sample: bool
    ratings: Ratings

    @property
    def reason(self) -> str:
        if self.source_kind == SELLER_FEEDBACK:
            return SELLER_FEEDBACK_REASON
        return INCOMPLETE_REASON


@dataclass(frozen=True, slots=True)
class ReviewReport:
    """The satisfaction report over the reviews in the store (see the module docstring).

    ``overall`` is every product review in scope, whatever the grouping; ``ungrouped`` the
    ones whose key is missing (no SKU for ``--by sku``, no language for ``--by language``):
    in ``overall`` but in no group, so that the groups and ``ungrouped`` add up to
    ``overall``. ``apart``: what is never in a rate (seller feedback ...), by shop.
    """

    by: GroupBy
    where: ReviewFilter
    overall: Ratings
    months: tuple[MonthFigures, ...]  # the overall trend
    groups: tuple[GroupFigures, ...]
    ungrouped: Ratings
    apart: tuple[Apart, ...]
    other_kinds: Mapping[str, int] = field(default_factory=dict)  # kinds the report ignores

    @property
    def key_names(self) -> tuple[str, ...]:
        return _KEY_NAMES[self.by] or ("month",)

    @property
    def ungrouped_reason(self) -> str | None:
        return _NO_KEY.get(self.by)

    def apart_count(self, source_kind: str) -> int:
        return sum(a.ratings.reviews for a in self.apart if a.source_kind == source_kind)

    def to_json(self) -> dict[str, Any]:
        """Everything, for scripts; docs/reviews.md describes each field. For a large report,
        :meth:`iter_json` writes the same JSON without building it first."""
        names = self.key_names
        return {
            **self._json_head(),
            "groups": [
                {**_group_head(g, names), "months": [m.to_json() for m in g.months]}
                for g in self.groups
            ],
            **self._json_tail(),
        }

    def iter_json(self) -> Iterator[str]:
        """:meth:`to_json` as JSON text on one line, in pieces to write one after the other:
        together exactly ``json.dumps(self.to_json(), ensure_ascii=False)``. The groups are
        written one at a time, and the figures of a month are worked out once for each
        distinct count of stars (a report by SKU has a few hundred thousand months, mostly
        small and alike), so that a large report is never built as objects first."""
        names = self.key_names
        month_text = _MonthText()
        yield _dumps(self._json_head())[:-1] + ', "groups": ['
        for i, g in enumerate(self.groups):
            months = ", ".join([month_text(month, counts) for month, counts in g.monthly])
            yield f'{", " if i else ""}{_dumps(_group_head(g, names))[:-1]}, "months": [{months}]}}'
        yield "], " + _dumps(self._json_tail())[1:]

    def _json_head(self) -> dict[str, Any]:
        """What comes before the groups in :meth:`to_json`."""
        where = self.where
        return {
            "by": str(self.by),
            "filters": {
                "since": where.since.isoformat() if where.since else None,
                "cooperative": where.cooperative,
                "channel": where.channel,
            },
            "definition": {
                "rate": "share of 4 and 5 star ratings among rated product reviews",
                "interval": "95 % Wilson score interval",
                "z": Z_95,
                "month": "calendar month of created_at, UTC",
                "decimals": dict(DECIMALS),
            },
            "overall": self.overall.to_json(),
            "months": [m.to_json() for m in self.months],
        }

    def _json_tail(self) -> dict[str, Any]:
        """What comes after the groups in :meth:`to_json`."""
        return {
            "ungrouped": (
                {"reason": self.ungrouped_reason, **self.ungrouped.to_json()}
                if self.ungrouped_reason
                else None
            ),
            "excluded": {
                "unrated": self.overall.unrated,
                "out_of_range": self.overall.out_of_range,
                "seller_feedback": self.apart_count(SELLER_FEEDBACK),
                "incomplete_product_reviews": self.apart_count(PRODUCT_REVIEW),
                "other_kinds": dict(self.other_kinds),
            },
            "apart": [
                {
                    "cooperative": a.cooperative,
                    "channel": a.channel,
                    "source_kind": a.source_kind,
                    "complete_sample": a.complete_sample,
                    **a.ratings.counts_json(),
                    "reason": a.reason,
                }
                for a in self.apart
            ],
        }


def _group_head(g: GroupFigures, names: tuple[str, ...]) -> dict[str, Any]:
    """A group in :meth:`ReviewReport.to_json`, all but its months."""
    return {"group": g.label, "key": dict(zip(names, g.key, strict=True)), **g.ratings.to_json()}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _MonthText:
    """A month of a trend as :meth:`MonthFigures.to_json` writes it, as JSON text. The
    figures are worked out once for each distinct count of stars and the month's text once
    for each month; both are kept for one report only."""

    __slots__ = ("_figures", "_months")

    def __init__(self) -> None:
        self._figures: dict[tuple[int, ...], str] = {}
        self._months: dict[str, str] = {}

    def __call__(self, month: str, counts: Counts) -> str:
        stars = tuple(counts[2:])
        figures = self._figures.get(stars)
        if figures is None:
            ratings = Ratings((stars[0], stars[1], stars[2], stars[3], stars[4]))
            figures = self._figures[stars] = _dumps(ratings.to_json(counts=False))[1:]
        opening = self._months.get(month)
        if opening is None:
            opening = self._months[month] = '{"month": ' + _dumps(month) + ", "
        return opening + figures


# ------------------------------------------------------------------------- SQL
def _counting() -> list[ColumnElement[Any]]:
    """Per group: every review, those with a rating, and those with each number of stars
    (``count(*) FILTER (WHERE ...)``: SQLite 3.30 and PostgreSQL have it, and SQLite counts
    it about a tenth faster than a sum of ``CASE``)."""
    rating = reviews.c.rating
    return [
        func.count().label("reviews"),
        func.count(rating).label("with_rating"),
        *(func.count().filter(rating == s).label(f"stars_{s}") for s in STARS),
    ]


def _ratings(c: Counts) -> Ratings:
    stars = (c[2], c[3], c[4], c[5], c[6])
    return Ratings(stars, c[0] - c[1], c[1] - sum(stars))


def _sum(rows: Iterable[Counts]) -> Ratings:
    """Counts added up, column by column."""
    summed = [sum(column) for column in zip(*rows, strict=True)]
    return _ratings(summed) if summed else Ratings()


# SQLite sorts the rows of a GROUP BY on one core unless allowed helper threads.
_SORT_THREADS: Final = max(0, min(3, (os.cpu_count() or 1) - 1))


@contextmanager
def _sort_threads(conn: Connection) -> Iterator[None]:
    """On SQLite, let the report's sorts use the other cores (``PRAGMA threads``: about a
    third off the report over a million reviews on two cores); put the setting back after."""
    if conn.dialect.name != "sqlite" or not _SORT_THREADS:
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA threads").scalar() or 0)
    conn.exec_driver_sql(f"PRAGMA threads = {_SORT_THREADS}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA threads = {before}")


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the report makes its objects, and put it back
    after: a report by SKU makes a few hundred thousand small tuples and lists, none in a
    reference cycle, and the collector walked all of them again each time more piled up
    (a third of the report's time at a million reviews). Reference counting frees them as
    usual meanwhile. The collector is process-wide: left alone when it is already off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def satisfaction_report(
    conn: Connection, by: GroupBy = GroupBy.CHANNEL, where: ReviewFilter | None = None
) -> ReviewReport:
    """The satisfaction report of the reviews ``where`` selects (all by default), grouped
    ``by``. Two queries, each reading an index of its own: run it in one read transaction
    (``store.read()``) so that both see the same reviews."""
    with _sort_threads(conn), _cycle_collector_paused():
        return _report(conn, by, where or ReviewFilter())


# What the counting of rated product reviews reads, in the order of a covering index of the
# reviews table (store/schema.py): grouped in that order, with the month and the rating last,
# the database counts from the index alone and never sorts. Every --by but SKU reads the shop
# index, and its few thousand (cooperative, channel, language, month) rows are added up here
# into the report's groups.
_SHOP_READ: Final = ("cooperative", "channel", "language")  # ix_reviews_report_shop
_SKU_READ: Final = ("cooperative", "sku")  # ix_reviews_report_sku


def _counted(
    conn: Connection, by: GroupBy, scope: Sequence[ColumnElement[bool]]
) -> Sequence[Sequence[Any]]:
    """The rated product reviews ``scope`` keeps, counted: one row per group of ``by`` and
    month, ``(key ..., month, counts ...)``, in no particular order."""
    c = reviews.c
    read = _SKU_READ if by is GroupBy.SKU else _SHOP_READ
    columns = [*(c[name] for name in read), c.created_month]
    products = select(*columns, *_counting()).where(*scope).group_by(*columns)
    rows = conn.execute(products).all()  # fetchall: cheaper than row by row
    names = _KEY_NAMES[by]
    if names == read:
        return rows
    pick = [read.index(name) for name in names]
    width = len(read)
    summed: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key = (*(row[i] for i in pick), row[width])
        counts = row[width + 1 :]
        total = summed.get(key)
        if total is None:
            summed[key] = list(counts)
        else:
            for i, count in enumerate(counts):
                total[i] += count
    return [(*key, *counts) for key, counts in summed.items()]


def _report(conn: Connection, by: GroupBy, where: ReviewFilter) -> ReviewReport:
    if where.source_kind is not None:
        raise ValueError("the report reads every kind of review: filter on anything else")
    scope = where.clauses(by_month=True)  # the same reviews, without reading the table
    c = reviews.c
    rated = and_(c.source_kind == PRODUCT_REVIEW, c.complete_sample)  # what a rate is over
    width = len(_KEY_NAMES[by])
    cells: dict[tuple[Any, ...], list[tuple[str, Counts]]] = {}  # group -> (month, counts)
    monthly: dict[str, list[Counts]] = {}  # every product review, by month
    for row in _counted(conn, by, [rated, *scope]):
        key, month, counts = tuple(row[:width]), row[width], row[width + 1 :]
        cells.setdefault(key, []).append((month, counts))
        monthly.setdefault(month, []).append(counts)
    # A review without its key (no SKU, no language) is in the overall figures, in no group.
    ungrouped = [counts for key in list(cells) if None in key for _, counts in cells.pop(key)]

    # Grouped by kind first, in the order of the shop index, which holds every column this
    # reads: SQLite reads the index alone, in order, and not the table. (With --cooperative
    # it prefers the unique index and sorts what it finds: 0.4 s at a million reviews.)
    others = (
        select(c.source_kind, c.complete_sample, c.cooperative, c.channel, *_counting())
        .where(not_(rated), *scope)
        .group_by(c.source_kind, c.complete_sample, c.cooperative, c.channel)
    )
    apart: list[Apart] = []
    other_kinds: dict[str, int] = {}
    for kind, complete, coop, shop, *tally in conn.execute(others):
        ratings = _ratings(tally)
        if kind in (SELLER_FEEDBACK, PRODUCT_REVIEW):
            apart.append(Apart(coop, shop, kind, bool(complete), ratings))
        else:
            other_kinds[kind] = other_kinds.get(kind, 0) + ratings.reviews
    apart.sort(key=lambda a: (a.cooperative, a.channel, a.source_kind, a.complete_sample))

    months = tuple(MonthFigures(m, _sum(monthly[m])) for m in sorted(monthly))
    if by is GroupBy.MONTH:
        groups = [
            GroupFigures((m.month,), m.ratings, ((m.month, m.ratings.counts),)) for m in months
        ]
    else:
        groups = []
        for key in sorted(cells):
            trend = sorted(cells[key])  # one entry a month: never compares the counts
            groups.append(
                GroupFigures(tuple(map(str, key)), _sum(t[1] for t in trend), tuple(trend))
            )
    return ReviewReport(
        by=by,
        where=where,
        overall=_sum(m.ratings.counts for m in months),
        months=months,
        groups=tuple(groups),
        ungrouped=_sum(ungrouped),
        apart=tuple(apart),
        other_kinds=dict(sorted(other_kinds.items())),
    )


# ------------------------------------------------------------------------- for people
def percent(value: float | None) -> str:
    """A proportion as a percentage with :data:`DECIMALS` ``percent`` digits: ``80.0 %``."""
    return "" if value is None else f"{100 * value:.{DECIMALS['percent']}f} %"


def interval_text(ratings: Ratings) -> str:
    """The 95 % interval as a person reads it: ``49.0 – 94.3 %``; ``-`` when none."""
    i = ratings.interval
    if i is None:
        return "-"
    digits = DECIMALS["percent"]
    return f"{100 * i.low:.{digits}f} – {100 * i.high:.{digits}f} %"


def largest_groups(report: ReviewReport, limit: int) -> list[GroupFigures]:
    """The ``limit`` groups with the most rated reviews, in the report's order: those the
    trend table and the chart show (every group is in ``--json``)."""
    if len(report.groups) <= limit:
        return list(report.groups)
    chosen = {g.key for g in sorted(report.groups, key=lambda g: (-g.ratings.n, g.key))[:limit]}
    return [g for g in report.groups if g.key in chosen]


# A cell of the figures table: its text and its style (a rich style name; "" for none).
Cell = tuple[str, str]


def _figures_row(name: str, r: Ratings, *, style: str = "") -> list[Cell]:
    if r.n:
        rate = (percent(r.rate), "bold")
        mean = f"{r.mean:.{DECIMALS['mean']}f}"
    else:
        rate = ("none rated", "dim")
        mean = "-"
    unrated = r.unrated + r.out_of_range
    return [
        (name, style),
        (str(r.n), ""),
        (str(r.satisfied), ""),
        rate,
        (interval_text(r), ""),
        (mean, ""),
        (str(unrated) if unrated else "", ""),
    ]


def _scope_text(where: ReviewFilter) -> str:
    scope = []
    if where.cooperative:
        scope.append(f"cooperative {where.cooperative}")
    if where.channel:
        scope.append(f"channel {where.channel}")
    if where.since:
        scope.append(f"since {where.since:%Y-%m-%d %H:%M} UTC")
    return f" ({', '.join(scope)})" if scope else ""


_FIGURES_CAPTION: Final = (
    "satisfaction: share of 4 and 5 stars among the rated product reviews (n), with its "
    "95 % Wilson interval; definitions in docs/reviews.md"
)
_FIGURES_HEADER: Final = ("n", "4–5 ★", "satisfaction", "95 % interval", "mean ★", "unrated")


def _figures_table(report: ReviewReport) -> _FiguresGrid:
    rows = [_figures_row(g.label, g.ratings) for g in report.groups]
    if report.ungrouped_reason and report.ungrouped.reviews:
        rows.append(_figures_row(f"({report.ungrouped_reason})", report.ungrouped, style="dim"))
    ruled = len(rows)  # a rule between the groups and "all"
    rows.append(_figures_row("all", report.overall, style="bold"))
    return _FiguresGrid(
        title=f"Satisfaction by {report.by}{_scope_text(report.where)}",
        caption=_FIGURES_CAPTION,
        header=(str(report.by), *_FIGURES_HEADER),
        rows=rows,
        ruled=ruled,
    )


class _FiguresGrid:
    """The figures table, one row a group, drawn exactly as rich draws a
    ``Table(show_edge=False)`` of the same cells (the same widths, rules, alignment and
    wrapping, worked out the way rich works them out), but each row is a few segments where
    rich lays out every cell: about a millisecond a row, ten seconds for 10,000 SKUs.
    """

    def __init__(
        self,
        *,
        title: str,
        caption: str,
        header: Sequence[str],
        rows: Sequence[Sequence[Cell]],
        ruled: int,
    ) -> None:
        self.title = title
        self.caption = caption
        self.header = [(name, "bold") for name in header]
        self.rows = rows
        self.ruled = ruled  # how many rows come before the rule above the last

    @staticmethod
    def _widths(rows: Sequence[Sequence[int]], max_width: int) -> list[int]:
        """Each column's width, padding included: its widest cell; when the table is then
        too wide, the widest columns narrowed first, down to the next widest, then every
        column evenly (rich's ``Table._collapse_widths``)."""
        widths = [max(column) + 2 for column in zip(*rows, strict=True)]  # a space either side
        room = max_width - (len(widths) - 1)  # the dividers
        excess = sum(widths) - room
        while excess > 0:
            widest = max(widths)
            difference = widest - max((w for w in widths if w != widest), default=0)
            ratios = [int(w == widest) for w in widths]
            widths = _ratio_reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
            excess = sum(widths) - room
        return widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        def length(text: str) -> int:
            return len(text) if text.isascii() and text.isprintable() else cell_len(text)

        header = [length(text) for text, _ in self.header]
        lengths = [[length(text) for text, _ in row] for row in self.rows]
        widths = self._widths([header, *lengths], options.max_width)
        table_width = sum(widths) + len(widths) - 1
        around = options.update(width=table_width, highlight=False, height=None, justify="left")
        yield from console.render(Text(self.title, style="table.title"), around)
        box = HEAVY_HEAD.substitute(options)
        plain = Style.null()
        styles: dict[str, Style] = {"": plain}
        wrapped: dict[tuple[str, str, int, bool], list[tuple[str, Style]]] = {}

        def style(name: str) -> Style:
            found = styles.get(name)
            if found is None:
                found = styles[name] = console.get_style(name)
            return found

        def cell(
            text: str, name: str, size: int, width: int, first: bool
        ) -> list[tuple[str, Style]]:
            """A cell's lines, padded to its width: the first column to the left (a label
            too long folded), the figures to the right (wrapped between words)."""
            inner = width - 2
            spare = inner - size
            if spare >= 0:
                padded = f" {text}{' ' * spare} " if first else f" {' ' * spare}{text} "
                return [(padded, style(name))]
            if first and size == len(text) and " " not in text:
                # one word of one-cell characters: folded every ``inner`` characters, as
                # rich's wrap folds it
                chunks = [text[i : i + inner] for i in range(0, len(text), inner)]
                return [(f" {chunk:<{inner}} ", style(name)) for chunk in chunks]
            key = (text, name, inner, first)
            found = wrapped.get(key)
            if found is None:  # the same figures come back often: wrapped once each
                justify: Literal["left", "right"] = "left" if first else "right"
                overflow: Literal["fold", "ellipsis"] = "fold" if first else "ellipsis"
                lines = Text(text, style=name).wrap(
                    console, inner, justify=justify, overflow=overflow
                )
                found = wrapped[key] = [(f" {line.plain} ", style(name)) for line in lines]
            return found

        def row(
            cells: Sequence[Cell], sizes: Sequence[int], divider: str, *, header: bool = False
        ) -> RenderResult:
            drawn = [
                cell(text, name, size, width, i == 0)
                for i, ((text, name), size, width) in enumerate(
                    zip(cells, sizes, widths, strict=True)
                )
            ]
            height = max(len(lines) for lines in drawn)
            if height > 1:  # body cells at the top of the row, header cells at the bottom
                for i, lines in enumerate(drawn):
                    blank = [(" " * widths[i], plain)] * (height - len(lines))
                    drawn[i] = blank + lines if header else lines + blank
            for line in range(height):
                # one segment for each run of one style: a few a line rather than a dozen
                text, current = drawn[0][line]
                for lines in drawn[1:]:
                    piece, piece_style = lines[line]
                    if current is not plain:
                        yield Segment(text, current)
                        text, current = divider, plain
                    else:
                        text += divider
                    if piece_style is current:
                        text += piece
                    else:
                        yield Segment(text, current)
                        text, current = piece, piece_style
                yield Segment(text, current)
                yield Segment.line()

        yield from row(self.header, header, box.head_vertical, header=True)
        yield Segment(box.get_row(widths, "head", edge=False))
        yield Segment.line()
        for i, (cells, sizes) in enumerate(zip(self.rows, lengths, strict=True)):
            if i == self.ruled and i:
                yield Segment(box.get_row(widths, "row", edge=False))
                yield Segment.line()
            yield from row(cells, sizes, box.mid_vertical)
        yield from console.render(Text(self.caption, style="table.caption"), around)


def _ratio_reduce(
    total: int, ratios: list[int], maximums: list[int], values: list[int]
) -> list[int]:
    """``values`` less ``total`` shared out by ``ratios``, at most ``maximums`` each (rich's
    own ``ratio_reduce``, which :meth:`_FiguresGrid._widths` follows)."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    out: list[int] = []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            share = min(most, round(ratio * remaining / total_ratio))
            out.append(value - share)
            remaining -= share
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _trend_cell(r: Ratings | None) -> Text:
    if r is None or not r.n:
        return Text("-", style="dim")
    text = Text(percent(r.rate), style="bold")
    text.append(f"\n{interval_text(r).replace(' – ', '–').removesuffix(' %')}\nn={r.n}")
    return text


def _trend_table(report: ReviewReport, shown: Sequence[GroupFigures]) -> Table:
    table = Table(
        title="Trend by month (UTC): satisfaction, its 95 % interval (in %) and n",
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    table.add_column("month")
    for g in shown:
        table.add_column(g.label, justify="right", overflow="fold")
    table.add_column("all", justify="right", overflow="fold")
    by_group = [{m.month: m.ratings for m in g.months} for g in shown]
    for m in report.months:
        cells = [_trend_cell(months.get(m.month)) for months in by_group]
        table.add_row(m.month, *cells, _trend_cell(m.ratings))
    return table


def _apart_table(report: ReviewReport) -> Table:
    table = Table(
        title="Kept apart, in no rate: counted by rating",
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    table.add_column("shop", overflow="fold")
    table.add_column("kind", overflow="fold")
    for name in ("reviews", *(f"{s} ★" for s in STARS)):
        table.add_column(name, justify="right")
    for a in report.apart:
        kind = a.source_kind.replace("_", " ") + ("" if a.complete_sample else " (partial)")
        counts = (a.ratings.reviews, *a.ratings.stars)
        table.add_row(f"{a.cooperative}/{a.channel}", kind, *map(str, counts))
    return table


def render_report(report: ReviewReport, *, trend_groups: int = 5) -> list[RenderableType]:
    """The report as people read it: the figures of each group, the trend by month (of the
    ``trend_groups`` largest groups, and of all), what is kept apart and why, and what is
    left out of the rate."""
    if not report.overall.reviews and not report.apart and not report.other_kinds:
        return [Text(f"No review in the store{_scope_text(report.where)}.", style="yellow")]
    with _cycle_collector_paused():  # a row of cells for each group: 10,000 SKUs, 70,000
        parts: list[RenderableType] = [_figures_table(report)]
    if report.by is not GroupBy.MONTH and report.months:
        shown = largest_groups(report, trend_groups)
        parts += [Text(), _trend_table(report, shown)]
        if len(shown) < len(report.groups):
            left = len(report.groups) - len(shown)
            parts.append(Text(f"{left} smaller group(s) not shown here: see --json", style="dim"))
    if report.apart:
        parts += [Text(), _apart_table(report)]
        for reason in dict.fromkeys(a.reason for a in report.apart):
            parts.append(Text(reason, style="dim"))
    notes = _notes(report)
    if notes:
        parts += [Text()] + [Text(note, style="dim") for note in notes]
    return parts


def _notes(report: ReviewReport) -> list[str]:
    """What is left out of the rate, or out of every group, said plainly."""
    notes = []
    o = report.overall
    if o.unrated:
        notes.append(f"{o.unrated} product review(s) without a rating are in no rate.")
    if o.out_of_range:
        notes.append(f"{o.out_of_range} product review(s) rated outside 1 to 5 are in no rate.")
    for kind, count in report.other_kinds.items():
        notes.append(f"{count} review(s) of kind {kind!r}, unknown to the report, are in no rate.")
    if report.ungrouped_reason and report.ungrouped.n:
        notes.append(
            f"{report.ungrouped.n} rated product review(s) have {report.ungrouped_reason}: "
            "they count in 'all', in no group."
        )
    return notes
