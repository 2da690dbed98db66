"""The satisfaction report as people read it: the figures of each group, the trend by month,
what is kept apart and why, and what is left out of the rate (docs/reviews.md, "The table
and the JSON"). The figures themselves are :mod:`syndicator.reviews.report`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from syndicator.cli.render.grid import Cell, Grid
from syndicator.reviews.report import (
    DECIMALS,
    STARS,
    GroupBy,
    GroupFigures,
    Ratings,
    ReviewReport,
    cycle_collector_paused,
    largest_groups,
)
from syndicator.store.reviews import ReviewFilter

__all__ = ["interval_text", "percent", "render_report"]


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


def _figures_table(report: ReviewReport) -> Grid:
    rows = [_figures_row(g.label, g.ratings) for g in report.groups]
    if report.ungrouped_reason and report.ungrouped.reviews:
        rows.append(_figures_row(f"({report.ungrouped_reason})", report.ungrouped, style="dim"))
    ruled = len(rows)  # a rule between the groups and "all"
    rows.append(_figures_row("all", report.overall, style="bold"))
    return Grid(
        title=f"Satisfaction by {report.by}{_scope_text(report.where)}",
        caption=_FIGURES_CAPTION,
        header=(str(report.by), *_FIGURES_HEADER),
        rows=rows,
        ruled=ruled,
    )


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
    with cycle_collector_paused():  # a row of cells for each group: 10,000 SKUs, 70,000
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
