"""Entry point of the daemon: ``python daemon.py --config FILE`` is ``syndicator run --config
FILE`` (see docs/deploy.md). ``python daemon.py COMMAND ...`` runs any other command."""

from __future__ import annotations

import sys

from syndicator.cli import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or (
        sys.argv[1].startswith("--") and sys.argv[1] not in ("--help", "--version")
    ):
        sys.argv.insert(1, "run")  # options only: the daemon
    main()
