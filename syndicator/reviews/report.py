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

The database does the counting (:func:`~syndicator.store.reviews.count_rated` and
:func:`~syndicator.store.reviews.count_apart`: counts of each rating per group and month, so
the rate, the mean and the interval all follow); this module makes the figures of those
counts. Figures are floats (statistics, not money), kept at full precision and rounded only
when shown (:data:`DECIMALS`). The report as people read it is drawn by the command line
(syndicator/cli/render/reviews.py).

A report by SKU has hundreds of thousands of group-months: they stay as the database counted
them until asked for (:attr:`GroupFigures.months`) and the JSON is written group by group
(:meth:`ReviewReport.iter_json`).
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Connection

from syndicator.domain.reviews import ReviewSource
from syndicator.store.reviews import (
    SHOP_READ,
    SKU_READ,
    STARS,
    ReviewFilter,
    count_apart,
    count_rated,
    sort_threads,
)

__all__ = [
    "DECIMALS",
    "PRODUCT_REVIEW",
    "SATISFIED_FROM",
    "SELLER_FEEDBACK",
    "SELLER_FEEDBACK_REASON",
    "STARS",
    "Z_95",
    "Apart",
    "GroupBy",
    "GroupFigures",
    "Interval",
    "MonthFigures",
    "Ratings",
    "ReviewReport",
    "cycle_collector_paused",
    "largest_groups",
    "satisfaction_report",
    "wilson_interval",
]

Z_95: Final = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
SATISFIED_FROM: Final = 4  # 4 and 5 stars count as satisfied
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
    out_of_range: int = 0  # rated outside 1 to 5 (the review records refuse those: a safeguard)

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
# those with 1 ... 5 stars (the order of the counting in syndicator/store/reviews.py, and of
# :attr:`Ratings.counts`).
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


# ------------------------------------------------------------------------- the counts
def _ratings(c: Counts) -> Ratings:
    stars = (c[2], c[3], c[4], c[5], c[6])
    return Ratings(stars, c[0] - c[1], c[1] - sum(stars))


def _sum(rows: Iterable[Counts]) -> Ratings:
    """Counts added up, column by column."""
    summed = [sum(column) for column in zip(*rows, strict=True)]
    return _ratings(summed) if summed else Ratings()


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
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
    with sort_threads(conn), cycle_collector_paused():
        return _report(conn, by, where or ReviewFilter())


def _counted(conn: Connection, by: GroupBy, where: ReviewFilter) -> Sequence[Sequence[Any]]:
    """The rated product reviews ``where`` keeps, counted: one row per group of ``by`` and
    month, ``(key ..., month, counts ...)``, in no particular order. Every --by but SKU
    reads the shop index, and its few thousand (cooperative, channel, language, month) rows
    are added up here into the report's groups."""
    read = SKU_READ if by is GroupBy.SKU else SHOP_READ
    rows = count_rated(conn, read, where)
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
    width = len(_KEY_NAMES[by])
    cells: dict[tuple[Any, ...], list[tuple[str, Counts]]] = {}  # group -> (month, counts)
    monthly: dict[str, list[Counts]] = {}  # every product review, by month
    for row in _counted(conn, by, where):
        key, month, counts = tuple(row[:width]), row[width], row[width + 1 :]
        cells.setdefault(key, []).append((month, counts))
        monthly.setdefault(month, []).append(counts)
    # A review without its key (no SKU, no language) is in the overall figures, in no group.
    ungrouped = [counts for key in list(cells) if None in key for _, counts in cells.pop(key)]

    apart: list[Apart] = []
    other_kinds: dict[str, int] = {}
    for kind, complete, coop, shop, *tally in count_apart(conn, where):
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


def largest_groups(report: ReviewReport, limit: int) -> list[GroupFigures]:
    """The ``limit`` groups with the most rated reviews, in the report's order: those the
    trend table and the chart show (every group is in ``--json``)."""
    if len(report.groups) <= limit:
        return list(report.groups)
    chosen = {g.key for g in sorted(report.groups, key=lambda g: (-g.ratings.n, g.key))[:limit]}
    return [g for g in report.groups if g.key in chosen]
