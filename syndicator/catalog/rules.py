"""The catalog rules, written once for both formats.

The CSV and YAML readers turn their file into :class:`Row` objects (one per product or
variant: each field's value as written, with its line) and this module applies every rule
to them. Each field has one parser in a table (:data:`_PARSERS`); a parser returns the value
or raises :class:`InvalidValue` with the message a member reads. Rules that look at several
fields or rows (required fields, duplicate SKUs, variants and their product) come after.
Every problem becomes a :class:`~syndicator.common.problems.Problem` naming file, line and SKU; a
row with an error is left out and its SKU is *held* (it keeps its last good state).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from syndicator.catalog.model import ChannelOverride, Dimensions, Product, Variant
from syndicator.catalog.numbers import parse_bool, parse_count, parse_decimal
from syndicator.common.netsafe import shown as url_shown
from syndicator.common.netsafe import url_problem
from syndicator.common.problems import Problem, Severity, did_you_mean
from syndicator.errors import InvalidValue

__all__ = [
    "ATTRIBUTE_KEYS",
    "BASE_FIELDS",
    "OVERRIDE_FIELDS",
    "CatalogBuilder",
    "Row",
    "normalize_text",
    "unknown_channel_message",
]

# What a product says about how, when and where it was made, its size and its customs code,
# in the order a channel's listing gives them (Projection.attributes).
ATTRIBUTE_KEYS = (
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
BASE_FIELDS = (
    "sku",
    "parent_sku",
    "category",
    "materials",
    "tags",
    "price",
    "stock",
    "images",
    *ATTRIBUTE_KEYS,
)
TEXT_FIELDS = ("title", "description")
OVERRIDE_FIELDS = ("enabled", "price", "category", "tags", "stock_buffer")
VARIANT_OVERRIDE_FIELDS = frozenset({"enabled", "price", "stock_buffer"})
# A variant has its own sku, options, price, stock, images, weight and size; it shares these
# with its product (and titles and descriptions):
SHARED_FIELDS = frozenset(
    {
        "category",
        "materials",
        "tags",
        "who_made",
        "when_made",
        "made_to_order_days",
        "hs_code",
        "region",
        "artisan",
    }
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
_PRICE_HINT = "write only the amount in dirhams, for example 450 or 1 250,50"
# Upper bounds, so that every value the rules accept is one every later step handles (prices
# worked out exactly, counts stored as SQLite integers): far above any piece a cooperative
# sells, far below what could overflow. A shop's own limits (Etsy's 50,000, its 999 pieces)
# are the planner's, per channel. docs/catalog.md lists them.
MAX_PRICE = Decimal("999999.99")  # a catalog price (MAD) and a price set for one shop
MAX_STOCK = 999_999  # stock, and a shop's stock_buffer
MAX_WEIGHT_KG = Decimal(10_000)
MAX_CM = Decimal(10_000)
PRICE_PLACES = 2  # the catalog's dirhams
CHANNEL_PRICE_PLACES = 3  # a shop's currency: the most any has (TND, KWD ...)
_STOCK_HINT = "write how many pieces you have, for example 1 (0 if none is left)"

Raw = str | list[str]


class Row:
    """A product or a variant as read from the file, before any rule is applied.

    ``fields`` keys: the names in :data:`BASE_FIELDS`, ``title:<lang>``,
    ``description:<lang>`` and ``option:<name>``; values as written (YAML lists stay lists).
    ``overrides`` maps a channel id to the same kind of keys (``price``, ``title:en`` ...).
    ``lines`` gives the line of a key (``"price"``, ``"etsy/price"``) where it differs from
    the row's (YAML); ``problems`` are what the reader already found wrong in this row;
    ``digest`` identifies the row as written, so that a plan can tell it has not changed.

    A CSV row keeps its cells and makes ``fields`` only when the rules need them:
    :meth:`cell` reads one field without that, which is all a plan needs for a row that did
    not change (see :mod:`syndicator.planning.incremental`).
    """

    __slots__ = ("_cells", "_fields", "_index", "digest", "line", "lines", "overrides", "problems")

    def __init__(
        self,
        line: int,
        fields: dict[str, Raw] | None = None,
        overrides: dict[str, dict[str, Raw]] | None = None,
        lines: dict[str, int] | None = None,
        problems: list[Problem] | None = None,
        digest: str = "",
        *,
        cells: list[str] | None = None,
        index: Mapping[str, int] | None = None,
    ) -> None:
        self.line = line
        self._fields = fields if fields is not None or cells is not None else {}
        self._cells = cells
        self._index = index
        self.overrides = overrides if overrides is not None else {}
        self.lines = lines
        self.problems = problems if problems is not None else []
        self.digest = digest

    @property
    def fields(self) -> dict[str, Raw]:
        fields = self._fields
        if fields is None:
            cells, index = self._cells, self._index
            assert cells is not None and index is not None
            fields = self._fields = {key: cells[i] for key, i in index.items() if cells[i]}
            self._cells = None
        return fields

    @fields.setter
    def fields(self, value: dict[str, Raw]) -> None:
        self._fields, self._cells = value, None

    def cell(self, key: str) -> Raw | None:
        """One field as written (None when empty or absent), without making ``fields``."""
        if self._fields is not None:
            return self._fields.get(key)
        assert self._cells is not None and self._index is not None
        i = self._index.get(key)
        return (self._cells[i] or None) if i is not None else None

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line) if self.lines else self.line


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


# ------------------------------------------------------------------------------ field parsers
Parser = Callable[[Raw, str], Any]


def _why(exc: InvalidValue) -> str:
    """The reason a number was refused, unless it only repeats "not a number"."""
    reason = str(exc)
    return "" if reason == "it is not a number" else f" ({reason})"


def _one(raw: Raw, label: str) -> str | None:
    if type(raw) is not str:
        raise InvalidValue(f"{label} must be one value, not a list")
    if raw.isascii() and "\r" not in raw:  # the common case, without a call
        return raw.strip() or None
    return normalize_text(raw) or None


def _items(raw: Raw, label: str) -> tuple[str, ...] | None:
    if type(raw) is str:
        if "|" not in raw:
            one = _one(raw, label)
            return (one,) if one else None
        if raw.isascii() and "\r" not in raw:  # the common case, without a call per item
            return tuple(t for t in map(str.strip, raw.split("|")) if t) or None
    parts = raw if isinstance(raw, list) else raw.split("|")
    items = tuple(t for t in (normalize_text(p) for p in parts) if t)
    return items or None


def _shown(text: str) -> str:
    """A value as a message repeats it: a very long one cut (a message is read, not scrolled)."""
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"


def _too_big(label: str, text: str, high: object, hint: str) -> InvalidValue:
    return InvalidValue(
        f"{label} {_shown(text)} is more than {high:,}, the most Syndicator accepts (a typing "
        f"mistake?); {hint}"
    )


def _number(hint: str, places: int, high: Decimal) -> Parser:
    """A parser for a positive decimal, with its hint, at most ``places`` decimals and at
    most ``high``."""

    def parse(raw: Raw, label: str) -> Decimal | None:
        text = _one(raw, label)
        if text is None:
            return None
        try:
            value = parse_decimal(text)
        except InvalidValue as exc:
            shown = _shown(text)
            raise InvalidValue(f'{label} "{shown}" is not a number{_why(exc)}; {hint}') from None
        if value <= 0:
            raise InvalidValue(f"{label} {_shown(text)} must be more than 0; {hint}")
        if value > high:
            raise _too_big(label, text, high, hint)
        if -value.as_tuple().exponent > places:  # type: ignore[operator]
            raise InvalidValue(f"{label} {_shown(text)} has more than {places} decimals; {hint}")
        return value

    return parse


def _count(hint: str, high: int, low: int = 0) -> Parser:
    """A parser for a whole number from ``low`` to ``high``."""

    def parse(raw: Raw, label: str) -> int | None:
        text = _one(raw, label)
        if text is None:
            return None
        shown = _shown(text)
        try:
            value = parse_count(text)
        except InvalidValue as exc:
            if str(exc) == "it is not a whole number":
                raise InvalidValue(f"{label} {shown} is not a whole number; {hint}") from None
            raise InvalidValue(f'{label} "{shown}" is not a number{_why(exc)}; {hint}') from None
        if value < 0 and low == 0:
            raise InvalidValue(f"{label} {shown} is below zero; {hint}")
        if low > 0 and not low <= value <= high:
            raise InvalidValue(f"{label} {shown} must be between {low} and {high}")
        if value > high:
            raise _too_big(label, text, high, hint)
        return value

    return parse


def _sku(raw: Raw, label: str) -> str | None:
    text = _one(raw, label)
    if text is None:
        return None
    if len(text) > MAX_SKU:
        raise InvalidValue(f'SKU "{text}" is longer than {MAX_SKU} characters; shorten it')
    if not _SKU.match(text):
        raise InvalidValue(
            f'SKU "{text}" has spaces or signs that shops refuse; use only letters, digits '
            "and - _ . /"
        )
    return text


def _who_made(raw: Raw, label: str) -> str | None:
    text = _one(raw, label)
    if text is None or text.lower() in WHO_MADE:
        return text.lower() if text else None
    raise InvalidValue(
        f'{label} "{text}" must be one of {", ".join(WHO_MADE)}'
        f"{did_you_mean(text.lower(), WHO_MADE)}"
    )


def _when_made(raw: Raw, label: str) -> str | None:
    text = _one(raw, label)
    if text is None:
        return None
    low = text.lower()
    if low in WHEN_MADE_PERIODS:
        return low
    if _YEAR.match(low) and 1000 <= int(low) <= datetime.now(UTC).year:
        return low
    raise InvalidValue(
        f'{label} "{text}" must be made_to_order, a year such as 2024, or a period such as '
        f"2020_2026 or 1990s{did_you_mean(low, WHEN_MADE_PERIODS)}"
    )


def _hs_code(raw: Raw, label: str) -> str | None:
    text = _one(raw, label)
    if text is not None and not _HS_CODE.match(text):
        raise InvalidValue(
            f'{label} "{text}" is not a customs code; write 4 to 10 digits, for example 5701.10'
        )
    return text


def _enabled(raw: Raw, label: str) -> bool | None:
    text = _one(raw, label)
    if text is None:
        return None
    try:
        return parse_bool(text)
    except InvalidValue as exc:
        raise InvalidValue(f'{label} "{text}" is not yes or no; {exc}') from None


_CM = "write centimetres, for example 160"
_PARSERS: dict[str, Parser] = {
    "sku": _sku,
    "parent_sku": _one,
    "category": _one,
    "materials": _items,
    "tags": _items,
    "price": _number(_PRICE_HINT, PRICE_PLACES, MAX_PRICE),
    "stock": _count(_STOCK_HINT, MAX_STOCK),
    "who_made": _who_made,
    "when_made": _when_made,
    "made_to_order_days": _count("write the number of days it takes, for example 21", 365, 1),
    "weight_kg": _number("write the weight in kilograms, for example 2,5", 3, MAX_WEIGHT_KG),
    "length_cm": _number(_CM, 2, MAX_CM),
    "width_cm": _number(_CM, 2, MAX_CM),
    "height_cm": _number(_CM, 2, MAX_CM),
    "hs_code": _hs_code,
    "region": _one,
    "artisan": _one,
}
_OVERRIDE_PARSERS: dict[str, Parser] = {
    "enabled": _enabled,
    "category": _one,
    "tags": _items,
    "stock_buffer": _count("write how many pieces to hold back, for example 1", MAX_STOCK),
}


def _label(key: str) -> str:
    """How a field is named in messages: ``price``, ``title_fr``, ``option_size``."""
    return key.replace(":", "_")


# ------------------------------------------------------------------------------ the builder
@dataclass(slots=True)
class _Read:
    """One row after its fields were parsed: values, and what went wrong where.

    ``texts`` holds the grouped fields: ``title`` and ``description`` by language, ``option``
    by name. ``bad`` names the fields (or groups) whose value broke a rule, already reported.
    """

    row: Row
    sku: str | None
    values: dict[str, Any]
    texts: dict[str, dict[str, str]]
    overrides: dict[str, dict[str, Any]]
    bad: set[str]
    ok: bool = True


# How one key of a row is read: its group (title, description, option) or None, the name in
# that group (or the key), its parser (None: read apart), and its name in messages.
_KeyPlan = tuple[str | None, str, Parser | None, str]


def _plan_key(key: str) -> _KeyPlan:
    head, sep, name = key.partition(":")
    if sep:
        return head, name, _one, _label(key)
    if key in ("sku", "images"):
        return None, key, None, key
    return None, key, _PARSERS.get(key, _one), key


class CatalogBuilder:
    """Applies the catalog rules to the rows of one file.

    ``channels`` are the shop ids this cooperative has (overrides for any other are refused);
    ``root`` is the catalog's folder, which local images must stay inside; ``absent`` the
    required CSV columns that are missing (reported once by the reader, not per row).
    """

    def __init__(
        self, file: str, root: Path, channels: Iterable[str], absent: Iterable[str] = ()
    ) -> None:
        self.file = file
        self.root = root.resolve()
        self.channels = frozenset(channels)
        self.absent = frozenset(absent)
        self.problems: list[Problem] = []
        self._image_checked: dict[str, str | None] = {}
        self._override_price: dict[str, Parser] = {}
        self._plans: dict[str, _KeyPlan] = {}

    def note(self, r: _Read, line: int, message: str, severity: Severity = Severity.ERROR) -> None:
        self.problems.append(Problem(self.file, line, message, r.sku, severity))
        if severity is Severity.ERROR:
            r.ok = False

    # ---------------------------------------------------------------- reading one row
    def _read(self, row: Row) -> _Read:
        r = _Read(row, None, {}, {}, {}, set())
        start = len(self.problems)
        raw_sku = row.fields.get("sku")
        try:
            r.sku = _sku(raw_sku, "sku") if raw_sku is not None else None
        except InvalidValue as exc:
            self.note(r, row.line_of("sku"), str(exc))
            r.bad.add("sku")
        if r.sku is None and "sku" not in r.bad:
            if not row.fields and row.problems:
                r.ok = False  # not a product at all: the reader said why
            else:
                self.note(
                    r,
                    row.line,
                    "the SKU is missing; give every product and variant its own reference, "
                    "for example ATL-001",
                )
        # What the reader found comes first, now that the row's SKU is known.
        self.problems[start:start] = [
            Problem(p.file, p.line, p.message, r.sku, p.severity) for p in row.problems
        ]
        if any(p.severity is Severity.ERROR for p in row.problems):
            r.ok = False
        values, texts, plans = r.values, r.texts, self._plans
        for key, raw in row.fields.items():
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = _plan_key(key)
            group, name, parser, label = plan
            if parser is None:
                if key == "images":
                    images = self._images(r, raw)
                    if images:
                        values[key] = images
                continue
            try:
                value = parser(raw, label)
            except InvalidValue as exc:
                self.note(r, row.line_of(key), str(exc))
                r.bad.add(group or key)
                continue
            if value is None:
                continue
            if group is None:
                values[key] = value
            elif group in texts:
                texts[group][name] = value
            else:
                texts[group] = {name: value}
        for channel, cells in row.overrides.items():
            r.overrides[channel] = self._read_override(r, channel, cells)
        return r

    def _read_override(self, r: _Read, channel: str, cells: dict[str, Raw]) -> dict[str, Any]:
        row = r.row
        if channel not in self.channels:
            lines = [row.line_of(f"{channel}/{k}") for k in cells] or [row.line_of(channel)]
            self.note(r, min(lines), unknown_channel_message(channel, self.channels))
            return {}
        out: dict[str, Any] = {}
        for key, raw in cells.items():
            parser = _OVERRIDE_PARSERS.get(key, _one)
            if key == "price":
                parser = self._override_price.get(channel) or self._override_price.setdefault(
                    channel,
                    _number(
                        f"write the price in {channel}'s currency, for example 49,90",
                        CHANNEL_PRICE_PLACES,
                        MAX_PRICE,
                    ),
                )
            try:
                value = parser(raw, f"{channel} {_label(key)}")
            except InvalidValue as exc:
                self.note(r, row.line_of(f"{channel}/{key}"), str(exc))
                continue
            if value is not None:
                out[key] = value
        return out

    # ---------------------------------------------------------------- the whole file
    def build(self, rows: list[Row]) -> tuple[list[Product], dict[str, int], dict[str, int]]:
        """Products in file order, the held SKUs (SKU -> line) that were left out, and the
        count each held SKU's own row gives where that cell is good (not for a duplicate
        SKU: which row would it be?)."""
        reads = [self._read(row) for row in rows]
        first_line: dict[str, int] = {}
        duplicated: set[str] = set()
        for r in reads:
            if r.sku is None:
                continue
            if r.sku in first_line:
                duplicated.add(r.sku)
                self.note(
                    r,
                    r.row.line,
                    f"SKU {r.sku} is also used on line {first_line[r.sku]}; each product and "
                    "variant needs its own SKU (both rows are left out until this is fixed)",
                )
            else:
                first_line[r.sku] = r.row.line

        parents: dict[str, _Read] = {}
        children: dict[str, list[_Read]] = {}
        order: list[_Read] = []
        for r in reads:
            if r.sku in duplicated:
                r.ok = False
            parent = r.values.get("parent_sku")
            if parent is None:
                order.append(r)
                if r.sku is not None and r.sku not in duplicated:
                    parents[r.sku] = r
            else:
                children.setdefault(parent, []).append(r)
        variant_skus = {c.sku for group in children.values() for c in group}
        for parent_sku, group in children.items():
            if parent_sku in parents:
                continue
            for child in group:
                if parent_sku in duplicated:
                    message = (
                        f'parent_sku "{parent_sku}" is used by several rows; fix the duplicate '
                        "SKU first"
                    )
                elif parent_sku in variant_skus:
                    message = (
                        f'parent_sku "{parent_sku}" is a variant itself; point to the SKU of '
                        "its product"
                    )
                else:
                    message = (
                        f'parent_sku "{parent_sku}" is not a product in this file; check the '
                        "spelling or add the product's row"
                    )
                self.note(child, child.row.line_of("parent_sku"), message)

        products: list[Product] = []
        held: dict[str, int] = {}
        for r in order:
            group = children.get(r.sku or "", [])
            product = self._product(r, group)
            if product is not None:
                products.append(product)
                kept = {v.sku for v in product.variants}
                held.update((c.sku, c.row.line) for c in group if c.sku and c.sku not in kept)
            else:
                if r.sku is not None:
                    held.setdefault(r.sku, r.row.line)
                held.update((c.sku, c.row.line) for c in group if c.sku and c.sku not in held)
        for parent_sku, group in children.items():
            if parent_sku not in parents:
                held.update((c.sku, c.row.line) for c in group if c.sku and c.sku not in held)
        for sku in duplicated:
            held.setdefault(sku, first_line[sku])
        held_stock = {
            r.sku: r.values["stock"]
            for r in reads
            if r.sku in held
            and r.sku not in duplicated
            and isinstance(r.values.get("stock"), int)
            and "stock" not in r.bad
        }
        return products, held, held_stock

    # ---------------------------------------------------------------- one product
    def _product(self, r: _Read, group: list[_Read]) -> Product | None:
        row, values = r.row, r.values
        title = r.texts.get("title", {})
        if not title and "title" not in r.bad:
            self.note(
                r,
                row.line,
                "no title in any language; fill at least one of title_ar, title_fr, title_en",
            )
        if "category" not in values and "category" not in r.bad:
            self.note(
                r, row.line, "category is missing; write the kind of product, for example rugs"
            )
        price: Decimal | None = values.get("price")
        variants: list[Variant] = []
        if group:
            if "stock" in values:
                self.note(
                    r,
                    row.line_of("stock"),
                    "stock is ignored on a product with variants: the stock of each variant counts",
                    Severity.WARNING,
                )
            for child in group:
                variant = self._variant(child, r)
                if variant is not None:
                    variants.append(variant)
            variants = self._check_options(r, variants)
            if price is None and any(v.price is None for v in variants):
                for v in variants:
                    if v.price is None and "price" not in self.absent:
                        self.problems.append(
                            Problem(
                                self.file,
                                v.line,
                                f"price is missing, here and on its product {r.sku}; {_PRICE_HINT}",
                                v.sku,
                            )
                        )
                variants = [v for v in variants if v.price is not None]
            if not variants:
                r.ok = False  # nothing left to sell; each variant's problem is reported
        else:
            if price is None and "price" not in r.bad:
                self._missing(r, "price", f"price is missing; {_PRICE_HINT}")
            if "stock" not in values and "stock" not in r.bad:
                self._missing(r, "stock", f"stock is missing; {_STOCK_HINT}")

        if not r.ok or r.sku is None:
            return None
        return Product(
            sku=r.sku,
            line=row.line,
            title=title,
            category=values["category"],
            description=r.texts.get("description", {}),
            materials=values.get("materials", ()),
            tags=values.get("tags", ()),
            price=price,
            stock=None if group else values["stock"],
            images=values.get("images", ()),
            who_made=values.get("who_made"),
            when_made=values.get("when_made"),
            made_to_order_days=values.get("made_to_order_days"),
            weight_kg=values.get("weight_kg"),
            dimensions_cm=_dimensions(values),
            hs_code=values.get("hs_code"),
            region=values.get("region"),
            artisan=values.get("artisan"),
            variants=tuple(variants),
            channels=_overrides(r.overrides),
            digest=row.digest,
        )

    def _variant(self, r: _Read, parent: _Read) -> Variant | None:
        row, values = r.row, r.values
        options = r.texts.get("option", {})
        if not options and "option" not in r.bad:
            self.note(r, row.line, "a variant needs at least one option, for example option_size")
        if "stock" not in values and "stock" not in r.bad:
            self._missing(r, "stock", f"stock is missing; {_STOCK_HINT}")
        for channel, cells in r.overrides.items():
            for key in sorted(k for k in cells if k not in VARIANT_OVERRIDE_FIELDS):
                self.note(
                    r,
                    row.line_of(f"{channel}/{key}"),
                    f"a variant can change only enabled, price and stock_buffer for a shop; set "
                    f"{channel} {_label(key)} on its product",
                )
        differing = [
            k for k, v in values.items() if k in SHARED_FIELDS and v != parent.values.get(k)
        ]
        for group in ("title", "description"):
            theirs = parent.texts.get(group, {})
            differing += [
                f"{group}:{lang}"
                for lang, text in r.texts.get(group, {}).items()
                if text != theirs.get(lang)
            ]
        for key in differing:
            self.note(
                r,
                row.line_of(key),
                f"{_label(key)} on a variant differs from its product {parent.sku} "
                f"(line {parent.row.line}), whose value is used; change it on the product",
                Severity.WARNING,
            )
        if not r.ok or r.sku is None:
            return None
        return Variant(
            sku=r.sku,
            line=row.line,
            options=options,
            stock=values["stock"],
            price=values.get("price"),
            images=values.get("images", ()),
            weight_kg=values.get("weight_kg"),
            dimensions_cm=_dimensions(values),
            channels=_overrides(r.overrides),
            digest=row.digest,
        )

    def _check_options(self, parent: _Read, variants: list[Variant]) -> list[Variant]:
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

    def _missing(self, r: _Read, key: str, message: str) -> None:
        """A required value is absent: say so, unless its whole column is (said once)."""
        if key in self.absent:
            r.ok = False
        else:
            self.note(r, r.row.line, message)

    # ---------------------------------------------------------------- images
    def _images(self, r: _Read, raw: Raw) -> tuple[str, ...]:
        refs = _items(raw, "images") or ()
        for ref in refs:
            problem = self._image_checked.get(ref, "")
            if problem == "":
                problem = self._image_checked[ref] = self._check_image(ref)
            if problem:
                self.note(r, r.row.line_of("images"), problem)
                r.bad.add("images")
        return refs

    def _check_image(self, ref: str) -> str | None:
        if "://" in ref:
            if ref.partition("://")[0].lower() != "https":
                return f'image "{url_shown(ref)}" must be an https:// address'
            # Only what needs no network: a host name is resolved, and its addresses
            # checked, when the photo is fetched.
            problem = url_problem(ref)
            if problem is not None:
                return (
                    f'image "{url_shown(ref)}" cannot be fetched: {problem}; give the photo\'s '
                    "address on a public https host, or put it in the catalog's folder "
                    "(for example images/rug.jpg)"
                )
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


def _texts(values: dict[str, Any], prefix: str) -> dict[str, str]:
    n = len(prefix)
    return {k[n:]: v for k, v in values.items() if k.startswith(prefix)}


def _dimensions(values: dict[str, Any]) -> Dimensions | None:
    length, width, height = (values.get(k) for k in ("length_cm", "width_cm", "height_cm"))
    if length is None and width is None and height is None:
        return None
    return Dimensions(length, width, height)


def _overrides(read: dict[str, dict[str, Any]]) -> dict[str, ChannelOverride]:
    return {
        channel: ChannelOverride(
            enabled=v.get("enabled"),
            title=_texts(v, "title:"),
            description=_texts(v, "description:"),
            price=v.get("price"),
            category=v.get("category"),
            tags=v.get("tags"),
            stock_buffer=v.get("stock_buffer"),
        )
        for channel, v in read.items()
    }
