"""A sync pass as people read it: one row per channel, then what could not be read and the
alerts it raised."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from syndicator.sync.reconcile import SyncReport

__all__ = ["print_sync"]


def print_sync(console: Console, report: SyncReport) -> None:
    """Orders, what was sent and what failed, drift and reviews, per channel."""
    table = Table(show_edge=False, header_style="bold", title=f"sync {report.run_id}")
    for name in ("channel", "orders", "sent", "failed", "drift", "reviews", "note"):
        table.add_column(name)
    for c in report.channels:
        sent = ", ".join(f"{n} {a}" for a, n in sorted(c.done.items())) or "-"
        failed = ", ".join(f"{n} {a}" for a, n in sorted(c.failed.items())) or "-"
        table.add_row(
            f"{c.cooperative}/{c.channel}",
            f"{c.orders} ({c.order_lines} new lines)",
            sent,
            failed,
            str(c.drift),
            str(c.reviews),
            c.stopped or "",
        )
    console.print(table)
    for line in report.unreadable:
        console.print(Text(f"catalog cannot be read: {line}", style="red"))
    for alert in report.alerts:
        console.print(Text(f"ALERT {alert}", style="bold red"))
