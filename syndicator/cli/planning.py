"""``syndicator plan``: what would be sent to each channel now, and why (``--explain``)."""

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
    err,
    exit_code,
    failure,
    load,
    out,
)
from syndicator.cli.render.plan import explain as explain_sku
from syndicator.cli.render.plan import print_plan
from syndicator.cli.render.problems import print_problems
from syndicator.errors import ScopeError
from syndicator.planning.operations import Action
from syndicator.planning.plan import make_plan
from syndicator.store import Store

__all__ = ["plan"]


def plan(
    config: ConfigOption,
    cooperative: CooperativeOption = None,
    channel: ChannelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    explain: Annotated[
        str | None,
        typer.Option(help="Show how the price, quantity and language of this SKU were worked out."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also list unchanged SKUs.")] = False,
) -> None:
    """Show what would be sent to each channel now: create, update, reprice, restock, delist.

    Compares the catalog with what each channel last confirmed, in the state store. Never
    calls a channel.
    """
    cfg = load(config)
    with closing(Store(cfg.database_url)) as store:
        try:
            report = make_plan(
                cfg,
                store,
                today=datetime.now(UTC).date(),
                cooperative=cooperative,
                channel=channel,
                # Listing or explaining every SKU needs every row checked and projected.
                incremental=not (show_all or explain),
            )
        except ScopeError as exc:
            raise failure(Text(str(exc))) from None
    problems = report.problems()
    if explain:
        if not explain_sku(out(), report, explain):
            raise failure(Text(f"SKU {explain} is not in the plan of the selected channels"), 1)
    elif as_json:
        ops = [op.to_json() for op in report.ops() if show_all or op.action is not Action.UNCHANGED]
        typer.echo(json.dumps(ops, ensure_ascii=False, indent=2))
        print_problems(err(), problems)
    else:
        console = out()
        print_plan(console, report, show_all)
        if problems:
            console.print()
            print_problems(console, problems)
    unreadable = any(c.unreadable for c in report.cooperatives)
    raise typer.Exit(2 if unreadable else exit_code(problems, errors_only=True))
