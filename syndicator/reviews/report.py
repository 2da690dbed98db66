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
every other kind, in portable SQLAlchemy Core; the month is bucketed by
:class:`utc_month`, compiled for SQLite and for PostgreSQL. Figures are floats (statistics,
not money), kept at full precision and rounded only when shown (:data:`DECIMALS`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection, String, and_, case, func, not_, select
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from syndicator.connector import ReviewSource
from syndicator.reviews.store import ReviewFilter
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
    """One group of the report (one channel, one SKU ...): its figures and its trend."""

    key: tuple[str, ...]  # the values of the report's key columns (the month, for --by month)
    ratings: Ratings
    months: tuple[MonthFigures, ...]  # chronological; only months with product reviews

    @property
    def label(self) -> str:
        return "/".join(self.key)


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
        """Everything, for scripts; docs/reviews.md describes each field."""
        names = self.key_names
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
            "groups": [
                {
                    "group": g.label,
                    "key": dict(zip(names, g.key, strict=True)),
                    **g.ratings.to_json(),
                    "months": [m.to_json() for m in g.months],
                }
                for g in self.groups
            ],
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


# ------------------------------------------------------------------------- SQL
class utc_month(FunctionElement[str]):  # lower case, as SQLAlchemy names SQL functions
    """``YYYY-MM``: the calendar month, in UTC, of a ``UTCDateTime`` column. Compiled for
    each database the store supports: SQLite keeps naive UTC text; PostgreSQL keeps a
    TIMESTAMPTZ, read here in UTC whatever the session's time zone."""

    type = String()
    name = "utc_month"
    inherit_cache = True


@compiles(utc_month)
def _utc_month_other(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"utc_month is written for SQLite and PostgreSQL, not {compiler.dialect}")


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    # UTCDateTime stores naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff': the month is its first
    # seven characters, read without parsing the time (strftime costs ~10 % more per row).
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


def _counting() -> list[ColumnElement[Any]]:
    """Per group: every review, those with a rating, and those with each number of stars."""
    rating = reviews.c.rating
    return [
        func.count().label("reviews"),
        func.count(rating).label("with_rating"),
        *(func.sum(case((rating == s, 1), else_=0)).label(f"stars_{s}") for s in STARS),
    ]


# One result row's counts, in the order of :func:`_counting`: reviews, with a rating, 1 ... 5.
Counts = Sequence[int]


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


def satisfaction_report(
    conn: Connection, by: GroupBy = GroupBy.CHANNEL, where: ReviewFilter | None = None
) -> ReviewReport:
    """The satisfaction report of the reviews ``where`` selects (all by default), grouped
    ``by``. Two queries, one pass over the table each: run it in one read transaction
    (``store.read()``) so that both see the same reviews."""
    with _sort_threads(conn):
        return _report(conn, by, where or ReviewFilter())


def _report(conn: Connection, by: GroupBy, where: ReviewFilter) -> ReviewReport:
    if where.source_kind is not None:
        raise ValueError("the report reads every kind of review: filter on anything else")
    scope = where.clauses()
    c = reviews.c
    rated = and_(c.source_kind == PRODUCT_REVIEW, c.complete_sample)  # what a rate is over
    keys = [c[name] for name in _KEY_NAMES[by]]
    month = utc_month(c.created_at).label("month")
    products = (
        select(month, *keys, *_counting())
        .where(rated, *scope)
        .group_by(month, *keys)  # month first: SQLite sorts these rows faster
    )
    width = len(keys)
    cells: dict[tuple[Any, ...], list[tuple[str, Counts]]] = {}  # group -> (month, counts)
    monthly: dict[str, list[Counts]] = {}  # every product review, by month
    for row in conn.execute(products).all():  # fetchall: cheaper than row by row
        month_, key, counts = row[0], row[1 : width + 1], row[width + 1 :]
        cells.setdefault(key, []).append((month_, counts))
        monthly.setdefault(month_, []).append(counts)
    # A review without its key (no SKU, no language) is in the overall figures, in no group.
    ungrouped = [counts for key in list(cells) if None in key for _, counts in cells.pop(key)]

    # Grouped by kind first: by (cooperative, channel) first, SQLite walks the unique index
    # to save a sort, and then reads every row of the table in random order (4 times slower).
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
        groups = [GroupFigures((m.month,), m.ratings, (m,)) for m in months]
    else:
        groups = [
            GroupFigures(
                tuple(map(str, key)),
                _sum(counts for _, counts in cells[key]),
                tuple(MonthFigures(m, _ratings(counts)) for m, counts in sorted(cells[key])),
            )
            for key in sorted(cells)
        ]
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


def _figures_row(name: str, r: Ratings, *, style: str = "") -> list[Text]:
    if r.n:
        rate = Text(percent(r.rate), style="bold")
        mean = f"{r.mean:.{DECIMALS['mean']}f}"
    else:
        rate = Text("none rated", style="dim")
        mean = "-"
    unrated = r.unrated + r.out_of_range
    return [
        Text(name, style=style),
        Text(str(r.n)),
        Text(str(r.satisfied)),
        rate,
        Text(interval_text(r)),
        Text(mean),
        Text(str(unrated) if unrated else ""),
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


def _figures_table(report: ReviewReport) -> Table:
    table = Table(
        title=f"Satisfaction by {report.by}{_scope_text(report.where)}",
        title_justify="left",
        show_edge=False,
        header_style="bold",
        caption="satisfaction: share of 4 and 5 stars among the rated product reviews (n), "
        "with its 95 % Wilson interval; definitions in docs/reviews.md",
        caption_justify="left",
    )
    table.add_column(str(report.by), overflow="fold")
    for name in ("n", "4–5 ★", "satisfaction", "95 % interval", "mean ★", "unrated"):
        table.add_column(name, justify="right")
    for g in report.groups:
        table.add_row(*_figures_row(g.label, g.ratings))
    if report.ungrouped_reason and report.ungrouped.reviews:
        table.add_row(*_figures_row(f"({report.ungrouped_reason})", report.ungrouped, style="dim"))
    table.add_section()
    table.add_row(*_figures_row("all", report.overall, style="bold"))
    return table


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
