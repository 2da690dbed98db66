"""Catalog rows from a YAML file.

The YAML shape (``products:`` with nested ``title:``, ``variants:``, ``channels:`` ...) is
flattened into the same :class:`~syndicator.catalog.rules.Row` objects the CSV reader makes,
so that one set of rules serves both formats. Unknown keys are reported with a "did you
mean", duplicate keys are errors, and every value keeps its line.
"""

from __future__ import annotations

import hashlib
from typing import Any

from syndicator.catalog.rules import OVERRIDE_FIELDS, TEXT_FIELDS, Raw, Row
from syndicator.common.problems import Problem, Severity, Unreadable, did_you_mean
from syndicator.common.yamlsafe import LDict, LList, YamlLimits, load_yaml
from syndicator.domain.languages import is_language

__all__ = ["read_yaml_rows"]

_SCALARS = (
    "sku",
    "category",
    "price",
    "stock",
    "who_made",
    "when_made",
    "made_to_order_days",
    "weight_kg",
    "hs_code",
)
_LISTS = ("materials", "tags", "images")
_PRODUCT_KEYS = (
    *_SCALARS,
    *_LISTS,
    *TEXT_FIELDS,
    "dimensions_cm",
    "provenance",
    "variants",
    "channels",
)
_VARIANT_SCALARS = ("sku", "price", "stock", "weight_kg")
_VARIANT_KEYS = (*_VARIANT_SCALARS, "options", "images", "dimensions_cm", "channels")
_DIMENSIONS = {"length": "length_cm", "width": "width_cm", "height": "height_cm"}
_PROVENANCE = ("region", "artisan")
_TOP = ("cooperative", "currency", "products")


class _Flattener:
    """Turns one product mapping (and its variants) into rows, noting what is wrong."""

    def __init__(self, file: str) -> None:
        self.file = file

    def problem(
        self, row: Row, line: int, message: str, severity: Severity = Severity.ERROR
    ) -> None:
        row.problems.append(Problem(self.file, line, message, None, severity))

    def unknown(
        self, row: Row, mapping: LDict, key: str, allowed: tuple[str, ...], what: str
    ) -> None:
        self.problem(
            row,
            mapping.line_of(key),
            f'"{key}" is not a {what}{did_you_mean(key, allowed)}; it is ignored',
            Severity.WARNING,
        )

    def duplicates(self, row: Row, mapping: LDict) -> None:
        for key, first, second in mapping.duplicates:
            self.problem(
                row, second, f'"{key}" is written twice (lines {first} and {second}); keep one'
            )

    @staticmethod
    def put(row: Row, channel: str | None, key: str, value: Raw, line: int) -> None:
        """Store a value for the product (``channel`` None) or for one shop's override."""
        assert row.lines is not None
        if channel is None:
            row.fields[key] = value
            row.lines[key] = line
        else:
            row.overrides.setdefault(channel, {})[key] = value
            row.lines[f"{channel}/{key}"] = line

    def scalar(self, row: Row, key: str, value: Any, line: int, channel: str | None = None) -> None:
        if value is None:
            return
        if isinstance(value, (LDict, LList)):
            self.problem(row, line, f"{key} must be one value, not a list or a mapping")
            return
        self.put(row, channel, key, value, line)

    def listing(
        self, row: Row, key: str, value: Any, line: int, channel: str | None = None
    ) -> None:
        if value is None:
            return
        if isinstance(value, LList):
            if any(isinstance(v, (LDict, LList)) for v in value):
                self.problem(row, line, f"{key} must be a list of words, like [wool, cotton]")
                return
            self.put(row, channel, key, [v for v in value if v is not None], line)
        elif isinstance(value, LDict):
            self.problem(row, line, f"{key} must be a list, like [wool, cotton]")
        else:
            self.put(row, channel, key, value, line)

    def texts(self, row: Row, key: str, value: Any, line: int, channel: str | None = None) -> None:
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(
                row,
                line,
                f"{key} needs a language for each text, for example {key}: {{fr: ..., en: ...}}",
            )
            return
        self.duplicates(row, value)
        for lang, text in value.items():
            if not is_language(lang):
                self.problem(
                    row,
                    value.line_of(lang),
                    f'"{lang}" is not a language code; use a two-letter code such as ar, fr '
                    "or en (this text is ignored)",
                    Severity.WARNING,
                )
                continue
            self.scalar(row, f"{key}:{lang}", text, value.line_of(lang), channel)

    def mapping(
        self, row: Row, value: Any, line: int, fields: dict[str, str], what: str, example: str
    ) -> None:
        """A small mapping whose keys become fields: dimensions_cm, provenance."""
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(row, line, f"{what} must be a mapping: {example}")
            return
        self.duplicates(row, value)
        for key, item in value.items():
            if key in fields:
                self.scalar(row, fields[key], item, value.line_of(key))
            else:
                self.unknown(row, value, key, tuple(fields), f"{what} field")

    def channels(self, row: Row, value: Any, line: int) -> None:
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(row, line, "channels must be a mapping of shop ids, like etsy: {...}")
            return
        self.duplicates(row, value)
        assert row.lines is not None
        for channel, fields in value.items():
            row.overrides.setdefault(channel, {})
            row.lines[channel] = value.line_of(channel)
            if fields is None:
                continue
            if not isinstance(fields, LDict):
                self.problem(
                    row, value.line_of(channel), f"channels: {channel} must be a mapping of fields"
                )
                continue
            self.duplicates(row, fields)
            for key, item in fields.items():
                iline = fields.line_of(key)
                if key in TEXT_FIELDS:
                    self.texts(row, key, item, iline, channel)
                elif key == "tags":
                    self.listing(row, key, item, iline, channel)
                elif key in OVERRIDE_FIELDS:
                    self.scalar(row, key, item, iline, channel)
                else:
                    self.unknown(
                        row,
                        fields,
                        key,
                        (*OVERRIDE_FIELDS, *TEXT_FIELDS),
                        "field a shop can change",
                    )

    def product(self, item: Any, line: int) -> list[Row]:
        row = Row(line, lines={})
        if not isinstance(item, LDict):
            self.problem(
                row,
                line,
                "each product must be a mapping of fields (sku: ..., title: ..., price: ...)",
            )
            return [row]
        self.duplicates(row, item)
        rows = [row]
        for key, value in item.items():
            kline = item.line_of(key)
            if key in _SCALARS:
                self.scalar(row, key, value, kline)
            elif key in _LISTS:
                self.listing(row, key, value, kline)
            elif key in TEXT_FIELDS:
                self.texts(row, key, value, kline)
            elif key == "dimensions_cm":
                self.mapping(
                    row,
                    value,
                    kline,
                    _DIMENSIONS,
                    "dimensions_cm",
                    "{length: 250, width: 160, height: 2}",
                )
            elif key == "provenance":
                self.mapping(
                    row,
                    value,
                    kline,
                    dict(zip(_PROVENANCE, _PROVENANCE, strict=True)),
                    "provenance",
                    "{region: ..., artisan: ...}",
                )
            elif key == "channels":
                self.channels(row, value, kline)
            elif key == "variants":
                rows += self.variants(row, value, kline)
            else:
                self.unknown(row, item, key, _PRODUCT_KEYS, "product field")
        return rows

    def variants(self, parent: Row, value: Any, line: int) -> list[Row]:
        if value is None:
            return []
        if not isinstance(value, LList):
            self.problem(parent, line, "variants must be a list, each starting with - sku: ...")
            return []
        parent_sku = parent.fields.get("sku")
        rows: list[Row] = []
        for index, item in enumerate(value):
            vline = value.line_of(index)
            row = Row(vline, lines={})
            rows.append(row)
            row.fields["parent_sku"] = (
                parent_sku if isinstance(parent_sku, str) else "(product without sku)"
            )
            if not isinstance(item, LDict):
                self.problem(
                    row,
                    vline,
                    "each variant must be a mapping: - sku: ..., options: {...}, stock: ...",
                )
                continue
            self.duplicates(row, item)
            for key, v in item.items():
                kline = item.line_of(key)
                if key in _VARIANT_SCALARS:
                    self.scalar(row, key, v, kline)
                elif key == "images":
                    self.listing(row, key, v, kline)
                elif key == "dimensions_cm":
                    self.mapping(
                        row,
                        v,
                        kline,
                        _DIMENSIONS,
                        "dimensions_cm",
                        "{length: 250, width: 160, height: 2}",
                    )
                elif key == "channels":
                    self.channels(row, v, kline)
                elif key == "options":
                    if isinstance(v, LDict):
                        self.duplicates(row, v)
                        for name, option in v.items():
                            self.scalar(row, f"option:{name}", option, v.line_of(name))
                    elif v is not None:
                        self.problem(
                            row,
                            kline,
                            "options must be a mapping, like {size: 120 x 180 cm, colour: safran}",
                        )
                else:
                    self.unknown(row, item, key, _VARIANT_KEYS, "variant field")
        return rows


