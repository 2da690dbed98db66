"""The catalog as the rest of Syndicator sees it: validated products, nothing raw.

Everything here is immutable. Money is Decimal in MAD; stock is a whole count as of the
moment the file was saved (see docs/stock.md). A product either is sold as it is, or through
its variants: :meth:`Product.units` gives the sellable units either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from syndicator.common.problems import Problem

__all__ = [
    "Catalog",
    "ChannelOverride",
    "Dimensions",
    "Product",
    "Unit",
    "Variant",
]


@dataclass(frozen=True, slots=True)
class Dimensions:
    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ChannelOverride:
    """What one channel gets differently from the catalog; None means "as the catalog"."""

    enabled: bool | None = None
    title: Mapping[str, str] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    price: Decimal | None = None  # in the channel's currency, used as it is
    category: str | None = None
    tags: tuple[str, ...] | None = None
    stock_buffer: int | None = None


NO_OVERRIDE = ChannelOverride()


@dataclass(frozen=True, slots=True)
class Variant:
    sku: str
    line: int
    options: Mapping[str, str]
    stock: int
    price: Decimal | None = None
    images: tuple[str, ...] = ()
    weight_kg: Decimal | None = None
    dimensions_cm: Dimensions | None = None
    channels: Mapping[str, ChannelOverride] = field(default_factory=dict)
    digest: str = ""  # the row as written, see Row.digest


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    line: int
    title: Mapping[str, str]
    category: str
    description: Mapping[str, str] = field(default_factory=dict)
    materials: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    price: Decimal | None = None
    stock: int | None = None
    images: tuple[str, ...] = ()
    who_made: str | None = None
    when_made: str | None = None
    made_to_order_days: int | None = None
    weight_kg: Decimal | None = None
    dimensions_cm: Dimensions | None = None
    hs_code: str | None = None
    region: str | None = None
    artisan: str | None = None
    variants: tuple[Variant, ...] = ()
    channels: Mapping[str, ChannelOverride] = field(default_factory=dict)
    digest: str = ""  # the row as written, see Row.digest

    def units(self) -> Iterator[Unit]:
        """The sellable units: the product itself, or each of its variants."""
        if not self.variants:
            assert self.price is not None and self.stock is not None
            yield Unit(self.sku, None, self, None, self.price, self.stock, self.line)
            return
        for v in self.variants:
            price = v.price if v.price is not None else self.price
            assert price is not None
            yield Unit(v.sku, self.sku, self, v, price, v.stock, v.line)


@dataclass(frozen=True, slots=True)
class Unit:
    """One SKU that a buyer can put in a basket, with its price (MAD) and stock resolved."""

    sku: str
    parent_sku: str | None
    product: Product
    variant: Variant | None
    price: Decimal
    stock: int
    line: int

    def override(self, channel: str) -> tuple[ChannelOverride, ChannelOverride]:
        """The product's and the variant's override for ``channel`` (NO_OVERRIDE if none)."""
        product = self.product.channels.get(channel, NO_OVERRIDE)
        variant = self.variant.channels.get(channel, NO_OVERRIDE) if self.variant else NO_OVERRIDE
        return product, variant


@dataclass(frozen=True, slots=True)
class Catalog:
    """A read catalog: its good products, the SKUs left out, and every problem found.

    ``held`` maps each SKU that appears in the file but was left out (a problem in its row,
    or in its product's row) to its line: such a SKU keeps its last good state on every
    channel instead of being taken down. ``held_stock`` gives the count a held SKU's own
    row holds, where that cell is good (a variant of a product whose row is broken, say).
    """

    path: Path
    display: str
    format: str
    cooperative: str | None
    products: tuple[Product, ...]
    held: Mapping[str, int]
    problems: tuple[Problem, ...]
    modified_at: datetime
    held_stock: Mapping[str, int]

    @property
    def root(self) -> Path:
        return self.path.parent

    def units(self) -> Iterator[Unit]:
        for product in self.products:
            yield from product.units()
