"""``python -m syndicator`` runs the command line."""

from __future__ import annotations

from syndicator.cli import main

main()
