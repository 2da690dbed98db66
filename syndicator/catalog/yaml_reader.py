"""Catalog rows from a YAML file.

The YAML shape (``products:`` with nested ``title:``, ``variants:``, ``channels:`` ...) is
flattened into the same :class:`~syndicator.catalog.build.Row` objects the CSV reader makes,
so that one set of rules serves both formats. Unknown keys are reported with a "did you
mean", duplicate keys are errors, and every value keeps its line.
"""

from __future__ import annotations

from typing import Any

from syndicator.catalog.build import OVERRIDE_FIELDS, TEXT_FIELDS, Cell, Row
from syndicator.languages import is_language
from syndicator.problems import Problem, Severity, Unreadable, did_you_mean
from syndicator.yamlsafe import LDict, LList, YamlLimits, load_yaml

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
_VARIANT_KEYS = (
    "sku",
    "options",
    "price",
    "stock",
    "images",
    "weight_kg",
    "dimensions_cm",
    "channels",
)
_DIMENSIONS = {"length": "length_cm", "width": "width_cm", "height": "height_cm"}
_PROVENANCE = ("region", "artisan")
_TOP = ("cooperative", "currency", "products")


class _Flattener:
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

    def scalar(self, row: Row, target: dict[str, Cell], key: str, value: Any, line: int) -> None:
        if value is None:
            return
        if isinstance(value, (LDict, LList)):
            self.problem(row, line, f"{key} must be one value, not a list or a mapping")
            return
        target[key] = Cell(value, line)

    def listing(self, row: Row, target: dict[str, Cell], key: str, value: Any, line: int) -> None:
        if value is None:
            return
        if isinstance(value, LList):
            if any(isinstance(v, (LDict, LList)) for v in value):
                self.problem(row, line, f"{key} must be a list of words, like [wool, cotton]")
                return
            target[key] = Cell([v for v in value if v is not None], line)
        elif isinstance(value, LDict):
            self.problem(row, line, f"{key} must be a list, like [wool, cotton]")
        else:
            target[key] = Cell(value, line)

    def texts(self, row: Row, target: dict[str, Cell], key: str, value: Any, line: int) -> None:
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
            self.scalar(row, target, f"{key}:{lang}", text, value.line_of(lang))

    def dimensions(self, row: Row, value: Any, line: int) -> None:
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(
                row, line, "dimensions_cm must be a mapping: {length: 250, width: 160, height: 2}"
            )
            return
        self.duplicates(row, value)
        for key, item in value.items():
            if key in _DIMENSIONS:
                self.scalar(row, row.fields, _DIMENSIONS[key], item, value.line_of(key))
            else:
                self.unknown(row, value, key, tuple(_DIMENSIONS), "dimension")

    def channels(self, row: Row, value: Any, line: int) -> None:
        if value is None:
            return
        if not isinstance(value, LDict):
            self.problem(row, line, "channels must be a mapping of shop ids, like etsy: {...}")
            return
        self.duplicates(row, value)
        for channel, fields in value.items():
            cells: dict[str, Cell] = row.overrides.setdefault(channel, {})
            cline = value.line_of(channel)
            if fields is None:
                continue
            if not isinstance(fields, LDict):
                self.problem(row, cline, f"channels: {channel} must be a mapping of fields")
                continue
            self.duplicates(row, fields)
            for key, item in fields.items():
                iline = fields.line_of(key)
                if key in TEXT_FIELDS:
                    self.texts(row, cells, key, item, iline)
                elif key == "tags":
                    self.listing(row, cells, key, item, iline)
                elif key in OVERRIDE_FIELDS:
                    self.scalar(row, cells, key, item, iline)
                else:
                    self.unknown(
                        row,
                        fields,
                        key,
                        (*OVERRIDE_FIELDS, *TEXT_FIELDS),
                        "field a shop can change",
                    )

    def product(self, item: Any, line: int) -> list[Row]:
        row = Row(line)
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
                self.scalar(row, row.fields, key, value, kline)
            elif key in _LISTS:
                self.listing(row, row.fields, key, value, kline)
            elif key in TEXT_FIELDS:
                self.texts(row, row.fields, key, value, kline)
            elif key == "dimensions_cm":
                self.dimensions(row, value, kline)
            elif key == "provenance":
                if isinstance(value, LDict):
                    self.duplicates(row, value)
                    for pkey, pvalue in value.items():
                        if pkey in _PROVENANCE:
                            self.scalar(row, row.fields, pkey, pvalue, value.line_of(pkey))
                        else:
                            self.unknown(row, value, pkey, _PROVENANCE, "provenance field")
                elif value is not None:
                    self.problem(
                        row, kline, "provenance must be a mapping: {region: ..., artisan: ...}"
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
            row = Row(vline)
            rows.append(row)
            row.fields["parent_sku"] = Cell(
                parent_sku.value if parent_sku else "(product without sku)", vline
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
                if key in ("sku", "price", "stock", "weight_kg"):
                    self.scalar(row, row.fields, key, v, kline)
                elif key == "images":
                    self.listing(row, row.fields, key, v, kline)
                elif key == "dimensions_cm":
                    self.dimensions(row, v, kline)
                elif key == "channels":
                    self.channels(row, v, kline)
                elif key == "options":
                    if isinstance(v, LDict):
                        self.duplicates(row, v)
                        for name, option in v.items():
                            self.scalar(row, row.fields, f"option:{name}", option, v.line_of(name))
                    elif v is not None:
                        self.problem(
                            row,
                            kline,
                            "options must be a mapping, like {size: 120 x 180 cm, colour: safran}",
                        )
                else:
                    self.unknown(row, item, key, _VARIANT_KEYS, "variant field")
        return rows


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
    return rows, problems, cooperative.strip() if cooperative else None
