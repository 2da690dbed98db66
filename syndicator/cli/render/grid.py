"""A large table drawn fast: as rich draws a ``Table`` of text cells, without a layout for
each cell (the review report by SKU has a row for each of 10,000 SKUs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rich.box import HEAVY_HEAD
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

__all__ = ["Cell", "Grid"]

# A cell: its text and its style (a rich style name; "" for none).
Cell = tuple[str, str]


class Grid:
    """A table of text cells drawn exactly as rich draws a ``Table(show_edge=False)`` of the
    same cells (the same widths, rules, alignment and wrapping, worked out the way rich works
    them out), but each row is a few segments where rich lays out every cell: about a
    millisecond a row, ten seconds for the 10,000 SKUs of a review report. The first column
    is a label, to the left; the others figures, to the right.
    """

    def __init__(
        self,
        *,
        title: str,
        caption: str,
        header: Sequence[str],
        rows: Sequence[Sequence[Cell]],
        ruled: int,
    ) -> None:
        self.title = title
        self.caption = caption
        self.header = [(name, "bold") for name in header]
        self.rows = rows
        self.ruled = ruled  # how many rows come before the rule above the last

    @staticmethod
    def _widths(rows: Sequence[Sequence[int]], max_width: int) -> list[int]:
        """Each column's width, padding included: its widest cell; when the table is then
        too wide, the widest columns narrowed first, down to the next widest, then every
        column evenly (rich's ``Table._collapse_widths``)."""
        widths = [max(column) + 2 for column in zip(*rows, strict=True)]  # a space either side
        room = max_width - (len(widths) - 1)  # the dividers
        excess = sum(widths) - room
        while excess > 0:
            widest = max(widths)
            difference = widest - max((w for w in widths if w != widest), default=0)
            ratios = [int(w == widest) for w in widths]
            widths = _ratio_reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
            excess = sum(widths) - room
        return widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        def length(text: str) -> int:
            return len(text) if text.isascii() and text.isprintable() else cell_len(text)

        header = [length(text) for text, _ in self.header]
        lengths = [[length(text) for text, _ in row] for row in self.rows]
        widths = self._widths([header, *lengths], options.max_width)
        table_width = sum(widths) + len(widths) - 1
        around = options.update(width=table_width, highlight=False, height=None, justify="left")
        yield from console.render(Text(self.title, style="table.title"), around)
        box = HEAVY_HEAD.substitute(options)
        plain = Style.null()
        styles: dict[str, Style] = {"": plain}
        wrapped: dict[tuple[str, str, int, bool], list[tuple[str, Style]]] = {}

        def style(name: str) -> Style:
            found = styles.get(name)
            if found is None:
                found = styles[name] = console.get_style(name)
            return found

        def cell(
            text: str, name: str, size: int, width: int, first: bool
        ) -> list[tuple[str, Style]]:
            """A cell's lines, padded to its width: the first column to the left (a label
            too long folded), the figures to the right (wrapped between words)."""
            inner = width - 2
            spare = inner - size
            if spare >= 0:
                padded = f" {text}{' ' * spare} " if first else f" {' ' * spare}{text} "
                return [(padded, style(name))]
            if first and size == len(text) and " " not in text:
                # one word of one-cell characters: folded every ``inner`` characters, as
                # rich's wrap folds it
                chunks = [text[i : i + inner] for i in range(0, len(text), inner)]
                return [(f" {chunk:<{inner}} ", style(name)) for chunk in chunks]
            key = (text, name, inner, first)
            found = wrapped.get(key)
            if found is None:  # the same figures come back often: wrapped once each
                justify: Literal["left", "right"] = "left" if first else "right"
                overflow: Literal["fold", "ellipsis"] = "fold" if first else "ellipsis"
                lines = Text(text, style=name).wrap(
                    console, inner, justify=justify, overflow=overflow
                )
                found = wrapped[key] = [(f" {line.plain} ", style(name)) for line in lines]
            return found

        def row(
            cells: Sequence[Cell], sizes: Sequence[int], divider: str, *, header: bool = False
        ) -> RenderResult:
            drawn = [
                cell(text, name, size, width, i == 0)
                for i, ((text, name), size, width) in enumerate(
                    zip(cells, sizes, widths, strict=True)
                )
            ]
            height = max(len(lines) for lines in drawn)
            if height > 1:  # body cells at the top of the row, header cells at the bottom
                for i, lines in enumerate(drawn):
                    blank = [(" " * widths[i], plain)] * (height - len(lines))
                    drawn[i] = blank + lines if header else lines + blank
            for line in range(height):
                # one segment for each run of one style: a few a line rather than a dozen
                text, current = drawn[0][line]
                for lines in drawn[1:]:
                    piece, piece_style = lines[line]
                    if current is not plain:
                        yield Segment(text, current)
                        text, current = divider, plain
                    else:
                        text += divider
                    if piece_style is current:
                        text += piece
                    else:
                        yield Segment(text, current)
                        text, current = piece, piece_style
                yield Segment(text, current)
                yield Segment.line()

        yield from row(self.header, header, box.head_vertical, header=True)
        yield Segment(box.get_row(widths, "head", edge=False))
        yield Segment.line()
        for i, (cells, sizes) in enumerate(zip(self.rows, lengths, strict=True)):
            if i == self.ruled and i:
                yield Segment(box.get_row(widths, "row", edge=False))
                yield Segment.line()
            yield from row(cells, sizes, box.mid_vertical)
        yield from console.render(Text(self.caption, style="table.caption"), around)


def _ratio_reduce(
    total: int, ratios: list[int], maximums: list[int], values: list[int]
) -> list[int]:
    """``values`` less ``total`` shared out by ``ratios``, at most ``maximums`` each (rich's
    own ``ratio_reduce``, which :meth:`Grid._widths` follows)."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    out: list[int] = []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            share = min(most, round(ratio * remaining / total_ratio))
            out.append(value - share)
            remaining -= share
            total_ratio -= ratio
        else:
            out.append(value)
    return out
