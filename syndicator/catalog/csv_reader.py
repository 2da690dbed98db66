"""Catalog rows from a CSV file, as spreadsheets really save it.

Handles: comma, semicolon (French Excel) or tab between cells, found from the header line;
CRLF or LF; quoted cells with line breaks; column names in any case and order. Each row
remembers the line it starts on, so that a problem in a cell with line breaks still points at
the right line. The header is read once into a small table of what each column is for.

A column that is not read is only a warning when what it holds could not change a price, a
stock or a title: a text under an unknown language code, a shop's column with an unknown
field, a misspelt price, stock or title column, and a column written twice with different
values hold each row that fills them (docs/catalog.md).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import functools
import hashlib
import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from syndicator.catalog.rules import BASE_FIELDS, OVERRIDE_FIELDS, TEXT_FIELDS, Raw, Row
from syndicator.common.problems import Problem, Severity, Unreadable, did_you_mean
from syndicator.domain.languages import is_language
from syndicator.errors import Fallback

__all__ = [
    "CsvHeader",
    "NotSimple",
    "parse_header",
    "parse_record",
    "parse_records",
    "read_csv_rows",
    "record_digests",
    "scan_records",
    "sniff_delimiter",
]

_REQUIRED = ("price", "stock")
_WEIGHTY = ("sku", "parent_sku", "price", "stock")
_LEFT_OUT = "rows that fill it are left out until it is renamed"


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    channel: str | None  # None: a catalog field; else an override for that channel
    key: str


def _header_key(header: list[str]) -> bytes:
    """What every row's digest is keyed with: the header's own hash (a renamed column, and
    the same bytes mean other things: every row is new)."""
    seed = "\x1f".join(header) + "\x1e"
    return hashlib.blake2b(seed.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def record_digests(key: bytes, records: Iterable[bytes]) -> list[str]:
    """Identifies each row as written, under its header: the hash (BLAKE2b keyed with
    :func:`_header_key`) of the row's bytes as they are in the file (UTF-8): its lines
    joined by LF, without the line end after it (nor any CR before that).

    The bytes, not the cells, so that :func:`scan_records` can tell an unchanged row
    without parsing it. Two ways of writing the same cells (quotes or not) are two digests,
    which costs only a second look at that row. All in C (map): about 1.5 µs a row."""
    digest = functools.partial(hashlib.blake2b, digest_size=16, key=key)
    return list(map(_HEX, map(digest, records)))


_HEX = operator.methodcaller("hexdigest")


def _record_bytes(text: str) -> bytes:
    """A record's text as read (its lines with their ends) as :func:`record_digests` takes it."""
    if text.endswith("\n"):
        text = text[:-1]
    return text.rstrip("\r").encode("utf-8", "surrogatepass")


