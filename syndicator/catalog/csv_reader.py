"""Catalog rows from a CSV file, as spreadsheets really save it.

Handles: comma, semicolon (French Excel) or tab between cells, found from the header line;
CRLF or LF; quoted cells with line breaks; column names in any case and order. Each row
remembers the line it starts on, so that a problem in a cell with line breaks still points at
the right line. The header is read once into a small table of what each column is for.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from syndicator.catalog.build import BASE_FIELDS, OVERRIDE_FIELDS, TEXT_FIELDS, Raw, Row
from syndicator.languages import is_language
from syndicator.problems import Problem, Severity, Unreadable, did_you_mean

__all__ = ["read_csv_rows", "sniff_delimiter"]

_REQUIRED = ("price", "stock")


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    channel: str | None  # None: a catalog field; else an override for that channel
    key: str


def _header_hash(header: list[str]) -> Any:
    """The start of every row's digest: the header, hashed once for the whole file."""
    seed = "\x1f".join(header) + "\x1e"
    return hashlib.blake2b(seed.encode("utf-8", "surrogatepass"), digest_size=16)


def _digest(start: Any, cells: list[str]) -> str:
    """Identifies a row as written, under this header (a renamed column changes it): the
    hash of the header, a separator and the row's cells, as one text."""
    h = start.copy()
    h.update("\x1f".join(cells).encode("utf-8", "surrogatepass"))
    return str(h.hexdigest())


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their ends, one at a time (a large file is not copied whole).

    Lines end with LF or CRLF; a file of CR-only line ends (old Macintosh Excel) is split on
    those instead.
    """
    if "\n" not in text:
        yield from text.splitlines(keepends=True)
        return
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            if start < len(text):
                yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def sniff_delimiter(header_line: str) -> str:
    """The separator used in the header: the most frequent of ``;``, ``,`` and tab."""
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _known_columns(channels: Iterable[str]) -> list[str]:
    names = list(BASE_FIELDS)
    for head in TEXT_FIELDS:
        names += [f"{head}_{lang}" for lang in ("ar", "fr", "en")]
    names.append("option_<name>")
    for ch in channels:
        names += [f"{ch}_{f}" for f in OVERRIDE_FIELDS]
        names += [f"{ch}_{head}_{lang}" for head in TEXT_FIELDS for lang in ("ar", "fr", "en")]
    return names


def _override_key(rest: str) -> str | None:
    if rest in OVERRIDE_FIELDS:
        return rest
    head, _, lang = rest.partition("_")
    if head in TEXT_FIELDS and is_language(lang):
        return f"{head}:{lang}"
    return None


def _classify(
    header: list[str], channels: frozenset[str], file: str
) -> tuple[list[_Column], list[Problem]]:
    columns: list[_Column] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    known = _known_columns(sorted(channels))

    def warn(message: str) -> None:
        problems.append(Problem(file, 1, message, None, Severity.WARNING))

    for index, raw in enumerate(header):
        name = "_".join(raw.strip().lower().split())
        if not name:
            continue
        if name in seen:
            warn(
                f'column "{raw.strip()}" appears twice (columns {seen[name] + 1} and '
                f"{index + 1}); the second one is ignored"
            )
            continue
        seen[name] = index
        head, _, rest = name.partition("_")
        if name in BASE_FIELDS:
            columns.append(_Column(index, None, name))
        elif head in TEXT_FIELDS and rest:
            if is_language(rest):
                columns.append(_Column(index, None, f"{head}:{rest}"))
            else:
                warn(
                    f'column "{raw.strip()}": "{rest}" is not a language code; use a '
                    f"two-letter code such as ar, fr or en (the column is ignored)"
                )
        elif head == "option" and rest:
            columns.append(_Column(index, None, f"option:{rest}"))
        elif head in channels and _override_key(rest):
            columns.append(_Column(index, head, _override_key(rest) or rest))
        elif _override_key(rest) and head:
            # An override for a shop this cooperative does not have: each row that fills it
            # is refused by the builder, which names the shop.
            columns.append(_Column(index, head, _override_key(rest) or rest))
        else:
            warn(
                f'column "{raw.strip()}" is not a catalog column{did_you_mean(name, known)}; '
                "it is ignored"
            )
    names = {c.key for c in columns if c.channel is None}
    for required in _REQUIRED:
        if required not in names:
            problems.append(
                Problem(
                    file,
                    1,
                    f'there is no "{required}" column{did_you_mean(required, header)}; every '
                    "row needs one (rows are left out until the column is added)",
                )
            )
    return columns, problems


def read_csv_rows(
    text: str, file: str, channels: Iterable[str]
) -> tuple[list[Row], list[Problem], frozenset[str]]:
    """Rows of a decoded CSV text, problems of the header, and the required columns missing.

    Raises :class:`Unreadable` when the file has no header with a ``sku`` column.
    """
    channel_set = frozenset(channels)
    if not text.strip():
        raise Unreadable(Problem(file, 1, "the file is empty"))
    lines = _lines(text)
    first = next(lines)
    delimiter = sniff_delimiter(first)
    reader = csv.reader(itertools.chain((first,), lines), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:  # pragma: no cover - splitlines gave a line
        raise Unreadable(Problem(file, 1, f"the first row cannot be read: {exc}")) from None
    if "sku" not in {"_".join(h.strip().lower().split()) for h in header}:
        raise Unreadable(
            Problem(
                file,
                1,
                'there is no "sku" column; the first row must hold the column names, one of '
                'them "sku" (see docs/catalog.md)',
            )
        )
    columns, problems = _classify(header, channel_set, file)
    width = len(header)
    missing = frozenset(r for r in _REQUIRED if all(c.key != r for c in columns))

    base = [(c.index, c.key) for c in columns if c.channel is None]
    index = {key: i for i, key in base}
    over = [(c.index, c.channel, c.key) for c in columns if c.channel is not None]
    start_hash = _header_hash(header)
    rows: list[Row] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cells):
                continue
            found: list[Problem] = []
            if len(cells) > width:
                if any(c.strip() for c in cells[width:]):
                    found.append(
                        Problem(
                            file,
                            line,
                            f"this row has {len(cells)} cells but the header has {width}; a "
                            f"cell probably holds a {delimiter!r} without quotes around it",
                        )
                    )
            elif len(cells) < width:
                cells += [""] * (width - len(cells))
            overrides: dict[str, dict[str, Raw]] = {}
            for i, channel, key in over:
                if cells[i]:
                    if channel in overrides:
                        overrides[channel][key] = cells[i]
                    else:
                        overrides[channel] = {key: cells[i]}
            rows.append(
                Row(
                    line,
                    None,
                    overrides,
                    None,
                    found,
                    _digest(start_hash, cells),
                    cells=cells,
                    index=index,
                )
            )
    except csv.Error as exc:
        raise Unreadable(Problem(file, start, f"the CSV cannot be read here: {exc}")) from None
    return rows, problems, missing
