"""What every command shares: the common options, the consoles, the config loaded or exit 2,
the exit code that problems make, and how a command stops on a wrong input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from syndicator.cli.render.problems import print_problems
from syndicator.common.problems import ConfigError, Problem, Severity, Unreadable
from syndicator.config import Config, load_config
from syndicator.errors import PluginError
from syndicator.plugins import load_channel_types

__all__ = [
    "ChannelOption",
    "ConfigOption",
    "CooperativeOption",
    "SinceOption",
    "err",
    "exit_code",
    "failure",
    "load",
    "out",
]

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar="SYNDICATOR_CONFIG",
        help="The daemon config (YAML).",
        dir_okay=False,
    ),
]
CooperativeOption = Annotated[str | None, typer.Option(help="Only this cooperative (id).")]
ChannelOption = Annotated[str | None, typer.Option(help="Only this channel (id).")]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only reviews created on or after this date (YYYY-MM-DD, UTC)."),
]


def out() -> Console:
    """Standard output, for what the command was asked for."""
    return Console(soft_wrap=True, highlight=False)


def err() -> Console:
    """Standard error, for problems and progress (so that ``--json`` stays clean)."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def failure(message: str | Text, code: int = 2) -> typer.Exit:
    """Say in red on standard error why the command stops; the exit to raise with ``code``
    (2 by default: a wrong input, nothing done)."""
    err().print(message, style="red", markup=False)
    return typer.Exit(code)


def exit_code(problems: list[Problem], *, errors_only: bool = False) -> int:
    """1 when there are problems (``errors_only``: errors, not warnings), else 0."""
    if errors_only:
        return 1 if any(p.severity is Severity.ERROR for p in problems) else 0
    return 1 if problems else 0


def load(path: Path) -> Config:
    """The daemon config, or every problem in it on standard error and exit 2."""
    try:
        return load_config(path, load_channel_types())
    except Unreadable as exc:
        print_problems(err(), [exc.problem])
        raise typer.Exit(2) from None
    except ConfigError as exc:
        console = err()
        print_problems(console, exc.problems)
        console.print(
            f"{len(exc.problems)} problem(s) in the config; nothing was done.", style="red"
        )
        raise typer.Exit(2) from None
    except PluginError as exc:
        raise failure(str(exc)) from None
