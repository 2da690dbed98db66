"""What one channel should show for each sellable unit of the catalog.

A :class:`Projector` holds one (cooperative, channel) pair: its language preference, price
rule, exchange rate, stock rule, category map and what the channel type requires. For each
unit it gives either a :class:`Projection` (title, description, category, price, quantity
... and a fingerprint of the content) or a :class:`Held` saying why the unit cannot go on
that channel as it is. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from syndicator import __version__
from syndicator.catalog.model import Unit
from syndicator.catalog.rules import ATTRIBUTE_KEYS  # the names of Projection.attributes
from syndicator.config import ChannelConfig
from syndicator.domain.money import Money
from syndicator.domain.pricing import ExchangeRate, PriceQuote, PriceRule, quote, quote_fixed
from syndicator.planning.availability import StockView
from syndicator.plugins import ChannelType

__all__ = [
    "ATTRIBUTE_KEYS",
    "Disabled",
    "Held",
    "Projection",
    "Projector",
    "Unchanged",
    "key_prefix",
    "unit_key",
    "unit_key_of",
]

FINGERPRINT_VERSION = "v1"
KEY_VERSION = "k3"  # in every input key: a change of what keys hold makes them all new


@dataclass(frozen=True, slots=True)
class Projection:
    sku: str
    parent_sku: str | None
    language: str
    title: str
    description: str | None
    description_language: str | None
    category: str
    tags: tuple[str, ...]
    materials: tuple[str, ...]
    images: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    attributes: tuple[tuple[str, str], ...]
    price: Money
    quantity: int
    quote: PriceQuote
    stock: StockView
    buffer: int
    fingerprint: str
    line: int
    warnings: tuple[str, ...] = ()
    input_key: str | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """A unit that cannot go on this channel as it is; ``reason`` says what to fix."""

    sku: str
    parent_sku: str | None
    reason: str
    line: int
    quantity: int  # what the channel may show of it now (its buffers and cap applied)
    fault: bool = False  # held by a failure of Syndicator's own, not the row's: tried again


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A unit worked out from the very inputs of its last confirmed listing: nothing to do."""

    sku: str
    parent_sku: str | None


@dataclass(frozen=True, slots=True)
class Disabled:
    """A unit the catalog turns off for this channel (``enabled: false``)."""

    sku: str
    parent_sku: str | None
    line: int


def _fingerprint(parts: tuple[object, ...]) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    return f"{FINGERPRINT_VERSION}:{digest}"


def unit_key(unit: Unit, stock: StockView) -> str | None:
    """Identifies a unit's inputs to any projection: its catalog rows as written (under the
    file's header) and its available stock. None when the rows carry no digest."""
    variant = unit.variant
    if not unit.product.digest or (variant is not None and not variant.digest):
        return None
    # The count and its changes, not the available stock (which stops at 0): a sale of a
    # piece already at 0 (an oversell) is an input too, so the unit is looked at again.
    own = variant.digest if variant else ""
    return unit_key_of(unit.product.digest, own, stock.count + stock.changes)


def unit_key_of(product_digest: str, variant_digest: str, stock: int) -> str:
    """:func:`unit_key` from the row digests themselves (the product's, the variant's or "")
    and the stock (count plus changes, below 0 when oversold), for rows not built."""
    text = f"{product_digest}|{variant_digest}|{stock}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def key_prefix(channel: ChannelConfig, channel_type: ChannelType, rate: ExchangeRate) -> str:
    """What every input key of a channel starts with: everything a projection depends on
    besides the unit and its stock (its settings, type and rate, this version)."""
    parts = (
        __version__,
        FINGERPRINT_VERSION,
        KEY_VERSION,
        channel_type.name,
        channel.model_dump_json(),
        str(rate.rate),
    )
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest() + "."


