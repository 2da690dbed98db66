"""The catalog rules, written once for both formats.

The CSV and YAML readers turn their file into :class:`Row` objects (one per product or
variant, each value with its line) and this module applies every rule to them: required
fields, numbers, SKUs, images, variants, per-channel overrides. Each problem becomes a
:class:`~syndicator.problems.Problem` naming file, line and SKU; a row with an error is left
out and its SKU is *held* (it keeps its last good state on the channels).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from syndicator.catalog.model import ChannelOverride, Dimensions, Product, Variant
from syndicator.languages import is_language
from syndicator.numbers import NumberError, parse_bool, parse_count, parse_decimal
from syndicator.problems import Problem, Severity, did_you_mean

__all__ = [
    "BASE_FIELDS",
    "OVERRIDE_FIELDS",
    "CatalogBuilder",
    "Cell",
    "Row",
    "normalize_text",
    "unknown_channel_message",
]

BASE_FIELDS = (
    "sku",
    "parent_sku",
    "category",
    "materials",
    "tags",
    "price",
    "stock",
    "images",
    "who_made",
    "when_made",
    "made_to_order_days",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
    "hs_code",
    "region",
    "artisan",
)
TEXT_FIELDS = ("title", "description")
LIST_FIELDS = frozenset({"materials", "tags", "images"})
OVERRIDE_FIELDS = ("enabled", "price", "category", "tags", "stock_buffer")
VARIANT_OVERRIDE_FIELDS = frozenset({"enabled", "price", "stock_buffer"})
# A variant has its own sku, options, price, stock, images, weight and size; it shares these:
SHARED_FIELDS = (
    "category",
    "materials",
    "tags",
    "who_made",
    "when_made",
    "made_to_order_days",
    "hs_code",
    "region",
    "artisan",
)
WHO_MADE = ("collective", "i_did", "someone_else")
WHEN_MADE_PERIODS = (
    "made_to_order",
    "2020_2026",
    "2010_2019",
    "2007_2009",
    "before_2007",
    "2000_2006",
    "1990s",
    "1980s",
    "1970s",
    "1960s",
    "1950s",
    "1940s",
    "1930s",
    "1920s",
    "1910s",
    "1900s",
    "1800s",
    "1700s",
    "before_1700",
)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
MAX_SKU = 40
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*\Z")
_HS_CODE = re.compile(r"\d{4}(?:[. ]?\d{2}){0,3}\Z")
_YEAR = re.compile(r"\d{4}\Z")


@dataclass(slots=True)
class Cell:
    """One value as written, with its line. Lists come from YAML; CSV lists are ``a | b``."""

    value: str | list[str]
    line: int


@dataclass(slots=True)
class Row:
    """A product or a variant as read from the file, before any rule is applied.

    ``fields`` keys: the names in :data:`BASE_FIELDS`, ``title:<lang>``,
    ``description:<lang>`` and ``option:<name>``. ``overrides`` maps a channel id to the
    same kind of keys (``price``, ``title:en`` ...). ``problems`` are what the reader
    already found wrong in this row; an error among them leaves the row out.
    """

    line: int
    fields: dict[str, Cell] = field(default_factory=dict)
    overrides: dict[str, dict[str, Cell]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def normalize_text(text: str) -> str:
    """Trim, unify line ends, and use Unicode NFC so that equal texts compare equal."""
    text = text.strip()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def unknown_channel_message(name: str, channels: Iterable[str]) -> str:
    known = sorted(channels)
    listed = ", ".join(known) if known else "none configured"
    return f'"{name}" is not one of this cooperative\'s shops ({listed}){did_you_mean(name, known)}'


class _Reject(Exception):
    """Raised inside a row's rules to stop reading that row; the problem is already noted."""


