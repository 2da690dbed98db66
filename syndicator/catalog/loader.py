"""Open a catalog file safely and turn it into a :class:`~syndicator.catalog.model.Catalog`.

Before any parsing: the file must exist, be under the size limit, look like text (no NUL
bytes; a workbook, PDF or photo is named as such) and be UTF-8 (with or without BOM) or
UTF-16 with a BOM (Excel's "Unicode text"). Anything else raises
:class:`~syndicator.common.problems.Unreadable` with a message saying what to do.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from syndicator.catalog.csv_reader import (
    CsvHeader,
    NotSimple,
    parse_header,
    parse_record,
    parse_records,
    read_csv_rows,
    record_digests,
    scan_records,
)
from syndicator.catalog.model import Catalog
from syndicator.catalog.rules import CatalogBuilder, Row
from syndicator.catalog.yaml_reader import read_yaml_rows
from syndicator.common.bulk import paused_gc
from syndicator.common.problems import Problem, Unreadable, sort_problems
from syndicator.common.yamlsafe import YamlLimits
from syndicator.plugins import load_channel_types

__all__ = [
    "CatalogLimits",
    "CatalogRows",
    "CatalogScan",
    "NotSimple",
    "decode_text",
    "load_catalog",
    "override_channels",
    "read_catalog",
    "scan_catalog",
]

MIB = 1024 * 1024

_MAGIC = (
    (b"PK\x03\x04", 'a zip archive or an Excel workbook (.xlsx); save it as "CSV UTF-8"'),
    (b"\xd0\xcf\x11\xe0", 'an old Excel workbook (.xls); save it as "CSV UTF-8"'),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "an SQLite database"),
)


@dataclass(frozen=True, slots=True)
class CatalogLimits:
    max_bytes: int = 64 * MIB
    yaml: YamlLimits = field(default_factory=YamlLimits)


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 (BOM or not) or BOM-marked UTF-16 text; Unreadable with the line otherwise."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise Unreadable(Problem(file, None, f"this is not a catalog but {what}"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise Unreadable(Problem(file, None, "the file says UTF-16 but is not")) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise Unreadable(
            Problem(
                file,
                data.count(b"\n", 0, nul) + 1,
                "the file holds binary data (a NUL byte), not text; save the catalog as CSV UTF-8 "
                "or YAML",
            )
        )
    try:
        # Decoded straight from the buffer, past the BOM: no second copy of a large file.
        start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        return str(memoryview(data)[start:], "utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Unreadable(
            Problem(
                file,
                line,
                f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X} here); in Excel choose "
                '"CSV UTF-8", in a text editor save as UTF-8',
            )
        ) from None


DIGEST = "sha256"  # hardware-assisted on most CPUs: faster than BLAKE2b on big files


def file_digest(data: bytes) -> str:
    """A digest of a catalog file's bytes: equal digests, equal files."""
    return hashlib.new(DIGEST, data).hexdigest()


