"""The satisfaction chart: the rate by month, one series per group of the report (per channel
by default), each point with its 95 % Wilson interval as an error bar and its ``n``.

Drawn on a :class:`~matplotlib.figure.Figure` of its own and rendered by the Agg canvas, never
through pyplot: no global state, no window, safe in any thread, and the process's matplotlib
backend is left alone. docs/reviews.md says how to read it.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Final

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from syndicator.reviews.report import (
    SELLER_FEEDBACK,
    GroupBy,
    GroupFigures,
    MonthFigures,
    ReviewReport,
    largest_groups,
)

__all__ = ["MAX_SERIES", "satisfaction_figure", "write_chart"]

MAX_SERIES: Final = 6  # more lines than this cannot be told apart at a glance
# Each point shows its n when the chart has at most this many lines and points (more
# numbers overlap); otherwise the footnote sends the reader to the report.
_LABELLED: Final = (3, 24)
_SIZE: Final = (10.0, 5.6)  # inches, at 100 dpi: 1000 x 560 pixels
_DPI: Final = 100


def _months_between(first: str, last: str) -> list[str]:
    """Every calendar month from ``first`` to ``last`` (``YYYY-MM``), gaps included, so that
    the x axis is time and a month without reviews shows as a gap."""
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _series(report: ReviewReport, max_series: int) -> list[tuple[str, tuple[MonthFigures, ...]]]:
    if report.by is GroupBy.MONTH:
        return [("all", report.months)]
    shown: list[GroupFigures] = largest_groups(report, max_series)
    return [(g.label, g.months) for g in shown]


def satisfaction_figure(report: ReviewReport, *, max_series: int = MAX_SERIES) -> Figure:
    """The chart of ``report`` as a figure, not yet drawn: satisfaction (%) by month, one
    line per group (the ``max_series`` largest; with ``--by month``, one line for all), error
    bars for the 95 % Wilson intervals, each point's n beside it when there are few points."""
    fig = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    series = _series(report, max_series)
    by = "month" if report.by is GroupBy.MONTH else str(report.by)
    fig.suptitle(
        f"Satisfaction by month{'' if by == 'month' else f' and {by}'}: "
        "share of 4 and 5 star product reviews",
        fontsize=12,
        fontweight="bold",
    )
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_ylabel("satisfied (4 or 5 stars)")
    ax.set_xlabel("month (UTC)")
    ax.grid(axis="y", alpha=0.3)
    if not report.months:
        ax.set_xticks([])
        ax.text(0.5, 0.5, "no rated product review", ha="center", va="center",
                transform=ax.transAxes, fontsize=12, color="grey")  # fmt: skip
        ax.set_title(_footnote(report, series, labelled=False), loc="left", fontsize=8)
        return fig

    months = _months_between(report.months[0].month, report.months[-1].month)
    position = {m: i for i, m in enumerate(months)}
    points = sum(1 for _, ms in series for m in ms if m.ratings.n)
    labelled = len(series) <= _LABELLED[0] and points <= _LABELLED[1]
    spread = 0.5 / len(series)  # side by side within a month, so that bars do not hide
    for i, (label, figures) in enumerate(series):
        shift = (i - (len(series) - 1) / 2) * spread
        rated = [m for m in figures if m.ratings.n]
        x = [position[m.month] + shift for m in rated]
        y = [100 * (m.ratings.rate or 0.0) for m in rated]
        low = [100 * m.ratings.interval.low for m in rated if m.ratings.interval]
        high = [100 * m.ratings.interval.high for m in rated if m.ratings.interval]
        gx, gy, glow, ghigh = _gaps(x, y, low, high)
        total = sum(m.ratings.n for m in figures)
        bars = ax.errorbar(
            gx,
            gy,
            yerr=[[v - lo for v, lo in zip(gy, glow, strict=True)],
                  [hi - v for v, hi in zip(gy, ghigh, strict=True)]],
            fmt="-o",
            markersize=4,
            capsize=3,
            linewidth=1.5,
            elinewidth=1,
            label=f"{label} (n={total:,})",
        )  # fmt: skip
        if labelled:
            colour = bars.lines[0].get_color()
            for m, px, top in zip(rated, x, high, strict=True):
                ax.annotate(
                    str(m.ratings.n),
                    (px, top),
                    textcoords="offset points",
                    xytext=(0, 3),
                    ha="center",
                    fontsize=7,
                    color=colour,
                )
    step = max(1, math.ceil(len(months) / 18))
    ax.set_xticks(range(0, len(months), step), months[::step], rotation=45 if step > 1 else 0)
    ax.set_xlim(-0.6, len(months) - 0.4)
    ax.legend(title=by, loc="best", fontsize=8, title_fontsize=8, ncols=min(3, len(series)))
    ax.set_title(_footnote(report, series, labelled=labelled), loc="left", fontsize=8)
    return fig


def _gaps(
    x: list[float], y: list[float], low: list[float], high: list[float]
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Break the line where a month is missing (a NaN point), so that a line never crosses
    a month without rated reviews as if it had some."""
    out: tuple[list[float], list[float], list[float], list[float]] = ([], [], [], [])
    for i, point in enumerate(zip(x, y, low, high, strict=True)):
        if i and x[i] - x[i - 1] > 1.5:
            for column in out:
                column.append(math.nan)
        for column, value in zip(out, point, strict=True):
            column.append(value)
    return out


def _footnote(
    report: ReviewReport, series: list[tuple[str, tuple[MonthFigures, ...]]], *, labelled: bool
) -> str:
    said = ["Bars: 95 % Wilson intervals."]
    said.append(
        "The number above each bar is the point's n (rated product reviews)."
        if labelled
        else "Each point's n is in the report (--json)."
    )
    shown = 1 if report.by is GroupBy.MONTH else len(series)
    if report.by is not GroupBy.MONTH and shown < len(report.groups):
        said.append(f"The {shown} largest of {len(report.groups)} groups are shown.")
    feedback = report.apart_count(SELLER_FEEDBACK)
    if feedback:
        said.append(f"{feedback:,} seller feedback are in no rate (see docs/reviews.md).")
    return textwrap.fill(" ".join(said), width=160)


def write_chart(report: ReviewReport, path: Path, *, max_series: int = MAX_SERIES) -> Path:
    """Draw the chart of ``report`` (:func:`satisfaction_figure`) as a PNG at ``path``."""
    fig = satisfaction_figure(report, max_series=max_series)
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=_DPI)
    return path