def _digest(row: Row) -> str:
    text = repr((sorted(row.fields.items()), sorted(row.overrides.items())))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def read_yaml_rows(
    text: str, file: str, limits: YamlLimits | None = None
) -> tuple[list[Row], list[Problem], str | None]:
    """Rows of a YAML catalog, problems outside any product, and its cooperative id."""
    data = load_yaml(text, file, limits)
    if not isinstance(data, LDict):
        raise Unreadable(
            Problem(
                file,
                getattr(data, "line", 1),
                "a YAML catalog starts with cooperative:, currency: MAD and products: (see "
                "docs/catalog.md)",
            )
        )
    if data.duplicates:
        key, first, second = data.duplicates[0]
        raise Unreadable(
            Problem(
                file, second, f'"{key}" is written twice (lines {first} and {second}); keep one'
            )
        )
    problems: list[Problem] = []
    for key in data:
        if key not in _TOP:
            problems.append(
                Problem(
                    file,
                    data.line_of(key),
                    f'"{key}" is not a catalog field{did_you_mean(key, _TOP)}; it is ignored',
                    None,
                    Severity.WARNING,
                )
            )
    currency = data.get("currency")
    if currency is not None and str(currency).strip().upper() != "MAD":
        raise Unreadable(
            Problem(
                file,
                data.line_of("currency"),
                f'currency is "{currency}", but catalog prices are in Moroccan dirhams: write '
                "currency: MAD (each shop's currency is set in the daemon config)",
            )
        )
    products = data.get("products")
    if not isinstance(products, LList):
        raise Unreadable(
            Problem(
                file,
                data.line_of("products") if "products" in data else data.line,
                "products: must be a list of products, each starting with - sku: ...",
            )
        )
    cooperative = data.get("cooperative")
    if isinstance(cooperative, (LDict, LList)):
        raise Unreadable(
            Problem(
                file,
                data.line_of("cooperative"),
                "cooperative must be the cooperative's id, like atlas-rugs",
            )
        )
    flattener = _Flattener(file)
    rows: list[Row] = []
    for index, item in enumerate(products):
        rows += flattener.product(item, products.line_of(index))
    for row in rows:
        row.digest = _digest(row)
    return rows, problems, cooperative.strip() if cooperative else None
