"""A plan as people read it: a table of operations per channel, and how one SKU's price,
quantity and language were worked out (``plan --explain``)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from syndicator.planning.operations import Action, PlannedOp
from syndicator.planning.plan import PlanReport

__all__ = ["explain", "plan_table", "print_plan"]

_ACTION_STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "cyan",
    Action.REPRICE: "magenta",
    Action.RESTOCK: "blue",
    Action.DELIST: "red",
    Action.DELETE: "red",
    Action.HOLD: "yellow",
    Action.UNCHANGED: "dim",
}


def _money(amount: Decimal | None, currency: str | None) -> str:
    return "" if amount is None or currency is None else f"{amount} {currency}"


def plan_table(ops: list[PlannedOp]) -> Table:
    """One row per operation: the SKU, the action, what it sends and what was there."""
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in ("SKU", "action", "lang", "price", "qty", "was", "why"):
        table.add_column(name, overflow="fold")
    for op in ops:
        was = ""
        if op.previous_price or op.previous_quantity is not None:
            prev = op.previous_price
            was = (
                f"{_money(prev.amount, prev.currency) if prev else '?'} × "
                f"{'' if op.previous_quantity is None else op.previous_quantity}"
            )
        why = op.reason or ", ".join(op.changes)
        table.add_row(
            op.sku,
            Text(str(op.action), style=_ACTION_STYLE[op.action]),
            op.language or "",
            _money(op.price.amount, op.price.currency) if op.price else "",
            "" if op.quantity is None else str(op.quantity),
            was,
            why,
        )
    return table


def print_plan(console: Console, report: PlanReport, show_all: bool) -> None:
    """Each cooperative, its catalog, and each channel's operations and counts."""
    for cplan in report.cooperatives:
        coop = cplan.cooperative
        title = f"{coop.id}" + (f" — {coop.name}" if coop.name else "")
        console.rule(Text(title, style="bold"))
        if cplan.unreadable:
            console.print(
                Text(
                    f"catalog cannot be read: {cplan.unreadable}; nothing is planned "
                    "for this cooperative and its channels stay as they are",
                    style="red",
                )
            )
            continue
        catalog = cplan.catalog
        assert catalog is not None
        checked = sum(1 for _ in catalog.units())
        skipped = (
            f" and {cplan.unchanged} left unchanged without checking" if cplan.unchanged else ""
        )
        console.print(
            Text(
                f"catalog {catalog.display}: {checked} SKUs checked{skipped}",
                style="dim",
            )
        )
        for chplan in cplan.channels:
            ch = chplan.channel
            rate = chplan.rate
            head = Text(f"\n{ch.id} ", style="bold")
            head.append(f"({ch.type}, {ch.currency}", style="dim")
            if rate and rate.day:
                head.append(f", 1 MAD = {rate.rate} {ch.currency} as of {rate.day}", style="dim")
            head.append(f", languages {', '.join(ch.languages)})", style="dim")
            console.print(head)
            if not ch.enabled:
                console.print(Text("  turned off in the config", style="dim"))
                continue
            counts = chplan.counts()
            summary = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
            shown = [op for op in chplan.ops if show_all or op.action is not Action.UNCHANGED]
            if shown:
                console.print(plan_table(shown))
            console.print(Text(f"  {summary or 'nothing to do'}", style="bold"))
    if report.warnings:
        console.print()
        for w in report.warnings:
            console.print(Text(f"warning: {w}", style="yellow"))


def explain(console: Console, report: PlanReport, sku: str) -> bool:
    """How ``sku`` was planned on each selected channel: the price step by step, the stock
    and the language. False when no selected channel plans it."""
    found = False
    for cplan in report.cooperatives:
        stock = cplan.stock.get(sku)
        for chplan in cplan.channels:
            for op in chplan.ops:
                if op.sku != sku:
                    continue
                found = True
                ch = chplan.channel
                console.rule(
                    Text(f"{sku} on {cplan.cooperative.id}/{ch.id}: {op.action}", style="bold")
                )
                if op.reason:
                    console.print(Text(f"why: {op.reason}"))
                p = op.projection
                if p is None:
                    continue
                console.print(
                    Text(
                        f"language: {p.language} (channel prefers "
                        f"{', '.join(ch.languages)}); title: {p.title}"
                    )
                )
                console.print(Text(f"category: {p.category}"))
                table = Table(show_edge=False, header_style="bold", title="price")
                table.add_column("step")
                table.add_column("amount", justify="right")
                for step in p.quote.steps:
                    shown = step.amount.quantize(Decimal("0.0001")).normalize()
                    exact = "" if shown == step.amount else "≈ "
                    table.add_row(step.label, f"{exact}{shown:f} {step.currency}")
                console.print(table)
                cur = p.price.currency
                console.print(
                    Text(
                        f"net after fees: {p.quote.net.quantize(Decimal('0.01'))} {cur}; wanted: "
                        f"{p.quote.wanted.quantize(Decimal('0.0001')).normalize():f} {cur}"
                    )
                )
                if stock is not None:
                    cap = ch.stock.max_quantity
                    console.print(
                        Text(
                            f"stock: {stock.count} counted at "
                            f"{stock.counted_at:%Y-%m-%d %H:%M} UTC, "
                            f"{stock.changes:+d} since (sales and cancellations), available "
                            f"{stock.available}; buffer {p.buffer}"
                            f"{f', at most {cap}' if cap else ''} -> listed {p.quantity}"
                        )
                    )
                if op.previous_price or op.previous_quantity is not None:
                    console.print(
                        Text(
                            f"last confirmed: {op.previous_price or '-'} × "
                            f"{op.previous_quantity if op.previous_quantity is not None else '-'}"
                        )
                    )
    return found
