"""What a listing looks like to Amazon: the attributes of a put, the patches of a price or
stock change, the messages of a JSON listings feed. Pure: no I/O, no clock.

Every attribute is a list of entries (``[{"value": ..., "marketplace_id": ...}]``), as the
product type definitions describe them. Amounts stay :class:`~decimal.Decimal` until the JSON
boundary, where :func:`number` writes them as a JSON number with the very same digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from connectors.amazon.settings import AmazonSettings
from syndicator.connector import Projection

__all__ = [
    "MARKETPLACES",
    "ListingBuilder",
    "Marketplace",
    "language_tag",
    "number",
]

Attributes = dict[str, list[dict[str, Any]]]
Patch = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Marketplace:
    marketplace_id: str
    country: str
    currency: str
    name: str
    region: str  # NA, EU, FE: which SP-API host serves it
    language: str  # the store's default language tag


def _m(mid: str, country: str, currency: str, name: str, region: str, lang: str) -> Marketplace:
    return Marketplace(mid, country, currency, name, region, lang)


# Amazon's published marketplace ids (developer-docs: "Marketplace IDs").
MARKETPLACES: dict[str, Marketplace] = {
    m.marketplace_id: m
    for m in (
        _m("ATVPDKIKX0DER", "US", "USD", "Amazon.com", "NA", "en_US"),
        _m("A2EUQ1WTGCTBG2", "CA", "CAD", "Amazon.ca", "NA", "en_CA"),
        _m("A1AM78C64UM0Y8", "MX", "MXN", "Amazon.com.mx", "NA", "es_MX"),
        _m("A2Q3Y263D00KWC", "BR", "BRL", "Amazon.com.br", "NA", "pt_BR"),
        _m("A1F83G8C2ARO7P", "GB", "GBP", "Amazon.co.uk", "EU", "en_GB"),
        _m("A28R8C7NBKEWEA", "IE", "EUR", "Amazon.ie", "EU", "en_IE"),
        _m("A1PA6795UKMFR9", "DE", "EUR", "Amazon.de", "EU", "de_DE"),
        _m("A13V1IB3VIYZZH", "FR", "EUR", "Amazon.fr", "EU", "fr_FR"),
        _m("APJ6JRA9NG5V4", "IT", "EUR", "Amazon.it", "EU", "it_IT"),
        _m("A1RKKUPIHCS9HS", "ES", "EUR", "Amazon.es", "EU", "es_ES"),
        _m("A1805IZSGTT6HS", "NL", "EUR", "Amazon.nl", "EU", "nl_NL"),
        _m("AMEN7PMS3EDWL", "BE", "EUR", "Amazon.com.be", "EU", "fr_BE"),
        _m("A2NODRKZP88ZB9", "SE", "SEK", "Amazon.se", "EU", "sv_SE"),
        _m("A1C3SOZRARQ6R3", "PL", "PLN", "Amazon.pl", "EU", "pl_PL"),
        _m("A33AVAJ2PDY3EV", "TR", "TRY", "Amazon.com.tr", "EU", "tr_TR"),
        _m("A2VIGQ35RCS4UG", "AE", "AED", "Amazon.ae", "EU", "en_AE"),
        _m("A17E79C6D8DWNP", "SA", "SAR", "Amazon.sa", "EU", "ar_SA"),
        _m("ARBP9OOSHTCHU", "EG", "EGP", "Amazon.eg", "EU", "ar_EG"),
        _m("A21TJRUUN4KGV", "IN", "INR", "Amazon.in", "EU", "en_IN"),
        _m("A39IBJ37TRP1C6", "AU", "AUD", "Amazon.com.au", "FE", "en_AU"),
        _m("A1VC38T7YXB528", "JP", "JPY", "Amazon.co.jp", "FE", "ja_JP"),
        _m("A19VAU5U5O7RUS", "SG", "SGD", "Amazon.sg", "FE", "en_SG"),
    )
}

# Language tags Amazon's stores take, and the usual one for a language elsewhere.
_TAGS = frozenset(
    {
        "en_US", "en_CA", "en_GB", "en_IE", "en_AE", "en_IN", "en_AU", "en_SG", "fr_FR",
        "fr_CA", "fr_BE", "es_US", "es_MX", "es_ES", "de_DE", "it_IT", "nl_NL", "nl_BE",
        "sv_SE", "pl_PL", "tr_TR", "ar_AE", "ar_SA", "ar_EG", "pt_BR", "ja_JP",
    }
)  # fmt: skip
_USUAL_TAG = {"en": "en_US", "fr": "fr_FR", "ar": "ar_AE", "es": "es_ES", "de": "de_DE",
              "it": "it_IT", "nl": "nl_NL", "pl": "pl_PL", "sv": "sv_SE", "tr": "tr_TR",
              "pt": "pt_BR", "ja": "ja_JP"}  # fmt: skip

# Catalog option names -> Amazon attributes, unless settings.variation_attributes says.
_OPTION_ATTRIBUTES = {"size": "size", "taille": "size", "color": "color", "colour": "color",
                      "couleur": "color", "material": "material", "pattern": "pattern",
                      "style": "style"}  # fmt: skip
_THEME_ORDER = {"color": 0, "size": 1}
MAX_IMAGES = 9  # a main image and eight others
CONDITION = "new_new"
GENERIC_BRAND = "Generic"  # Amazon's word for goods sold without a brand


def language_tag(language: str, marketplace: Marketplace) -> str:
    """Amazon's language tag for one of our language codes in this store (``fr`` on
    Amazon.fr: ``fr_FR``; ``en`` on Amazon.com: ``en_US``)."""
    if marketplace.language.split("_")[0] == language:
        return marketplace.language
    local = f"{language}_{marketplace.country}"
    if local in _TAGS:
        return local
    return _USUAL_TAG.get(language, local)


def number(amount: Decimal) -> int | float:
    """A JSON number with exactly the digits of ``amount`` (Amazon takes numbers, not
    strings; json cannot write a Decimal). Refuses an amount a float would change."""
    if amount == amount.to_integral_value() and abs(amount) < 2**53:
        return int(amount)
    value = float(amount)
    if Decimal(repr(value)) != amount:
        raise ValueError(f"{amount} cannot be written exactly as a JSON number")
    return value


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "option"


class ListingBuilder:
    """Amazon payloads for one seller in one store."""

    def __init__(self, settings: AmazonSettings, marketplace: Marketplace) -> None:
        self.settings = settings
        self.marketplace = marketplace
        self.mid = marketplace.marketplace_id

    # ------------------------------------------------------------ entries
    def _text(self, value: str, tag: str | None) -> dict[str, Any]:
        entry: dict[str, Any] = {"value": value}
        if tag:
            entry["language_tag"] = tag
        entry["marketplace_id"] = self.mid
        return entry

    def offer(self, p: Projection) -> list[dict[str, Any]]:
        return [
            {
                "marketplace_id": self.mid,
                "currency": p.price.currency,
                "audience": "ALL",
                "our_price": [{"schedule": [{"value_with_tax": number(p.price.amount)}]}],
            }
        ]

    def availability(self, quantity: int, lead_days: int | None = None) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
        if lead_days is not None:
            entry["lead_time_to_ship_max_days"] = lead_days
        return [entry]

    def _lead_days(self, p: Projection) -> int | None:
        made = dict(p.attributes).get("made_to_order_days")
        if made is not None:
            try:
                return int(made)
            except ValueError:
                pass
        return self.settings.handling_days

    def image_urls(self, p: Projection) -> tuple[list[str], list[str]]:
        """The photos' URLs (an https URL as it is; a local path under image_base_url),
        and the local paths that have none."""
        urls: list[str] = []
        missing: list[str] = []
        base = str(self.settings.image_base_url) if self.settings.image_base_url else None
        for image in p.images:
            if image.startswith(("https://", "http://")):
                urls.append(image)
            elif base:
                urls.append(base.rstrip("/") + "/" + quote(image.lstrip("/").replace("\\", "/")))
            else:
                missing.append(image)
        return urls[:MAX_IMAGES], missing

    # ------------------------------------------------------------ listings
    def _product_facts(self, p: Projection) -> tuple[Attributes, list[str]]:
        """What describes the product (the parent's and the child's alike)."""
        tag = language_tag(p.language, self.marketplace)
        attrs: Attributes = {
            "item_name": [self._text(p.title, tag)],
            "brand": [self._text(self.settings.brand or GENERIC_BRAND, tag)],
        }
        if p.description:
            desc_tag = language_tag(p.description_language or p.language, self.marketplace)
            attrs["product_description"] = [self._text(p.description, desc_tag)]
        if p.materials:
            attrs["material"] = [self._text(m, tag) for m in p.materials]
        warnings: list[str] = []
        urls, missing = self.image_urls(p)
        if urls:
            attrs["main_product_image_locator"] = [
                {"media_location": urls[0], "marketplace_id": self.mid}
            ]
            for n, url in enumerate(urls[1:], start=1):
                attrs[f"other_product_image_locator_{n}"] = [
                    {"media_location": url, "marketplace_id": self.mid}
                ]
        if missing:
            warnings.append(
                f"{len(missing)} local photo(s) not sent to Amazon ({', '.join(missing)}): "
                "set image_base_url to where they are published"
            )
        mapped, more = self.mapped(p)
        attrs.update(mapped)
        return attrs, warnings + more

    def mapped(self, p: Projection) -> tuple[Attributes, list[str]]:
        """The attributes of the mapping table for the product's type, from catalog fields."""
        table = {
            **self.settings.attributes.get("*", {}),
            **self.settings.attributes.get(p.category, {}),
        }
        fields: Mapping[str, str] = dict(p.attributes)
        options = dict(p.options)
        tag = language_tag(p.language, self.marketplace)
        out: Attributes = {}
        warnings: list[str] = []
        for name, source in table.items():
            field, _, unit = source.partition("|")
            entry_tag: str | None = None
            if field.startswith("="):
                value: str | None = field[1:]
            elif field == "tags":
                value, entry_tag = " ".join(p.tags) or None, tag
            elif field == "materials":
                value, entry_tag = ", ".join(p.materials) or None, tag
            elif field.startswith("option:"):
                value, entry_tag = options.get(field[len("option:") :]), tag
            else:
                value = fields.get(field)
            if value is None or value == "":
                continue
            if unit:
                try:
                    measured = number(Decimal(value))
                except (InvalidOperation, ValueError):
                    warnings.append(f"{name}: {value!r} is not a number; not sent")
                    continue
                out[name] = [{"value": measured, "unit": unit, "marketplace_id": self.mid}]
            else:
                out[name] = [self._text(value, entry_tag)]
        return out, warnings

    def theme(self, p: Projection) -> tuple[str, list[tuple[str, str]]] | None:
        """The variation theme of a variant and its (Amazon attribute, value) pairs."""
        if not p.options:
            return None
        pairs = [
            (
                self.settings.variation_attributes.get(name)
                or _OPTION_ATTRIBUTES.get(name.lower())
                or _slug(name),
                value,
            )
            for name, value in p.options
        ]
        names = sorted({a for a, _ in pairs}, key=lambda a: (_THEME_ORDER.get(a, 9), a))
        theme = self.settings.variation_themes.get(p.category) or "/".join(n.upper() for n in names)
        return theme, pairs

    def listing(self, p: Projection) -> tuple[dict[str, Any], list[str]]:
        """The body of a putListingsItem (and a feed's UPDATE): product facts and offer."""
        attrs, warnings = self._product_facts(p)
        attrs["condition_type"] = [{"value": CONDITION, "marketplace_id": self.mid}]
        attrs["purchasable_offer"] = self.offer(p)
        attrs["fulfillment_availability"] = self.availability(p.quantity, self._lead_days(p))
        if p.parent_sku:
            found = self.theme(p)
            if found is None:
                warnings.append(f"variant of {p.parent_sku} without options: listed on its own")
            else:
                theme, pairs = found
                tag = language_tag(p.language, self.marketplace)
                attrs["parentage_level"] = [{"marketplace_id": self.mid, "value": "child"}]
                attrs["child_parent_sku_relationship"] = [
                    {
                        "marketplace_id": self.mid,
                        "child_relationship_type": "variation",
                        "parent_sku": p.parent_sku,
                    }
                ]
                attrs["variation_theme"] = [{"name": theme}]
                for name, value in pairs:
                    attrs[name] = [self._text(value, tag)]
        return {"productType": p.category, "requirements": "LISTING", "attributes": attrs}, warnings

    def parent(self, p: Projection) -> dict[str, Any] | None:
        """The parent listing of a variant's family (product facts only: it is not sold
        itself), or None when the variant has no options to vary by."""
        found = self.theme(p)
        if found is None or not p.parent_sku:
            return None
        attrs, _ = self._product_facts(p)
        attrs["parentage_level"] = [{"marketplace_id": self.mid, "value": "parent"}]
        attrs["variation_theme"] = [{"name": found[0]}]
        return {
            "productType": p.category,
            "requirements": "LISTING_PRODUCT_ONLY",
            "attributes": attrs,
        }

    # ------------------------------------------------------------ patches
    def reprice(self, p: Projection) -> list[Patch]:
        return [{"op": "replace", "path": "/attributes/purchasable_offer", "value": self.offer(p)}]

    def restock(self, quantity: int) -> list[Patch]:
        """Only the seller-fulfilled quantity: a merge leaves every other key as it is."""
        return [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": self.availability(quantity),
            }
        ]
