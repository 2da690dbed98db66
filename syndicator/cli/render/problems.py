"""Problems as a member reads them, ``FILE:LINE: SKU: what is wrong``, and a catalog's summary."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from syndicator.catalog import Catalog
from syndicator.common.problems import Problem, Severity

__all__ = ["catalog_summary", "print_problems", "problem_text"]


def problem_text(p: Problem) -> Text:
    """One problem on one line: where, the SKU, what is wrong (and whether it only warns)."""
    where = f"{p.file}:{p.line}" if p.line else p.file
    text = Text()
    text.append(f"{where}:", style="dim")
    if p.sku:
        text.append(f" {p.sku}:", style="bold")
    text.append(f" {p.message}")
    if p.severity is Severity.WARNING:
        text.append(" (warning)", style="yellow")
    return text


def print_problems(console: Console, problems: list[Problem]) -> None:
    """Every problem, one a line."""
    for p in problems:
        console.print(problem_text(p))


def catalog_summary(catalog: Catalog) -> Text:
    """A catalog in one line: its products and SKUs, its problems, the SKUs left out."""
    units = sum(1 for _ in catalog.units())
    errors = sum(p.severity is Severity.ERROR for p in catalog.problems)
    warnings = len(catalog.problems) - errors
    text = Text(f"{catalog.display}: {len(catalog.products)} products, {units} SKUs")
    if not catalog.problems:
        text.append(" — no problems", style="green")
    else:
        text.append(
            f" — {errors} error(s), {warnings} warning(s)", style="red" if errors else "yellow"
        )
        if catalog.held:
            text.append(
                f"; {len(catalog.held)} SKU(s) left out until fixed: "
                f"{', '.join(sorted(catalog.held)[:10])}"
                f"{' ...' if len(catalog.held) > 10 else ''}"
            )
    return text
