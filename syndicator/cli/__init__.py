"""The ``syndicator`` command: validate catalogs, plan what each channel needs.

Exit codes, for every command: 0 all good; 1 problems were found (the rest went on);
2 an input could not be read at all (config or catalog), or the command was misused; 3 a
person must act first (the store in trouble, another daemon, no file descriptor left).

One module per group of commands (``catalog``, ``planning``, ``sync``, ``status``,
``daemon``, ``plugins``, ``reviews``), what they share in ``common``, and what they print for
people in ``render``. This module puts them together, in the order ``--help`` lists them.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import typer

from syndicator import __version__
from syndicator.cli import catalog, daemon, planning, plugins, reviews, status, sync
from syndicator.cli.common import Guarded
from syndicator.common.logs import configure_logging

__all__ = ["app", "main"]

app = typer.Typer(
    name="syndicator",
    help="One catalog file per cooperative, pushed to every marketplace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Guarded,  # an error it stops on: one message and its exit code, no traceback
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"syndicator {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Syndicator: listings, prices and stock from one catalog file to every channel."""
    # Log lines (a listing refused, a drift found) go to standard error, warnings and up,
    # masked like the daemon's; standard output stays the command's own (--json). The
    # daemon sets its own level and format (syndicator run --log-level).
    configure_logging(level="WARNING")


app.command()(catalog.validate)
app.command()(planning.plan)
app.command()(plugins.sandbox)
app.command()(sync.sync)
app.command()(status.journal)
app.command()(status.status)
app.command()(sync.check)
app.command()(plugins.feed)
app.command()(daemon.run)

reviews_app = typer.Typer(
    help="Reviews pulled from every channel: export them, report on them (docs/reviews.md).",
    no_args_is_help=True,
)
reviews_app.command("export")(reviews.export)
reviews_app.command("report")(reviews.report)
app.add_typer(reviews_app, name="reviews")


def main() -> None:
    """Entry point of the ``syndicator`` console script."""
    if os.environ.get("PYTHONIOENCODING") is None and sys.stdout.encoding.lower() != "utf-8":
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
        sys.stderr.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    # What the imports made lives as long as the process: frozen, the cycle collector never
    # walks it again, neither at each full collection nor at exit, where that took 0.2 to
    # 0.3 s of every command (docs/benchmarks.md, "Reviews report").
    gc.freeze()
    app()