@dataclass(slots=True)
class _RowReader:
    """Reads the values of one row and notes its problems against its SKU."""

    builder: CatalogBuilder
    row: Row
    sku: str | None = None
    ok: bool = True

    def note(self, line: int, message: str, severity: Severity = Severity.ERROR) -> None:
        self.builder.problems.append(Problem(self.builder.file, line, message, self.sku, severity))
        if severity is Severity.ERROR:
            self.ok = False

    def cell(self, key: str) -> Cell | None:
        return self.row.fields.get(key)

    def text(self, key: str, cell: Cell | None = None) -> str | None:
        cell = cell or self.row.fields.get(key)
        if cell is None:
            return None
        if isinstance(cell.value, list):
            self.note(cell.line, f"{_label(key)} must be one value, not a list")
            return None
        value = normalize_text(cell.value)
        return value or None

    def items(self, key: str, cell: Cell | None = None) -> tuple[str, ...]:
        cell = cell or self.row.fields.get(key)
        if cell is None:
            return ()
        raw = cell.value if isinstance(cell.value, list) else cell.value.split("|")
        return tuple(t for t in (normalize_text(v) for v in raw) if t)

    def number(
        self,
        key: str,
        cell: Cell | None = None,
        *,
        hint: str,
        places: int | None = None,
        what: str | None = None,
    ) -> Decimal | None:
        """A positive decimal, or None when empty; notes a problem when it is not one."""
        cell = cell or self.row.fields.get(key)
        raw = self.text(key, cell)
        if raw is None or cell is None:
            return None
        name = what or _label(key)
        try:
            value = parse_decimal(raw)
        except NumberError as exc:
            self.note(cell.line, f'{name} "{raw}" is not a number ({exc}); {hint}')
            return None
        if value <= 0:
            self.note(cell.line, f"{name} {raw} must be more than 0; {hint}")
            return None
        if places is not None and -value.as_tuple().exponent > places:  # type: ignore[operator]
            self.note(cell.line, f"{name} {raw} has more than {places} decimals; {hint}")
            return None
        return value

    def count(
        self, key: str, cell: Cell | None = None, *, hint: str, what: str | None = None
    ) -> int | None:
        """A whole number of 0 or more, or None when empty."""
        cell = cell or self.row.fields.get(key)
        raw = self.text(key, cell)
        if raw is None or cell is None:
            return None
        name = what or _label(key)
        try:
            value = parse_count(raw)
        except NumberError as exc:
            if str(exc) == "it is not a whole number":
                self.note(cell.line, f"{name} {raw} is not a whole number; {hint}")
            else:
                self.note(cell.line, f'{name} "{raw}" is not a number ({exc}); {hint}')
            return None
        if value < 0:
            self.note(cell.line, f"{name} {raw} is below zero; {hint}")
            return None
        return value

    def langs(self, prefix: str, source: Mapping[str, Cell]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, cell in source.items():
            if key.startswith(prefix):
                value = self.text(key, cell)
                if value:
                    out[key[len(prefix) :]] = value
        return out


def _label(key: str) -> str:
    """How a field is named in messages: ``price``, ``title_fr``, ``option_size``."""
    return key.replace(":", "_")


_PRICE_HINT = "write only the amount in dirhams, for example 450 or 1 250,50"
_STOCK_HINT = "write how many pieces you have, for example 1 (0 if none is left)"


class CatalogBuilder:
    """Applies the catalog rules to the rows of one file.

    ``channels`` are the shop ids this cooperative has (overrides for any other are refused);
    ``root`` is the catalog's folder, which local images must stay inside.
    """

    def __init__(
        self, file: str, root: Path, channels: Iterable[str], absent: Iterable[str] = ()
    ) -> None:
        self.file = file
        self.root = root.resolve()
        self.channels = frozenset(channels)
        self.absent = frozenset(absent)  # required CSV columns missing (reported once)
        self.problems: list[Problem] = []
        self._image_checked: dict[str, str | None] = {}

    # ---------------------------------------------------------------- the whole file
    def build(self, rows: list[Row]) -> tuple[list[Product], dict[str, int]]:
        """Products in file order, and the held SKUs (SKU -> line) that were left out."""
        held: dict[str, int] = {}
        readers: list[_RowReader] = []
        first_line: dict[str, int] = {}
        duplicated: set[str] = set()
        for row in rows:
            reader = _RowReader(self, row)
            start = len(self.problems)
            reader.sku = self._sku(reader)
            # What the reader found comes first, now that the row's SKU is known.
            self.problems[start:start] = [
                Problem(p.file, p.line, p.message, reader.sku, p.severity) for p in row.problems
            ]
            if any(p.severity is Severity.ERROR for p in row.problems):
                reader.ok = False
            readers.append(reader)
            if reader.sku is None:
                continue
            if reader.sku in first_line:
                duplicated.add(reader.sku)
                reader.note(
                    row.line,
                    f"SKU {reader.sku} is also used on line {first_line[reader.sku]}; each "
                    "product and variant needs its own SKU (both rows are left out until "
                    "this is fixed)",
                )
            else:
                first_line[reader.sku] = row.line

        parents: dict[str, _RowReader] = {}
        variants: dict[str, list[_RowReader]] = {}
        order: list[_RowReader] = []
        for reader in readers:
            if reader.sku in duplicated:
                reader.ok = False
            parent = reader.text("parent_sku")
            if parent is None:
                order.append(reader)
                if reader.sku is not None and reader.sku not in duplicated:
                    parents[reader.sku] = reader
            else:
                variants.setdefault(parent, []).append(reader)

        for parent_sku, children in variants.items():
            if parent_sku not in parents:
                is_variant = any(c.sku == parent_sku for group in variants.values() for c in group)
                for child in children:
                    cell = child.cell("parent_sku")
                    line = cell.line if cell else child.row.line
                    if parent_sku in duplicated:
                        message = (
                            f'parent_sku "{parent_sku}" is used by several rows; fix '
                            "the duplicate SKU first"
                        )
                    elif is_variant:
                        message = (
                            f'parent_sku "{parent_sku}" is a variant itself; point to '
                            "the SKU of its product"
                        )
                    else:
                        message = (
                            f'parent_sku "{parent_sku}" is not a product in this file; '
                            "check the spelling or add the product's row"
                        )
                    child.note(line, message)

        products: list[Product] = []
        for reader in order:
            product = self._product(reader, variants.get(reader.sku or "", []))
            if product is not None:
                products.append(product)
            else:
                if reader.sku is not None:
                    held.setdefault(reader.sku, reader.row.line)
                for child in variants.get(reader.sku or "", []):
                    if child.sku is not None:
                        held.setdefault(child.sku, child.row.line)
        for parent_sku, children in variants.items():
            if parent_sku not in parents:
                for child in children:
                    if child.sku is not None:
                        held.setdefault(child.sku, child.row.line)
        for product in products:
            for reader in variants.get(product.sku, []):
                if reader.sku is not None and all(v.sku != reader.sku for v in product.variants):
                    held.setdefault(reader.sku, reader.row.line)
        for sku in duplicated:
            held.setdefault(sku, first_line[sku])
        return products, held

    # ---------------------------------------------------------------- one product
    def _sku(self, r: _RowReader) -> str | None:
        cell = r.cell("sku")
        raw = r.text("sku", cell) if cell else None
        if raw is None and not r.row.fields and r.row.problems:
            return None  # not a product at all: the reader said why
        if raw is None:
            r.note(
                r.row.line,
                "the SKU is missing; give every product and variant its own reference, "
                "for example ATL-001",
            )
            return None
        if len(raw) > MAX_SKU:
            r.note(
                cell.line if cell else r.row.line,
                f'SKU "{raw}" is longer than {MAX_SKU} characters; shorten it',
            )
            return None
        if not _SKU.match(raw):
            r.note(
                cell.line if cell else r.row.line,
                f'SKU "{raw}" has spaces or signs that shops refuse; use only letters, '
                "digits and - _ . /",
            )
            return None
        return raw

    def _product(self, r: _RowReader, children: list[_RowReader]) -> Product | None:
        row = r.row
        title = r.langs("title:", row.fields)
        if not title:
            r.note(
                row.line,
                "no title in any language; fill at least one of title_ar, title_fr, title_en",
            )
        category = r.text("category")
        if category is None:
            r.note(row.line, "category is missing; write the kind of product, for example rugs")
        price = r.number("price", hint=_PRICE_HINT, places=2)
        stock_cell = r.cell("stock")
        stock = r.count("stock", hint=_STOCK_HINT)
        who_made = self._choice(r, "who_made", WHO_MADE)
        when_made = self._when_made(r)
        days = r.count(
            "made_to_order_days", hint="write the number of days it takes, for example 21"
        )
        if days is not None and not 1 <= days <= 365:
            r.note(
                r.cell("made_to_order_days").line,  # type: ignore[union-attr]
                f"made_to_order_days {days} must be between 1 and 365",
            )
        hs_code = r.text("hs_code")
        if hs_code is not None and not _HS_CODE.match(hs_code):
            r.note(
                r.cell("hs_code").line,  # type: ignore[union-attr]
                f'hs_code "{hs_code}" is not a customs code; write 4 to 10 digits, '
                "for example 5701.10",
            )
        images = self._images(r)
        weight, dims = self._size(r)
        channels = self._overrides(r, variant=False)

        built: list[Variant] = []
        if children:
            if stock_cell is not None and stock is not None:
                r.note(
                    stock_cell.line,
                    "stock is ignored on a product with variants: the stock of each variant counts",
                    Severity.WARNING,
                )
            for child in children:
                variant = self._variant(child, r)
                if variant is not None:
                    built.append(variant)
            built = self._check_options(r, built)
            if price is None and any(v.price is None for v in built):
                for v in built:
                    if v.price is None and "price" not in self.absent:
                        self.problems.append(
                            Problem(
                                self.file,
                                v.line,
                                f"price is missing, here and on its product {r.sku}; {_PRICE_HINT}",
                                v.sku,
                            )
                        )
                built = [v for v in built if v.price is not None]
            if not built:
                r.ok = False  # nothing left to sell; each variant's problem is reported
        else:
            if price is None and r.cell("price") is None:
                self._missing(r, "price", f"price is missing; {_PRICE_HINT}")
            if stock is None and stock_cell is None:
                self._missing(r, "stock", f"stock is missing; {_STOCK_HINT}")

        if not r.ok or r.sku is None or category is None:
            return None
        return Product(
            sku=r.sku,
            line=row.line,
            title=title,
            category=category,
            description=r.langs("description:", row.fields),
            materials=r.items("materials"),
            tags=r.items("tags"),
            price=price,
            stock=None if children else stock,
            images=images,
            who_made=who_made,
            when_made=when_made,
            made_to_order_days=days,
            weight_kg=weight,
            dimensions_cm=dims,
            hs_code=hs_code,
            region=r.text("region"),
            artisan=r.text("artisan"),
            variants=tuple(built),
            channels=channels,
        )

    def _variant(self, r: _RowReader, parent: _RowReader) -> Variant | None:
        if not r.ok:
            return None
        row = r.row
        options: dict[str, str] = {}
        for key, cell in row.fields.items():
            if key.startswith("option:"):
                value = r.text(key, cell)
                if value:
                    options[key[7:]] = value
        if not options:
            r.note(row.line, "a variant needs at least one option, for example option_size")
        price = r.number("price", hint=_PRICE_HINT, places=2)
        stock = r.count("stock", hint=_STOCK_HINT)
        if stock is None and r.cell("stock") is None:
            self._missing(r, "stock", f"stock is missing; {_STOCK_HINT}")
        images = self._images(r)
        weight, dims = self._size(r)
        channels = self._overrides(r, variant=True)
        for key, cell in row.fields.items():
            if key in SHARED_FIELDS or key.startswith(("title:", "description:")):
                mine = r.items(key, cell) if key in LIST_FIELDS else r.text(key, cell)
                theirs_cell = parent.cell(key)
                theirs: object = None
                if theirs_cell is not None:
                    theirs = (
                        parent.items(key, theirs_cell)
                        if key in LIST_FIELDS
                        else parent.text(key, theirs_cell)
                    )
                if mine and mine != theirs:
                    r.note(
                        cell.line,
                        f"{_label(key)} on a variant differs from its product {parent.sku} "
                        f"(line {parent.row.line}), whose value is used; change it on the "
                        "product",
                        Severity.WARNING,
                    )
        if not r.ok or r.sku is None or stock is None:
            return None
        return Variant(
            sku=r.sku,
            line=row.line,
            options=options,
            stock=stock,
            price=price,
            images=images,
            weight_kg=weight,
            dimensions_cm=dims,
            channels=channels,
        )

    def _check_options(self, parent: _RowReader, variants: list[Variant]) -> list[Variant]:
        """The variants whose options are consistent with their siblings; notes the others."""
        if not variants:
            return variants
        names = tuple(sorted(variants[0].options))
        seen: dict[tuple[tuple[str, str], ...], Variant] = {}
        good: list[Variant] = []
        for v in variants:
            mine = tuple(sorted(v.options))
            combo = tuple(sorted(v.options.items()))
            if mine != names:
                message = (
                    f"options {', '.join(mine)} differ from those of {variants[0].sku} "
                    f"({', '.join(names)}); every variant of {parent.sku} uses the same "
                    "option names"
                )
            elif combo in seen:
                message = (
                    f"has the same options as {seen[combo].sku} (line {seen[combo].line}); "
                    "give each variant of a product different options"
                )
            else:
                seen[combo] = v
                good.append(v)
                continue
            self.problems.append(Problem(self.file, v.line, message, v.sku))
        return good

    # ---------------------------------------------------------------- single rules
    def _missing(self, r: _RowReader, key: str, message: str) -> None:
        """A required value is absent: say so, unless its whole column is (said once)."""
        if key in self.absent:
            r.ok = False
        else:
            r.note(r.row.line, message)

    def _choice(self, r: _RowReader, key: str, allowed: tuple[str, ...]) -> str | None:
        value = r.text(key)
        if value is None:
            return None
        if value.lower() not in allowed:
            r.note(
                r.cell(key).line,  # type: ignore[union-attr]
                f'{key} "{value}" must be one of {", ".join(allowed)}'
                f"{did_you_mean(value.lower(), allowed)}",
            )
            return None
        return value.lower()

    def _when_made(self, r: _RowReader) -> str | None:
        value = r.text("when_made")
        if value is None:
            return None
        low = value.lower()
        if low in WHEN_MADE_PERIODS:
            return low
        if _YEAR.match(low) and 1000 <= int(low) <= datetime.now(UTC).year:
            return low
        r.note(
            r.cell("when_made").line,  # type: ignore[union-attr]
            f'when_made "{value}" must be made_to_order, a year such as 2024, or a period '
            f"such as 2020_2026 or 1990s{did_you_mean(low, WHEN_MADE_PERIODS)}",
        )
        return None

    def _size(self, r: _RowReader) -> tuple[Decimal | None, Dimensions | None]:
        weight = r.number("weight_kg", hint="write the weight in kilograms, for example 2,5")
        parts = [
            r.number(k, hint="write centimetres, for example 160")
            for k in ("length_cm", "width_cm", "height_cm")
        ]
        dims = Dimensions(*parts) if any(p is not None for p in parts) else None
        return weight, dims

    def _images(self, r: _RowReader) -> tuple[str, ...]:
        cell = r.cell("images")
        if cell is None:
            return ()
        refs = r.items("images", cell)
        for ref in refs:
            problem = self._image_checked.get(ref, "")
            if problem == "":
                problem = self._check_image(ref)
                self._image_checked[ref] = problem
            if problem:
                r.note(cell.line, problem)
        return refs

    def _check_image(self, ref: str) -> str | None:
        if "://" in ref:
            parts = urlsplit(ref)
            if parts.scheme != "https" or not parts.netloc:
                return f'image "{ref}" must be an https:// address'
            return None
        path = PurePosixPath(ref.replace("\\", "/"))
        if path.is_absolute() or re.match(r"[A-Za-z]:", ref):
            return (
                f'image "{ref}" must be written relative to the catalog\'s folder, '
                "for example images/rug.jpg"
            )
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root):
            return (
                f'image "{ref}" is outside the catalog\'s folder; put the photo in the '
                "catalog's folder, for example in images/"
            )
        if full.suffix.lower() not in IMAGE_SUFFIXES:
            return f'image "{ref}" is not a {", ".join(IMAGE_SUFFIXES)} file'
        if not full.is_file():
            return f'image "{ref}" was not found next to the catalog (looked for {full})'
        return None

    def _overrides(self, r: _RowReader, *, variant: bool) -> dict[str, ChannelOverride]:
        out: dict[str, ChannelOverride] = {}
        for channel, cells in r.row.overrides.items():
            if channel not in self.channels:
                line = min(c.line for c in cells.values()) if cells else r.row.line
                r.note(line, unknown_channel_message(channel, self.channels))
                continue
            if variant:
                extra = sorted(k for k in cells if k not in VARIANT_OVERRIDE_FIELDS)
                for key in extra:
                    r.note(
                        cells[key].line,
                        f"a variant can change only enabled, price and stock_buffer for a "
                        f"shop; set {channel} {_label(key)} on its product",
                    )
            enabled = None
            if "enabled" in cells:
                raw = r.text("enabled", cells["enabled"])
                if raw is not None:
                    try:
                        enabled = parse_bool(raw)
                    except NumberError as exc:
                        r.note(
                            cells["enabled"].line,
                            f'{channel} enabled "{raw}" is not yes or no; {exc}',
                        )
            price = (
                r.number(
                    "price",
                    cells["price"],
                    places=4,
                    what=f"{channel} price",
                    hint=f"write the price in {channel}'s currency, for example 49,90",
                )
                if "price" in cells
                else None
            )
            buffer = (
                r.count(
                    "stock_buffer",
                    cells["stock_buffer"],
                    what=f"{channel} stock_buffer",
                    hint="write how many pieces to hold back, for example 1",
                )
                if "stock_buffer" in cells
                else None
            )
            category = r.text("category", cells["category"]) if "category" in cells else None
            tags = r.items("tags", cells["tags"]) if "tags" in cells else None
            out[channel] = ChannelOverride(
                enabled=enabled,
                title=r.langs("title:", cells),
                description=r.langs("description:", cells),
                price=price,
                category=category,
                tags=tags or None,
                stock_buffer=buffer,
            )
        return out


def is_text_key(key: str) -> bool:
    """``title_fr`` style keys: a text field and a language code."""
    head, _, lang = key.partition("_")
    return head in TEXT_FIELDS and is_language(lang)