class Projector:
    """Projects the units of one cooperative's catalog onto one channel."""

    def __init__(
        self, channel: ChannelConfig, channel_type: ChannelType, rate: ExchangeRate
    ) -> None:
        self.channel = channel
        self.type = channel_type
        self.rate = rate
        self.rule: PriceRule = channel.price_rule()
        self._quotes: dict[Decimal, PriceQuote] = {}
        self.key_prefix = key_prefix(channel, channel_type, rate)

    def input_key(self, unit_key: str | None) -> str | None:
        """Identifies all a projection is worked out from: the unit (see :func:`unit_key`),
        this channel's settings and rate, this version of Syndicator."""
        return None if unit_key is None else f"{self.key_prefix}{unit_key}"

    def quantity(self, available: int, row_buffer: int = 0) -> int:
        """What this channel may show of ``available`` pieces: its own stock buffer and the
        row's (``row_buffer``) kept back, never below 0, capped by its maximum."""
        quantity = max(0, available - self.channel.stock.buffer - row_buffer)
        cap = self.channel.stock.max_quantity
        return quantity if cap is None else min(quantity, cap)

    def price(self, unit: Unit) -> PriceQuote:
        product_o, variant_o = unit.override(self.channel.id)
        fixed = variant_o.price if variant_o.price is not None else product_o.price
        if fixed is not None:
            return quote_fixed(fixed, unit.price, self.rule, self.rate)
        cached = self._quotes.get(unit.price)
        if cached is None:
            cached = self._quotes[unit.price] = quote(unit.price, self.rule, self.rate)
        return cached

    def project(
        self, unit: Unit, stock: StockView, input_key: str | None = None
    ) -> Projection | Held | Disabled:
        channel, ctype, product = self.channel, self.type, unit.product
        product_o, variant_o = unit.override(channel.id)
        enabled = variant_o.enabled if variant_o.enabled is not None else product_o.enabled
        if enabled is False:
            return Disabled(unit.sku, unit.parent_sku, unit.line)

        buffer = (product_o.stock_buffer or 0) + (variant_o.stock_buffer or 0)
        quantity = self.quantity(stock.available, buffer)
        buffer += channel.stock.buffer

        def held(reason: str) -> Held:
            return Held(unit.sku, unit.parent_sku, reason, unit.line, quantity)

        language = next(
            (
                lang
                for lang in channel.languages
                if lang in product_o.title or lang in product.title
            ),
            None,
        )
        if language is None:
            langs = ", ".join(channel.languages)
            return held(
                f"no title in a language {channel.id} shows ({langs}); add "
                f"title_{channel.languages[0]}"
            )
        title = product_o.title.get(language) or product.title[language]
        if ctype.max_title_length and len(title) > ctype.max_title_length:
            return held(
                f"the {language} title has {len(title)} characters; {ctype.title} takes "
                f"at most {ctype.max_title_length}: shorten it or set "
                f"{channel.id}_title_{language}"
            )
        description, description_language = None, None
        for lang in (language, *channel.languages):
            text = product_o.description.get(lang) or product.description.get(lang)
            if text:
                description, description_language = text, lang
                break

        category = product_o.category or channel.categories.get(product.category)
        if category is None:
            if ctype.requires_category:
                return held(
                    f'category "{product.category}" has no {ctype.title} category: add '
                    f"it under categories: of channel {channel.id} in the config, or set "
                    f"{channel.id}_category"
                )
            category = product.category

        images = unit.variant.images if unit.variant and unit.variant.images else product.images
        missing = [
            name
            for name, value in (
                ("description", description),
                ("images", images),
                ("who_made", product.who_made),
                ("when_made", product.when_made),
            )
            if name in ctype.required_fields and not value
        ]
        if missing:
            return held(f"{ctype.title} needs {', '.join(missing)}, which this product lacks")

        warnings: list[str] = []
        tags = product_o.tags if product_o.tags is not None else product.tags
        if ctype.max_tag_length is not None:
            long = [t for t in tags if len(t) > ctype.max_tag_length]
            if long:
                warnings.append(
                    f"{ctype.title} takes tags of at most {ctype.max_tag_length} characters; "
                    f"left out: {', '.join(long)}"
                )
                tags = tuple(t for t in tags if len(t) <= ctype.max_tag_length)
        if ctype.max_tags is not None and len(tags) > ctype.max_tags:
            warnings.append(
                f"{ctype.title} takes {ctype.max_tags} tags; only the first "
                f"{ctype.max_tags} of {len(tags)} are sent"
            )
            tags = tags[: ctype.max_tags]

        quote_ = self.price(unit)

        variant = unit.variant
        weight = variant.weight_kg if variant and variant.weight_kg else product.weight_kg
        dims = variant.dimensions_cm if variant and variant.dimensions_cm else product.dimensions_cm
        values = (
            product.who_made,
            product.when_made,
            product.made_to_order_days,
            weight,
            dims.length if dims else None,
            dims.width if dims else None,
            dims.height if dims else None,
            product.hs_code,
            product.region,
            product.artisan,
        )
        attributes = tuple(
            (k, str(v)) for k, v in zip(ATTRIBUTE_KEYS, values, strict=True) if v is not None
        )
        options = tuple(sorted(variant.options.items())) if variant else ()
        fingerprint = _fingerprint(
            (
                unit.parent_sku,
                language,
                title,
                description_language,
                description,
                category,
                "|".join(tags),
                "|".join(product.materials),
                "|".join(images),
                repr(options),
                repr(attributes),
            )
        )
        return Projection(
            sku=unit.sku,
            parent_sku=unit.parent_sku,
            language=language,
            title=title,
            description=description,
            description_language=description_language,
            category=category,
            tags=tags,
            materials=product.materials,
            images=images,
            options=options,
            attributes=attributes,
            price=quote_.price,
            quantity=quantity,
            quote=quote_,
            stock=stock,
            buffer=buffer,
            fingerprint=fingerprint,
            line=unit.line,
            warnings=tuple(warnings),
            input_key=input_key,
        )
