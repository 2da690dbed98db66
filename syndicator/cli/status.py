"""``syndicator status`` (what is in sync on each channel, what is not and why) and
``syndicator journal`` (what was sent and what each channel answered): both read the state
store only."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.text import Text

from syndicator.cli.common import (
    ChannelOption,
    ConfigOption,
    CooperativeOption,
    failure,
    load,
    out,
)
from syndicator.cli.render.status import journal_table, print_status
from syndicator.store import Store

__all__ = ["journal", "status"]


def journal(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    channel: ChannelOption = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    outcome: Annotated[
        str | None, typer.Option(help="Only this outcome: ok, failed, drift, stopped, refused.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action (create, reprice ...).")
    ] = None,
    run: Annotated[str | None, typer.Option(help="Only this run id.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only from this time (UTC), e.g. 2026-11-25T08:00.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """What was sent to each channel and what it answered, in its own words."""
    from syndicator.store.journal import query_journal

    cfg = load(config)
    with closing(Store(cfg.database_url)) as store, store.read() as conn:
        entries = query_journal(
            conn,
            cooperative=cooperative,
            channel=channel,
            sku=sku,
            outcome=outcome,
            action=action,
            run_id=run,
            since=since.replace(tzinfo=UTC) if since and since.tzinfo is None else since,
            limit=limit,
        )
    if as_json:
        for e in entries:
            typer.echo(json.dumps(e.to_json(), ensure_ascii=False))
        return
    out().print(journal_table(entries))


def status(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """What is in sync on each channel, what is not and why, in the channel's own words.

    Reads the state store only; calls no channel. Exit 0 when all is well; 1 when a
    channel's last pass failed or stopped, a change has waited longer than
    daemon.alerts.backlog_after, or an alert is open (see docs/status.md).
    """
    from syndicator.service.status import channel_status

    cfg = load(config)
    with closing(Store(cfg.database_url)) as store:
        try:
            report = channel_status(cfg, store, cooperative=cooperative)
        except KeyError:
            raise failure(Text(f"no cooperative {cooperative} in the config")) from None
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print_status(out(), report)
    raise typer.Exit(0 if report.ok else 1)
