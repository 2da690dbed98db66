"""``syndicator sync --once`` (one reconciling pass) and ``syndicator check`` (each channel's
credentials and account, against the marketplace)."""

from __future__ import annotations

import json
from contextlib import closing
from typing import Annotated

import typer
from rich.text import Text

from syndicator.cli.common import (
    ChannelOption,
    ConfigOption,
    CooperativeOption,
    err,
    failure,
    load,
    out,
)
from syndicator.cli.render.sync import print_sync
from syndicator.errors import QuotaWait
from syndicator.store import Store

__all__ = ["check", "sync"]


def sync(
    config: ConfigOption,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run one pass and exit (the daemon runs them on a schedule)."),
    ] = False,
    cooperative: CooperativeOption = None,
    channel: Annotated[
        str | None, typer.Option(help="Only send to this channel (orders come from all).")
    ] = None,
    confirm_delist: Annotated[
        bool,
        typer.Option(
            "--confirm-delist",
            help="Go ahead when a pass would take many listings off sale at once.",
        ),
    ] = False,
    readback: Annotated[
        bool, typer.Option(help="Also read every listing back and report drift.")
    ] = True,
    reviews: Annotated[bool, typer.Option(help="Also pull reviews.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Reconcile every channel once: pull orders into the stock ledger, plan, send the
    changes, journal every outcome, pull reviews. Exit 0 when everything went through, 1 when
    something failed or needs a person (see `syndicator journal`), 2 when the config or a
    catalog cannot be read."""
    from rich.progress import Progress, TaskID

    from syndicator.sync.reconcile import sync_once

    if not once:
        raise failure(Text("the daemon is not built yet: run one pass with --once"))
    cfg = load(config)
    with (
        closing(Store(cfg.database_url)) as store,
        Progress(console=err(), transient=True, disable=as_json) as bar,
    ):
        tasks: dict[str, TaskID] = {}

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done)

        report = sync_once(
            cfg,
            store,
            cooperative=cooperative,
            channel=channel,
            confirm_delist=confirm_delist,
            readback=readback,
            reviews=reviews,
            progress=progress,
        )
    if as_json:
        summary = {
            "run_id": report.run_id,
            "channels": [c.to_json() for c in report.channels],
            "alerts": report.alerts,
            "unreadable": report.unreadable,
        }
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print_sync(out(), report)
    raise typer.Exit(0 if report.ok and not report.alerts else 1)


def check(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    channel: ChannelOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 30.0,
) -> None:
    """Check the credentials and account of each channel against the marketplace.

    Makes one or two cheap calls per channel and says, in the channel's own words, what is
    wrong. Exit 0 when every checked channel answers, 1 otherwise.
    """
    from syndicator.errors import ChannelError
    from syndicator.sync.opener import open_connector

    cfg = load(config)
    console, failed, checked = out(), 0, 0
    with closing(Store(cfg.database_url)) as store:
        for coop in cfg.cooperatives:
            if cooperative is not None and coop.id != cooperative:
                continue
            for ch in coop.channels:
                if (channel is not None and ch.id != channel) or not ch.enabled:
                    continue
                checked += 1
                where = f"{coop.id}/{ch.id}"
                try:
                    with open_connector(cfg, store, coop.id, ch.id, timeout=timeout) as conn:
                        described = conn.check()
                except (ChannelError, QuotaWait) as exc:
                    failed += 1
                    said = store.redactor.redact(str(exc))  # a library may quote a key
                    console.print(Text(f"{where}: FAILED: {said}", style="red"))
                else:
                    console.print(Text(f"{where}: ok, {described}", style="green"))
    if not checked:
        raise failure(Text("no channel matches"))
    raise typer.Exit(1 if failed else 0)