def path_digest(path: Path) -> str:
    """:func:`file_digest` of the file at ``path``, read in chunks (never whole in memory)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, DIGEST).hexdigest()


@dataclass(slots=True)
class CatalogRows:
    """A catalog file read into rows, before the rules are applied (see :func:`read_catalog`).

    ``problems``: what the reader found about the file as a whole (an unknown column ...);
    ``absent``: required CSV columns that are missing.
    """

    path: Path
    display: str
    format: str
    cooperative: str | None
    rows: list[Row]
    problems: list[Problem]
    absent: frozenset[str]
    channels: tuple[str, ...]
    modified_at: datetime
    digest: str  # of the file's bytes as read (see :func:`file_digest`)

    def build(self, rows: list[Row] | None = None) -> Catalog:
        """Apply the rules to ``rows`` (all of them when None) and build the catalog.

        Given a subset, it must hold whole families (a product and all its variant rows):
        the checks across rows (duplicate SKUs, parents) see only the rows given.
        """
        builder = CatalogBuilder(self.display, self.path.parent, self.channels, self.absent)
        with paused_gc():
            products, held, held_stock = builder.build(self.rows if rows is None else rows)
        return Catalog(
            path=self.path,
            display=self.display,
            format=self.format,
            cooperative=self.cooperative,
            products=tuple(products),
            held=held,
            held_stock=held_stock,
            problems=tuple(sort_problems([*self.problems, *builder.problems])),
            modified_at=self.modified_at,
        )


def override_channels(channels: Iterable[str] | None) -> tuple[str, ...]:
    """The channel ids a catalog's overrides may name: the cooperative's, or, without a
    config, the names of the installed channel types (the ids most cooperatives use)."""
    if channels is not None:
        return tuple(channels)
    return tuple(load_channel_types())


def load_catalog(
    path: Path,
    *,
    channels: Iterable[str] | None = None,
    display: str | None = None,
    cooperative: str | None = None,
    limits: CatalogLimits = CatalogLimits(),
) -> Catalog:
    """Read, check and build a catalog. Bad rows become problems; an unusable file raises.

    ``channels``: the cooperative's channel ids, which overrides may name (None: without a
    config, :func:`override_channels`).
    ``cooperative``: when given, a YAML catalog naming another cooperative is refused, so
    that one cooperative's products never reach another's shops.
    """
    read = read_catalog(
        path, channels=channels, display=display, cooperative=cooperative, limits=limits
    )
    return read.build()


def _open(path: Path, file: str, limits: CatalogLimits) -> tuple[os.stat_result, str, bytes]:
    """The file's status, suffix and bytes, once it is known to be a catalog one may read."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise Unreadable(Problem(file, None, "the file does not exist")) from None
    except OSError as exc:
        raise Unreadable(
            Problem(file, None, f"the file cannot be opened: {exc.strerror}")
        ) from None
    if not path.is_file():
        raise Unreadable(Problem(file, None, "this is a folder, not a catalog file"))
    if stat.st_size > limits.max_bytes:
        raise Unreadable(
            Problem(
                file,
                None,
                f"the file is {stat.st_size / MIB:.1f} MiB, more than the "
                f"{limits.max_bytes // MIB} MiB a catalog may be "
                "(limits.max_catalog_mb in the daemon config raises it)",
            )
        )
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".yaml", ".yml"):
        raise Unreadable(
            Problem(
                file,
                None,
                f'"{path.name}" is neither .csv nor .yaml; save the catalog as CSV UTF-8 or YAML',
            )
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(Problem(file, None, f"the file cannot be read: {exc.strerror}")) from None
    return stat, suffix, data


def _modified_at(stat: os.stat_result) -> datetime:
    """When the file was saved. Whole seconds: shops date orders to the second, and a sale in
    the same second as the save must count as after it (the side that never oversells; see
    docs/stock.md)."""
    return datetime.fromtimestamp(int(stat.st_mtime), UTC)


def read_catalog(
    path: Path,
    *,
    channels: Iterable[str] | None = None,
    display: str | None = None,
    cooperative: str | None = None,
    limits: CatalogLimits = CatalogLimits(),
) -> CatalogRows:
    """Open and read a catalog into rows (see :func:`load_catalog`); raises
    :class:`~syndicator.common.problems.Unreadable` when the file cannot be used at all."""
    file = display or str(path)
    stat, suffix, data = _open(path, file, limits)
    channel_ids = override_channels(channels)
    if suffix in _CSV_SUFFIXES:
        # Cut by quotes and each row parsed alone: twice as fast as the csv module's reader
        # over the whole text, with the very same rows (tests/planning/test_basis.py); files it does
        # not cut the same way are read below.
        try:
            with paused_gc():
                scan = _scan(path, file, stat, data, channel_ids, cooperative, {})
        except NotSimple:
            pass
        else:
            scan.read.rows = list(scan.parsed.values())
            return scan.read
    digest = file_digest(data)
    text = decode_text(data, file)
    del data
    modified_at = _modified_at(stat)

    found_cooperative: str | None = None
    if suffix in (".yaml", ".yml"):
        rows, problems, found_cooperative = read_yaml_rows(text, file, limits.yaml)
        absent: frozenset[str] = frozenset()
        if cooperative and found_cooperative and found_cooperative != cooperative:
            raise Unreadable(
                Problem(
                    file,
                    None,
                    f'this catalog belongs to cooperative "{found_cooperative}", but the config '
                    f'gives it to "{cooperative}"; check the catalog path in the config',
                )
            )
    else:
        with paused_gc():
            rows, problems, absent = read_csv_rows(text, file, channel_ids)
    del text
    return CatalogRows(
        path=path,
        display=file,
        format="yaml" if suffix in (".yaml", ".yml") else "csv",
        cooperative=found_cooperative or cooperative,
        rows=rows,
        problems=list(problems),
        absent=frozenset(absent),
        channels=channel_ids,
        modified_at=modified_at,
        digest=digest,
    )


@dataclass(slots=True)
class CatalogScan:
    """A CSV catalog cut into records, only the records not known parsed (see
    :func:`scan_catalog`). ``read`` holds what the file says as a whole (its header's
    problems, digest, time) and no rows; ``digests`` the digest of every row, by index;
    ``known`` what ``scan_catalog`` was given for each (None: not known); ``parsed`` the
    rows not known, by index."""

    read: CatalogRows
    header: CsvHeader
    starts: list[int]
    records: list[bytes]
    digests: list[str]
    known: list[tuple[str, str] | None]
    parsed: dict[int, Row]

    def parse(self, index: int) -> Row | None:
        """The row at ``index``, known or not."""
        if index in self.parsed:
            return self.parsed[index]
        return parse_record(
            self.header, self.starts[index], self.records[index], self.digests[index]
        )


def scan_catalog(
    path: Path,
    known: Mapping[str, tuple[str, str]],
    *,
    channels: Iterable[str] | None = None,
    display: str | None = None,
    cooperative: str | None = None,
    limits: CatalogLimits = CatalogLimits(),
) -> CatalogScan:
    """Read a CSV catalog's rows as :func:`read_catalog` would, parsing only those whose
    digest is not in ``known`` (row digest -> what the caller knows of it: the rows of a
    version of the file that was read before).

    Raises :class:`NotSimple` when the file must be read whole (not CSV, not UTF-8, cells
    that only a full read cuts the same way, ...): :func:`read_catalog` then reads it, and
    says what is wrong if anything is. :class:`~syndicator.common.problems.Unreadable` as
    :func:`read_catalog`.
    """
    file = display or str(path)
    stat, suffix, data = _open(path, file, limits)
    if suffix not in _CSV_SUFFIXES:
        raise NotSimple("not a CSV file")
    return _scan(path, file, stat, data, override_channels(channels), cooperative, known)


_CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def _scan(
    path: Path,
    file: str,
    stat: os.stat_result,
    data: bytes,
    channel_ids: tuple[str, ...],
    cooperative: str | None,
    known: Mapping[str, tuple[str, str]],
) -> CatalogScan:
    """:func:`scan_catalog` of a CSV file's ``data``."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, *(m for m, _ in _MAGIC))):
        raise NotSimple("not UTF-8 text")
    if b"\x00" in data:
        raise NotSimple("a NUL byte")
    digest = file_digest(data)
    starts, records = scan_records(data)
    if not records or starts[0] != 1:
        raise NotSimple("no header on the first line")
    header = parse_header(records[0], file, channel_ids)
    del starts[0], records[0]
    digests = record_digests(header.key, records)
    hits: list[tuple[str, str] | None] = (
        list(map(known.get, digests)) if known else [None] * len(digests)
    )
    parsed: dict[int, Row] = {}
    blank: list[int] = []
    todo = [i for i, hit in enumerate(hits) if hit is None]
    rows = parse_records(
        header, [starts[i] for i in todo], [records[i] for i in todo], [digests[i] for i in todo]
    )
    for i, row in zip(todo, rows, strict=True):
        if row is None:
            blank.append(i)
        else:
            parsed[i] = row
    if blank:  # rows of empty cells (";;;"): left out, as read_catalog leaves them
        keep = sorted(set(range(len(records))) - set(blank))
        renumber = {old: new for new, old in enumerate(keep)}
        starts = [starts[i] for i in keep]
        records = [records[i] for i in keep]
        digests = [digests[i] for i in keep]
        hits = [hits[i] for i in keep]
        parsed = {renumber[i]: row for i, row in parsed.items()}
    read = CatalogRows(
        path=path,
        display=file,
        format="csv",
        cooperative=cooperative,
        rows=[],
        problems=list(header.problems),
        absent=header.missing,
        channels=channel_ids,
        modified_at=_modified_at(stat),
        digest=digest,
    )
    return CatalogScan(read, header, starts, records, digests, hits, parsed)
