"""``syndicator run``: the daemon, until SIGTERM or Ctrl-C (docs/deploy.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from syndicator.cli.common import failure, load, stopped

__all__ = ["run"]


def run(
    config_path: Annotated[Path, typer.Option("--config", help="The daemon config file.")],
    log_level: Annotated[
        str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
    ] = "INFO",
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="json, console, or auto (JSON lines unless on a terminal).",
        ),
    ] = "auto",
) -> None:
    """Run the daemon: a pass on every catalog save, orders, reviews and read-backs on
    their schedules, until SIGTERM or Ctrl-C (docs/deploy.md)."""
    import signal

    from syndicator.common.logs import configure_logging
    from syndicator.errors import SyndicatorError
    from syndicator.service.daemon import Daemon
    from syndicator.store.tokens import stored_secrets

    if log_format not in ("json", "console", "auto"):
        raise failure("--log-format takes json, console or auto")
    config = load(config_path)
    redactor = configure_logging(
        json={"json": True, "console": False, "auto": None}[log_format],
        level=log_level.upper(),
        redact=config.secret_values(),
    )
    daemon = Daemon(config)

    def _stop(signum: int, _frame: object) -> None:
        daemon.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        daemon.start()
    except SyndicatorError as exc:  # another daemon, the store, the sandbox: no traceback
        raise stopped(exc) from None
    redactor.add(*daemon.config.secret_values(), *stored_secrets(daemon.store))
    try:
        while not daemon.stopping.wait(timeout=0.5):
            pass
    finally:
        daemon.shutdown()
    if not daemon.stopped.is_set() or any(w.thread.is_alive() for w in daemon.workers.values()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # a pass abandoned inside a channel call: leave now (safe, see daemon)
