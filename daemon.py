"""Entry point: ``python daemon.py ARGS`` is ``syndicator ARGS``.

Today that runs the command line (``validate``, ``plan``); the scheduled daemon arrives
with its own command and this file stays its entry point.
"""

from __future__ import annotations

from syndicator.cli import main

if __name__ == "__main__":
    main()