class _Lines:
    """The text's lines with their ends, one at a time (a large file is not copied whole),
    remembering where each ends, so that a record's text can be cut out of the file.

    Lines end with LF or CRLF; a file of CR-only line ends (old Macintosh Excel) is split on
    those instead.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.ends: list[int] = [0]  # ends[n]: the offset just past line n (1-based)

    def __iter__(self) -> Iterator[str]:
        text, ends = self.text, self.ends
        if "\n" not in text:
            for line in text.splitlines(keepends=True):
                ends.append(ends[-1] + len(line))
                yield line
            return
        start = 0
        while True:
            end = text.find("\n", start)
            if end < 0:
                if start < len(text):
                    ends.append(len(text))
                    yield text[start:]
                return
            ends.append(end + 1)
            yield text[start : end + 1]
            start = end + 1

    def record(self, first: int, last: int) -> str:
        """The text of lines ``first`` to ``last`` (1-based, inclusive)."""
        return self.text[self.ends[first - 1] : self.ends[last]]


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


@dataclass(frozen=True, slots=True)
class _Unread:
    """A column that is not read, though what it holds could change a price, a stock or a
    title: each row that fills it (differently from ``first``, for a second column of the
    same name) is held, with ``message``."""

    index: int
    message: str
    first: int | None = None


def _classify(
    header: list[str], channels: frozenset[str], file: str
) -> tuple[list[_Column], list[Problem], list[_Unread]]:
    columns: list[_Column] = []
    problems: list[Problem] = []
    unread: list[_Unread] = []
    seen: dict[str, int] = {}
    known = _known_columns(sorted(channels))

    def weighty(name: str) -> bool:
        """The column a misspelt name most likely meant (as did_you_mean finds it) holds a
        price, a stock, a title, a SKU or a shop's change."""
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        return bool(close) and (
            close[0] in _WEIGHTY
            or close[0].startswith("title_")
            or close[0].partition("_")[0] in channels
        )

    def warn(message: str) -> None:
        problems.append(Problem(file, 1, message, None, Severity.WARNING))

    def hold(index: int, what: str) -> None:
        warn(f"{what}; {_LEFT_OUT}")
        unread.append(
            _Unread(
                index,
                f"{what} (line 1), and this row fills it; rename the column or empty the cell "
                "(the row is left out until then, so that nothing it says is lost)",
            )
        )

    for index, raw in enumerate(header):
        name = "_".join(raw.strip().lower().split())
        if not name:
            continue
        if name in seen:
            warn(
                f'column "{raw.strip()}" appears twice (columns {seen[name] + 1} and '
                f"{index + 1}); the second one is ignored, and rows that fill it with another "
                "value are left out"
            )
            unread.append(
                _Unread(
                    index,
                    f'column "{raw.strip()}" appears twice (columns {seen[name] + 1} and '
                    f"{index + 1}) and this row has a different value in each; keep one column "
                    "(the row is left out until then)",
                    seen[name],
                )
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
                hold(
                    index,
                    f'column "{raw.strip()}": "{rest}" is not a language code; use a two-letter '
                    "code such as ar, fr or en",
                )
        elif head == "option" and rest:
            columns.append(_Column(index, None, f"option:{rest}"))
        elif head in channels and _override_key(rest):
            columns.append(_Column(index, head, _override_key(rest) or rest))
        elif _override_key(rest) and head:
            # An override for a shop this cooperative does not have: each row that fills it
            # is refused by the builder, which names the shop.
            columns.append(_Column(index, head, _override_key(rest) or rest))
        elif head in channels or weighty(name):
            hold(
                index,
                f'column "{raw.strip()}" is not a catalog column{did_you_mean(name, known)}',
            )
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
    return columns, problems, unread


@dataclass(slots=True)
class CsvHeader:
    """What the header line says about every row: the columns, what each is for, and the
    problems of the header itself (``missing``: required columns that are not there)."""

    file: str
    delimiter: str
    cells: list[str]
    problems: list[Problem]
    missing: frozenset[str]
    index: dict[str, int]  # catalog field -> its column
    over: list[tuple[int, str, str]]  # (column, channel, key) of each override column
    key: bytes  # what every row's digest is keyed with (see record_digests)
    unread: list[_Unread]  # columns not read whose cells hold a row

    @classmethod
    def of(cls, cells: list[str], file: str, channels: frozenset[str], delimiter: str) -> CsvHeader:
        """Raises :class:`Unreadable` when the header has no ``sku`` column."""
        if "sku" not in {"_".join(h.strip().lower().split()) for h in cells}:
            raise Unreadable(
                Problem(
                    file,
                    1,
                    'there is no "sku" column; the first row must hold the column names, one '
                    'of them "sku" (see docs/catalog.md)',
                )
            )
        columns, problems, unread = _classify(cells, channels, file)
        return cls(
            file=file,
            delimiter=delimiter,
            cells=cells,
            problems=problems,
            missing=frozenset(r for r in _REQUIRED if all(c.key != r for c in columns)),
            index={c.key: c.index for c in columns if c.channel is None},
            over=[(c.index, c.channel, c.key) for c in columns if c.channel is not None],
            key=_header_key(cells),
            unread=unread,
        )

    def row(self, cells: list[str], line: int, digest: str) -> Row | None:
        """The row of a record's cells (None for a blank one)."""
        if not any(cells):
            return None
        found: list[Problem] = []
        width = len(self.cells)
        if len(cells) > width:
            if any(c.strip() for c in cells[width:]):
                found.append(
                    Problem(
                        self.file,
                        line,
                        f"this row has {len(cells)} cells but the header has {width}; a cell "
                        f"probably holds a {self.delimiter!r} without quotes around it",
                    )
                )
        elif len(cells) < width:
            cells += [""] * (width - len(cells))
        for u in self.unread if not self.missing else ():  # else every row is held anyway
            cell = cells[u.index].strip()
            if cell and (u.first is None or cell != cells[u.first].strip()):
                found.append(Problem(self.file, line, u.message))
        overrides: dict[str, dict[str, Raw]] = {}
        for i, channel, key in self.over:
            if cells[i]:
                if channel in overrides:
                    overrides[channel][key] = cells[i]
                else:
                    overrides[channel] = {key: cells[i]}
        return Row(line, None, overrides, None, found, digest, cells=cells, index=self.index)


def read_csv_rows(
    text: str, file: str, channels: Iterable[str]
) -> tuple[list[Row], list[Problem], frozenset[str]]:
    """Rows of a decoded CSV text, problems of the header, and the required columns missing.

    Raises :class:`Unreadable` when the file has no header with a ``sku`` column.
    """
    if not text.strip():
        raise Unreadable(Problem(file, 1, "the file is empty"))
    lines = _Lines(text)
    lines_iter = iter(lines)
    first = next(lines_iter)
    delimiter = sniff_delimiter(first)
    reader = csv.reader(itertools.chain((first,), lines_iter), delimiter=delimiter, strict=False)
    try:
        header_cells = next(reader)
    except (StopIteration, csv.Error) as exc:  # pragma: no cover - splitlines gave a line
        raise Unreadable(Problem(file, 1, f"the first row cannot be read: {exc}")) from None
    header = CsvHeader.of(header_cells, file, frozenset(channels), delimiter)
    rows: list[Row] = []
    records: list[bytes] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            row = header.row(cells, line, "")
            if row is not None:
                rows.append(row)
                records.append(_record_bytes(lines.record(line, start - 1)))
    except csv.Error as exc:
        raise Unreadable(Problem(file, start, f"the CSV cannot be read here: {exc}")) from None
    for row, digest in zip(rows, record_digests(header.key, records), strict=True):
        row.digest = digest
    return rows, header.problems, header.missing


# ---------------------------------------------------------------------- without parsing
#
# A plan that knows the rows of an earlier version of the file (see syndicator/planning/basis.py)
# needs only the rows that are new. scan_records cuts the file's bytes into records by
# counting quotes, which is what the csv module does for every file a spreadsheet writes;
# each record that is parsed after all (a new one) must then read as exactly one row in
# strict mode, and each known one was read as one row before, so the cut is the csv
# module's own. A file where that does not hold (a quote in the middle of a cell...) is read
# the usual way: NotSimple.


class NotSimple(Fallback):
    """The file cannot be cut into records without parsing it all: read it the usual way."""


def scan_records(data: bytes) -> tuple[list[int], list[bytes]]:
    """The records of a UTF-8 CSV file's bytes (BOM removed): the line each starts on and
    its bytes as :func:`record_digests` takes them, the header first, blank lines left out.

    A line with an odd number of quotes opens a quoted cell that the next such line closes:
    the lines between belong to the same record. Raises :class:`NotSimple` for what only a
    full read handles: no LF line ends, a quote left open at the end of the file.
    """
    if b"\n" not in data:
        raise NotSimple("no LF line ends")
    lines = data.split(b"\n")
    if not lines[-1]:
        lines.pop()
    if lines[0].startswith(codecs.BOM_UTF8):
        lines[0] = lines[0][len(codecs.BOM_UTF8) :]
    counts = map(bytes.count, lines, itertools.repeat(b'"'))
    parity = map(operator.and_, counts, itertools.repeat(1))
    odd = list(itertools.compress(itertools.count(), parity))
    if len(odd) & 1:
        raise NotSimple(f"a quote opened on line {odd[-1] + 1} is never closed")
    if not odd:
        records, starts = lines, list(range(1, len(lines) + 1))
    else:
        records, starts = [], []
        done = 0
        for first, last in zip(odd[0::2], odd[1::2], strict=True):
            records += lines[done:first]
            starts += range(done + 1, first + 1)
            records.append(b"\n".join(lines[first : last + 1]))
            starts.append(first + 1)
            done = last + 1
        records += lines[done:]
        starts += range(done + 1, len(lines) + 1)
    records = list(map(bytes.rstrip, records, itertools.repeat(b"\r")))
    if b"" in records:
        kept = [i for i, r in enumerate(records) if r]
        records, starts = [records[i] for i in kept], [starts[i] for i in kept]
    return starts, records


def parse_header(record: bytes, file: str, channels: Iterable[str]) -> CsvHeader:
    """The header of :func:`scan_records`' first record."""
    text = _decode(record, file, 1)
    delimiter = sniff_delimiter(text.split("\n", 1)[0])  # as read_csv_rows: its first line
    (cells,) = _cells([text], delimiter)
    return CsvHeader.of(cells, file, frozenset(channels), delimiter)


def parse_record(header: CsvHeader, line: int, record: bytes, digest: str) -> Row | None:
    """One record of :func:`scan_records` as :func:`read_csv_rows` would give its row
    (None: a blank row). Raises :class:`NotSimple` when the record is not one row."""
    return parse_records(header, [line], [record], [digest])[0]


def parse_records(
    header: CsvHeader, lines: Sequence[int], records: Sequence[bytes], digests: Sequence[str]
) -> list[Row | None]:
    """Records of :func:`scan_records` as :func:`read_csv_rows` would give their rows (None:
    a blank row), all in one pass of the csv module (strict quoting). Raises
    :class:`NotSimple` when they are not one row each: a record that runs into the next
    (a quote left open) makes fewer rows than records, a line end outside quotes an error.
    """
    rows: list[Row | None] = []
    for start in range(0, len(records), _BATCH):  # batches: the decoded text is not all held
        batch = records[start : start + _BATCH]
        try:
            texts = list(map(bytes.decode, batch))
        except UnicodeDecodeError:
            for line, record in zip(lines[start:], batch, strict=False):
                _decode(record, header.file, line)  # raises, naming the line
            raise  # pragma: no cover - one of them failed above
        cells = _cells(texts, header.delimiter)
        del texts
        rows += map(header.row, cells, lines[start : start + _BATCH], digests[start:])
    return rows


def _cells(texts: Sequence[str], delimiter: str) -> list[list[str]]:
    """The cells of each record's text, read by the csv module in strict mode, line by line
    as :func:`read_csv_rows` feeds it (a cell's CRLF then reads as the same LF). Raises
    :class:`NotSimple` unless each record is exactly one row: the row of record k must end
    on record k's last line."""
    lines: list[str] = []
    ends: list[int] = []
    for text in texts:
        if "\n" in text:
            pieces = text.split("\n")
            lines += [piece + "\n" for piece in pieces[:-1]]
            lines.append(pieces[-1])
        else:
            lines.append(text)
        ends.append(len(lines))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    out: list[list[str]] = []
    try:
        for row in reader:
            if len(out) >= len(ends) or reader.line_num != ends[len(out)]:
                raise NotSimple("a record is not one row")
            out.append(row)
    except csv.Error as exc:
        raise NotSimple(f"not one row per record: {exc}") from None
    if len(out) != len(texts):
        raise NotSimple("a record is not one row")
    return out


_BATCH = 8192


def _decode(record: bytes, file: str, line: int) -> str:
    try:
        return record.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(
            Problem(
                file,
                line + record.count(b"\n", 0, exc.start),
                f"the file is not UTF-8 text (byte 0x{record[exc.start]:02X} here); in Excel "
                'choose "CSV UTF-8", in a text editor save as UTF-8',
            )
        ) from None
