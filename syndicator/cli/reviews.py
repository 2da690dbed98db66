"""``syndicator reviews export`` and ``syndicator reviews report``: the stored reviews as a
file, and how satisfied buyers are (docs/reviews.md). Both read the store only; neither
loads a connector, and the report loads matplotlib only for ``--chart``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from syndicator.cli.common import (
    ChannelOption,
    ConfigOption,
    CooperativeOption,
    SinceOption,
    err,
    failure,
    load,
    out,
)
from syndicator.config import Config
from syndicator.store import Store

if TYPE_CHECKING:
    from syndicator.store.reviews import ReviewFilter

__all__ = ["export", "report"]


def export(
    config: ConfigOption,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, parquet or jsonl (docs/reviews.md).")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="The file to write.", dir_okay=False)
    ],
    since: SinceOption = None,
    channel: ChannelOption = None,
    cooperative: CooperativeOption = None,
) -> None:
    """Write the stored reviews to a CSV (safe to open in a spreadsheet), Parquet or JSON
    Lines file, streamed in batches. No buyer data and no secret is ever exported."""
    from syndicator.reviews.export import FORMATS, export_reviews

    if fmt not in FORMATS:
        raise failure(f"--format takes {', '.join(FORMATS)}")
    with _reviews_in_scope(config, since, cooperative, channel) as (store, where):
        written = export_reviews(store, out_file, fmt, where)
    err().print(f"{written} review(s) written to {out_file}", markup=False)


def report(
    config: ConfigOption,
    by: Annotated[
        str, typer.Option(help="Group by channel, cooperative, sku, month or language.")
    ] = "channel",
    since: SinceOption = None,
    channel: ChannelOption = None,
    cooperative: CooperativeOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (one line).")
    ] = False,
    chart: Annotated[
        Path | None,
        typer.Option(help="Also draw satisfaction by month as a PNG here.", dir_okay=False),
    ] = None,
) -> None:
    """Satisfaction per channel (or cooperative, SKU, month, language): the share of 4 and 5
    star ratings among rated product reviews, with n and a 95 % Wilson interval, the mean
    rating and the trend by month. Seller feedback is counted apart, never in a rate.
    Every figure is defined in docs/reviews.md."""
    from syndicator.reviews.report import GroupBy, satisfaction_report

    if by not in set(GroupBy):
        raise failure(f"--by takes {', '.join(GroupBy)}")
    with (
        _reviews_in_scope(config, since, cooperative, channel) as (store, where),
        store.read() as conn,
    ):
        figures = satisfaction_report(conn, GroupBy(by), where)
    if chart is not None:
        from syndicator.reviews.chart import write_chart  # matplotlib: only for a chart

        write_chart(figures, chart)
    if as_json:
        # One line, written group by group as it is made: a report by SKU holds hundreds of
        # thousands of months (pipe it through `jq .` to read it).
        sys.stdout.writelines(figures.iter_json())
        sys.stdout.write("\n")
        sys.stdout.flush()
    else:
        from syndicator.cli.render.reviews import render_report

        console = out()
        for part in render_report(figures):
            console.print(part)
    if chart is not None:
        err().print(f"chart written to {chart}", markup=False)


@contextmanager
def _reviews_in_scope(
    config: Path, since: str | None, cooperative: str | None, channel: str | None
) -> Iterator[tuple[Store, ReviewFilter]]:
    """What ``reviews export`` and ``reviews report`` both start with: ``--since`` read, the
    config loaded, ``--cooperative`` and ``--channel`` checked against it (exit 2 for any of
    them wrong), then the store opened (and closed after) and the reviews those options
    select."""
    from syndicator.store.reviews import ReviewFilter

    try:
        start = _since_date(since)
    except ValueError as exc:
        raise failure(str(exc)) from None
    cfg = load(config)
    _check_scope(cfg, cooperative, channel)
    with closing(Store(cfg.database_url)) as store:
        yield store, ReviewFilter(since=start, cooperative=cooperative, channel=channel)


def _since_date(text: str | None) -> datetime | None:
    """``--since``: a date (midnight UTC) or an ISO time; naive times are UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: give a date as YYYY-MM-DD") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _check_scope(cfg: Config, cooperative: str | None, channel: str | None) -> None:
    """``--cooperative`` and ``--channel`` name ids of the config, or the command stops (2)."""
    from syndicator.common.problems import did_you_mean

    coops = [c for c in cfg.cooperatives if cooperative in (None, c.id)]
    channels = {ch.id for c in coops for ch in c.channels}
    for flag, value, known in (
        ("cooperative", cooperative, [c.id for c in cfg.cooperatives]),
        ("channel", channel, sorted(channels)),
    ):
        if value is not None and value not in known:
            hint = did_you_mean(value, known)
            raise failure(f"no {flag} {value!r} in the config{hint}")
