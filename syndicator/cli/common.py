"""What every command shares: the common options, the consoles, the config loaded or exit 2,
the exit code that problems make, and how a command stops on a wrong input.

:class:`Guarded` is the command group: an error a command did not handle itself (a wrong
input, the store in trouble, no file descriptor left) ends it with one message saying what
to do and the exit code of its group (:func:`stopped`), never a traceback. A bug still
shows its traceback."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from syndicator.cli.render.problems import print_problems
from syndicator.common.logs import add_secrets
from syndicator.common.problems import ConfigError, Problem, Severity, Unreadable
from syndicator.config import Config, load_config
from syndicator.errors import FixInput, SyndicatorError
from syndicator.plugins import load_channel_types

__all__ = [
    "ChannelOption",
    "ConfigOption",
    "CooperativeOption",
    "Guarded",
    "SinceOption",
    "err",
    "exit_code",
    "failure",
    "load",
    "out",
    "stopped",
]

# The system refused something for lack of a resource on this machine: not a bug.
LOCAL_FAULTS = (errno.EMFILE, errno.ENFILE, errno.ENOSPC, errno.EDQUOT, errno.EROFS)

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
        config = load_config(path, load_channel_types())
    except FixInput as exc:
        raise stopped(exc) from None
    add_secrets(*config.secret_values())  # masked in every log line the command writes
    return config


def stopped(exc: SyndicatorError | OSError) -> typer.Exit:
    """Say why a command stops on ``exc`` (on standard error, no traceback); the exit to
    raise: 2 for a wrong input (:class:`FixInput`: config, catalog, option, plugin), 3 for
    anything else it stopped on (the store in trouble, another daemon) and for a machine
    out of files or disk space."""
    if isinstance(exc, Unreadable):
        print_problems(err(), [exc.problem])
        return typer.Exit(2)
    if isinstance(exc, ConfigError):
        console = err()
        print_problems(console, exc.problems)
        console.print(
            f"{len(exc.problems)} problem(s) in the config; nothing was done.", style="red"
        )
        return typer.Exit(2)
    if isinstance(exc, OSError):
        what = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename else ""
        return failure(
            f"this machine refused it: {what}{where}. Free what it lacks (open files: "
            "ulimit -n; disk space), then run the command again.",
            3,
        )
    return failure(str(exc), 2 if isinstance(exc, FixInput) else 3)


class Guarded(TyperGroup):
    """The ``syndicator`` command group: see the module's doc."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except SyndicatorError as exc:
            raise stopped(exc) from None
        except OSError as exc:
            if exc.errno not in LOCAL_FAULTS:
                raise
            raise stopped(exc) from None
