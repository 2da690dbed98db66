"""What the commands print for people: rich tables and texts, apart from the commands that
gather what they show (``--json`` stays with each command: it is data, not drawing)."""

from __future__ import annotations
