"""The state of each channel as an operator reads it (``status``), and the journal of what
was sent and answered (``journal``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from syndicator.service.status import StatusReport
    from syndicator.store.journal import JournalEntry

__all__ = ["ago", "journal_table", "print_status"]

_PASS_STYLES = {"ok": "green", "partial": "yellow", "failed": "red", "stopped": "red"}
_OUTCOME_STYLES = {
    "ok": "green",
    "failed": "red",
    "drift": "yellow",
    "stopped": "red",
    "refused": "red",
}


def ago(seconds: float) -> str:
    """A duration as an operator reads it: 40 s, 12 min, 3 h, 2 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{max(0.0, seconds):.0f} s"


def print_status(console: Console, report: StatusReport) -> None:
    """A table per cooperative (a row per channel), the last error of each channel in its
    own words, the open alerts; "all channels ok" when all is well."""
    now = report.at
    for coop in report.cooperatives:
        table = Table(
            show_edge=False,
            header_style="bold",
            title=f"{coop.cooperative} at {now:%Y-%m-%d %H:%M} UTC",
            title_justify="left",
        )
        table.add_column("channel", no_wrap=True)
        table.add_column("last pass", min_width=12)
        table.add_column("listings", min_width=9)
        for name in ("oldest pending", "calls today", "orders", "reviews"):
            table.add_column(name, overflow="fold")
        errors: list[Text] = []
        for c in coop.channels:
            last = Text("never", style="dim")
            if c.last_pass is not None:
                p = c.last_pass
                last = Text(p.outcome, style=_PASS_STYLES.get(p.outcome, ""))
                last.append(f", {p.kind} {ago((now - p.finished_at).total_seconds())} ago")
            oldest = Text("-")
            if c.oldest_pending is not None:
                o = c.oldest_pending
                age = ago(o.age(now).total_seconds())
                oldest = Text(f"{o.sku} ({age})", style="bold red" if c.backlog else "")
            calls = "-"
            if c.quota is not None:
                calls = str(c.quota.calls)
                if c.quota.throttled:
                    calls += f", {c.quota.throttled}×429"
                if c.quota.daily:
                    share = max(d.used / d.limit for d in c.quota.daily)
                    calls += f", {share:.0%} of daily"
            counts = Text(f"{c.listings.in_sync} in sync")
            if c.listings.pending:
                counts.append(f"\n{c.listings.pending} pending", style="yellow")
            if c.listings.differs:
                counts.append(f"\n{c.listings.differs} differ", style="yellow")
            if c.listings.failed:
                counts.append(f"\n{c.listings.failed} failed", style="red")
            table.add_row(
                c.channel,
                last,
                counts,
                oldest,
                calls,
                str(c.orders.count),
                str(c.reviews.count),
            )
            if c.last_error is not None:
                e = c.last_error
                current = bool(c.listings.failed) or not c.ok
                what = " ".join(part for part in (e.sku, e.action, e.outcome) if part)
                line = Text(f"{c.channel}, {ago((now - e.at).total_seconds())} ago, {what}: ")
                line.append(e.message or "(no message)")
                line.stylize("" if current else "dim")
                errors.append(line)
        console.print(table)
        if errors:
            console.print(Text("The last error on each channel, in its own words:", style="bold"))
            for line in errors:
                console.print(line)
        for alert in coop.alerts:
            where = f" {alert.channel}" if alert.channel else ""
            console.print(Text(f"ALERT {alert.kind}{where}: {alert.message}", style="bold red"))
        for c in coop.channels:
            if troubles := c.troubles():
                text = f"NOT OK {coop.cooperative}/{c.channel}: {'; '.join(troubles)}"
                console.print(Text(text, style="bold red"))
        console.print()
    if report.ok:
        console.print(Text("all channels ok", style="green"))


def journal_table(entries: Sequence[JournalEntry]) -> Table:
    """One row per entry, in the order given: when, which shop and SKU, the action, the try,
    the outcome and what the channel said."""
    table = Table(show_edge=False, header_style="bold")
    for name in ("time (UTC)", "shop", "SKU", "action", "try", "outcome", "the channel said"):
        table.add_column(name)
    for e in entries:
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{e.cooperative}/{e.channel}",
            e.sku or "",
            e.action,
            str(e.attempt),
            Text(e.outcome, style=_OUTCOME_STYLES.get(e.outcome, "")),
            e.message or "",
        )
    return table
